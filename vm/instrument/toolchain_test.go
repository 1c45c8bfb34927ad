package instrument_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

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
// compiler, whose compiled code the two runtimes share through a cache:
// compiling Go's runtime takes most of a minute under the race detector.
func TestGoProgram(t *testing.T) {
	plain := buildGo(t)
	m := mustInstrument(t, plain, toolchainOptions())
	want := runWASI(t, wazero.NewRuntimeConfigInterpreter(), plain, nil)
	if want == "" {
		t.Fatal("the plain program printed nothing")
	}
	cache := wazero.NewCompilationCache()
	defer cache.Close(context.Background())
	const funds = int64(1) << 50
	var used []int64
	for range 2 {
		gas := funds
		t0 := time.Now()
		if got := runWASI(t, runtimeConfig().WithCompilationCache(cache), m.Wasm, &gas); got != want {
			t.Fatalf("instrumented program printed\n%s\nwant\n%s", got, want)
		}
		used = append(used, funds-gas)
		t.Logf("run %v", time.Since(t0))
	}
	if used[0] <= 0 || used[0] != used[1] {
		t.Errorf("gas used on two runtimes = %v, want the same positive amount", used)
	}
	t.Logf("%d-byte module, %d bytes instrumented, %d gas; output:\n%s", len(plain), len(m.Wasm), used[0], want)
}
