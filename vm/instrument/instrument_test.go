package instrument_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/dualchain/dualchain/vm/instrument"
	w "github.com/dualchain/dualchain/vm/instrument/instrumenttest"
)

// runtimeConfig is wazero's compiler where the host has one, as the node
// runs contracts, and its interpreter elsewhere.
func runtimeConfig() wazero.RuntimeConfig {
	if runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64" {
		return wazero.NewRuntimeConfigCompiler()
	}
	return wazero.NewRuntimeConfigInterpreter()
}

// newRuntime returns a fresh runtime closed when the test ends.
func newRuntime(t testing.TB) wazero.Runtime {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, runtimeConfig())
	t.Cleanup(func() { rt.Close(ctx) })
	return rt
}

// compile fails the test unless wazero compiles b.
func compile(t testing.TB, b []byte) {
	t.Helper()
	if _, err := newRuntime(t).CompileModule(context.Background(), b); err != nil {
		t.Fatalf("CompileModule(instrumented) = %v", err)
	}
}

// call instantiates an instrumented module on a fresh runtime, funds it
// with gas and calls fn. It returns the gas left and the call's error.
func call(t testing.TB, b []byte, fn string, gas int64) (int64, api.Module, error) {
	t.Helper()
	mod, g := instantiate(t, b, gas)
	_, err := mod.ExportedFunction(fn).Call(context.Background())
	return int64(g.Get()), mod, err
}

// instantiate instantiates an instrumented module on a fresh runtime and
// funds it with gas. It returns the module and its gas global.
func instantiate(t testing.TB, b []byte, gas int64) (api.Module, api.MutableGlobal) {
	t.Helper()
	mod, err := newRuntime(t).Instantiate(context.Background(), b)
	if err != nil {
		t.Fatalf("Instantiate = %v", err)
	}
	g := mod.ExportedGlobal(instrument.GasGlobal).(api.MutableGlobal)
	g.Set(uint64(gas))
	return mod, g
}

// mustInstrument instruments b with opts or fails the test.
func mustInstrument(t testing.TB, b []byte, opts instrument.Options) *instrument.Module {
	t.Helper()
	m, err := instrument.Instrument(b, opts)
	if err != nil {
		t.Fatalf("Instrument = %v", err)
	}
	return m
}

var (
	void  = []byte{}
	noLoc = []byte{}
)

// contract returns a module with a one-page memory exported as "memory"
// and, if code is given, a function "run" of type () -> () with that code.
func contract(code ...[]byte) *w.Module {
	m := &w.Module{}
	m.Memory(1, -1)
	m.Export("memory", w.KindMemory, 0)
	if len(code) > 0 {
		m.Export("run", w.KindFunc, m.Func(m.Type(void, void), noLoc, code...))
	}
	return m
}

func TestToken(t *testing.T) {
	b, err := os.ReadFile("testdata/token.wasm")
	if err != nil {
		t.Fatal(err)
	}
	m := mustInstrument(t, b, instrument.DefaultOptions())
	if want := []string{"balance_of", "total_supply", "transfer"}; !reflect.DeepEqual(m.Functions, want) {
		t.Errorf("Functions = %v, want %v", m.Functions, want)
	}
	if m.MemoryPages != 1 || !reflect.DeepEqual(m.Globals, []string{instrument.DepthGlobal}) {
		t.Errorf("MemoryPages, Globals = %d, %v, want 1, [%s]", m.MemoryPages, m.Globals, instrument.DepthGlobal)
	}
	compile(t, m.Wasm)
	again := mustInstrument(t, b, instrument.DefaultOptions())
	if !bytes.Equal(m.Wasm, again.Wasm) {
		t.Errorf("Instrument(token) twice gave different modules")
	}
}

func TestModuleFields(t *testing.T) {
	m := contract(w.Op(w.Nop))
	g0 := m.Global(w.I32, false, w.I32Const(1))
	m.Global(w.I64, true, w.I64Const(2))
	m.Global(w.I32, true, w.I32Const(3))
	m.Export("g0", w.KindGlobal, g0)
	m.Export("helper", w.KindFunc, m.Func(m.Type([]byte{w.I32}, void), noLoc))
	m.Export("alpha", w.KindFunc, m.Func(0, noLoc))
	got := mustInstrument(t, m.Bytes(), instrument.DefaultOptions())
	if want := []string{"alpha", "run"}; !reflect.DeepEqual(got.Functions, want) {
		t.Errorf("Functions = %v, want %v", got.Functions, want)
	}
	if want := []string{"__dc_g1", "__dc_g2", instrument.DepthGlobal}; !reflect.DeepEqual(got.Globals, want) {
		t.Errorf("Globals = %v, want %v", got.Globals, want)
	}
	_, mod, err := call(t, got.Wasm, "run", 100)
	if err != nil {
		t.Fatalf("run = %v", err)
	}
	for name, want := range map[string]uint64{"__dc_g1": 2, "__dc_g2": 3, "g0": 1} {
		if g := mod.ExportedGlobal(name); g == nil || g.Get() != want {
			t.Errorf("global %s = %v, want %d", name, g, want)
		}
	}
	if max, ok := mod.Memory().Definition().Max(); !ok || max != 64 {
		t.Errorf("memory max = %d, %v, want 64, true", max, ok)
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := instrument.DefaultOptions().Validate(); err != nil {
		t.Fatalf("DefaultOptions().Validate() = %v", err)
	}
	for _, mutate := range []func(*instrument.Options){
		func(o *instrument.Options) { o.MaxCodeSize = 0 },
		func(o *instrument.Options) { o.MaxMemoryPages = 65537 },
		func(o *instrument.Options) { o.BulkChunk = 0 },
		func(o *instrument.Options) { o.GrowPageCost = -1 },
		func(o *instrument.Options) { o.BulkChunkCost = 1 << 40 },
	} {
		o := instrument.DefaultOptions()
		mutate(&o)
		if _, err := instrument.Instrument(contract().Bytes(), o); !errors.Is(err, instrument.ErrOptions) {
			t.Errorf("Instrument(%+v) = %v, want ErrOptions", o, err)
		}
	}
}

// TestErrorLocation checks that a refusal in code names the function and
// the offset of the instruction.
func TestErrorLocation(t *testing.T) {
	m := contract(w.Op(w.Nop))
	m.Func(0, noLoc, w.Op(w.Nop, 0x43, 0, 0, 0x80, 0x3f, w.Drop)) // f32.const 1.0
	b := m.Bytes()
	_, err := instrument.Instrument(b, instrument.DefaultOptions())
	var e *instrument.Error
	if !errors.As(err, &e) || !errors.Is(err, instrument.ErrInvalid) {
		t.Fatalf("Instrument = %v, want an *Error", err)
	}
	if e.Func != 1 || e.Offset < 0 || e.Offset >= len(b) || b[e.Offset] != 0x43 {
		t.Errorf("Error = %+v, want function 1 and the offset of f32.const", e)
	}
	if !strings.Contains(err.Error(), "f32.const") {
		t.Errorf("Error() = %q, want it to name f32.const", err)
	}
}
