package instrument_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/dualchain/dualchain/vm/instrument"
)

// toolchainOptions let a Go program's module through: floats, WASI
// imports, and the size of Go's runtime.
func toolchainOptions() instrument.Options {
	o := instrument.DefaultOptions()
	o.AllowFloat, o.AllowImports = true, true
	o.MaxCodeSize, o.MaxFunctions, o.MaxGlobals, o.MaxTableSize = 64<<20, 100_000, 1_000, 100_000
	o.MaxMemoryPages = 16384 // 1 GiB
	return o
}

// buildGo builds testdata/goprog for GOOS=wasip1, or skips without go.
func buildGo(t testing.TB) []byte {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go toolchain: %v", err)
	}
	out := filepath.Join(t.TempDir(), "goprog.wasm")
	cmd := exec.Command(goBin, "build", "-o", out, "./testdata/goprog")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build for wasip1: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runWASI runs a WASI command's _start on a fresh runtime of the given
// configuration and returns its standard output. If gas is not nil, the
// module is instrumented: it is funded with *gas and *gas is set to what is
// left.
func runWASI(t testing.TB, cfg wazero.RuntimeConfig, b []byte, gas *int64) string {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	defer rt.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	var stdout bytes.Buffer
	modCfg := wazero.NewModuleConfig().WithStdout(&stdout).WithStderr(&stdout).WithStartFunctions()
	mod, err := rt.InstantiateWithConfig(ctx, b, modCfg)
	if err != nil {
		t.Fatalf("Instantiate = %v", err)
	}
	var g api.MutableGlobal
	if gas != nil {
		g = mod.ExportedGlobal(instrument.GasGlobal).(api.MutableGlobal)
		g.Set(uint64(*gas))
	}
	_, err = mod.ExportedFunction("_start").Call(ctx)
	if exit := (*sys.ExitError)(nil); err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 0) {
		t.Fatalf("_start = %v; output:\n%s", err, stdout.String())
	}
	if gas != nil {
		*gas = int64(g.Get())
	}
	return stdout.String()
}

// TestGoProgram instruments a real Go (wasip1) program: every function of
// it must pass the walker, and the output must validate, print what the
// plain module prints, and use the same gas on two fresh runtimes. The plain
// module runs on wazero's interpreter and the instrumented one on the
// compiler, whose compiled code the two runtimes share through a file cache:
// compiling Go's runtime takes most of a minute under the race detector.
func TestGoProgram(t *testing.T) {
	plain := buildGo(t)
	m := mustInstrument(t, plain, toolchainOptions())
	named := toolchainOptions()
	named.FunctionNames = true
	if names := mustInstrument(t, plain, named).Names; !slices.Contains(names, "main.main") || !slices.Contains(names, "_start") {
		t.Errorf("Names of %d functions lack main.main (name section) or _start (export)", len(names))
	}
	want := runWASI(t, wazero.NewRuntimeConfigInterpreter(), plain, nil)
	if want == "" {
		t.Fatal("the plain program printed nothing")
	}
	cache, err := wazero.NewCompilationCacheWithDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close(context.Background())
	const funds = int64(1) << 50
	var used []int64
	for range 2 {
		gas := funds
		if got := runWASI(t, runtimeConfig().WithCompilationCache(cache), m.Wasm, &gas); got != want {
			t.Fatalf("instrumented program printed\n%s\nwant\n%s", got, want)
		}
		used = append(used, funds-gas)
	}
	if used[0] <= 0 || used[0] != used[1] {
		t.Errorf("gas used on two runtimes = %v, want the same positive amount", used)
	}
	t.Logf("%d-byte module, %d bytes instrumented, %d gas; output:\n%s", len(plain), len(m.Wasm), used[0], want)
}

// buildRust builds testdata/rustprog for wasm32-unknown-unknown with the
// post-MVP features a contract may use, or skips without a rustc that has
// the target (Debian's, as scripts/contracts.sh pins, or one on the PATH).
func buildRust(t testing.TB) []byte {
	t.Helper()
	rustc := "/usr/bin/rustc"
	if _, err := os.Stat(rustc); err != nil {
		if rustc, err = exec.LookPath("rustc"); err != nil {
			t.Skipf("no rustc: %v", err)
		}
	}
	out := filepath.Join(t.TempDir(), "rustprog.wasm")
	cmd := exec.Command(rustc, "--target", "wasm32-unknown-unknown", "--crate-type", "cdylib",
		"-C", "opt-level=2", "-C", "panic=abort", "-C", "strip=symbols",
		"-C", "target-feature=+bulk-memory,+sign-ext,+mutable-globals,+nontrapping-fptoint",
		"-o", out, "testdata/rustprog/lib.rs")
	msg, err := cmd.CombinedOutput()
	if err != nil && bytes.Contains(msg, []byte("can't find crate for `core`")) {
		t.Skipf("%s has no wasm32-unknown-unknown target", rustc)
	}
	if err != nil {
		t.Fatalf("%s: %v\n%s", rustc, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hostFunctions instantiates a "dualchain" module with the three host
// functions testdata/rustprog imports: its input is in, its output goes to
// *out.
func hostFunctions(t testing.TB, rt wazero.Runtime, in []byte, out *[]byte) {
	t.Helper()
	_, err := rt.NewHostModuleBuilder(instrument.HostModule).
		NewFunctionBuilder().WithFunc(func() int32 { return int32(len(in)) }).Export("input_len").
		NewFunctionBuilder().WithFunc(func(_ context.Context, m api.Module, ptr uint32) {
		m.Memory().Write(ptr, in)
	}).Export("input").
		NewFunctionBuilder().WithFunc(func(_ context.Context, m api.Module, ptr, n uint32) {
		b, _ := m.Memory().Read(ptr, n)
		*out = append([]byte(nil), b...)
	}).Export("output").
		Instantiate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
}

// TestRustContract instruments a Rust contract with the default options:
// it must be accepted, and compute what the plain module computes, with
// the same gas on two fresh runtimes.
func TestRustContract(t *testing.T) {
	plain := buildRust(t)
	m := mustInstrument(t, plain, instrument.DefaultOptions())
	if !reflect.DeepEqual(m.Functions, []string{"hash"}) || !reflect.DeepEqual(m.Globals, []string{"__dc_g0", instrument.DepthGlobal}) {
		t.Errorf("Functions, Globals = %v, %v, want [hash], [__dc_g0 %s]", m.Functions, m.Globals, instrument.DepthGlobal)
	}
	input := bytes.Repeat([]byte("dualchain contract input "), 40)
	run := func(b []byte, gas int64) ([]byte, int64) {
		ctx := context.Background()
		rt := newRuntime(t)
		var out []byte
		hostFunctions(t, rt, input, &out)
		mod, err := rt.Instantiate(ctx, b)
		if err != nil {
			t.Fatalf("Instantiate = %v", err)
		}
		g, _ := mod.ExportedGlobal(instrument.GasGlobal).(api.MutableGlobal)
		if g != nil {
			g.Set(uint64(gas))
		}
		if _, err := mod.ExportedFunction("hash").Call(ctx); err != nil {
			t.Fatalf("hash = %v", err)
		}
		if g != nil {
			gas -= int64(g.Get())
		}
		return out, gas
	}
	want, _ := run(plain, 0)
	got1, used1 := run(m.Wasm, 1<<40)
	got2, used2 := run(m.Wasm, 1<<40)
	got3, used3 := run(mustInstrument(t, plain, counting()).Wasm, 1<<40)
	if len(want) != 8 || !bytes.Equal(got1, want) || !bytes.Equal(got2, want) || !bytes.Equal(got3, want) {
		t.Errorf("hash output = %x, %x, counted %x, want %x", got1, got2, got3, want)
	}
	if used1 <= 0 || used1 != used2 || used3 != used1 {
		t.Errorf("gas used on two runtimes = %d, %d, counted %d, want the same positive amount", used1, used2, used3)
	}
	t.Logf("%d-byte module, %d bytes instrumented, %d gas", len(plain), len(m.Wasm), used1)
}
