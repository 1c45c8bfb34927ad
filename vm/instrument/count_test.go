package instrument_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/tetratelabs/wazero/api"

	"github.com/dualchain/dualchain/vm/instrument"
	w "github.com/dualchain/dualchain/vm/instrument/instrumenttest"
)

// counting returns the default options with memory accesses counted and
// functions named.
func counting() instrument.Options {
	o := instrument.DefaultOptions()
	o.CountMemoryOps, o.FunctionNames = true, true
	return o
}

// outcome is what one call of an export did: its gas, its error and, when
// counted, its memory accesses.
type outcome struct {
	gas           int64
	err           string
	loads, stores uint64
}

// runCounted calls fn of an instrumented module with gas, on a fresh
// runtime with host functions that do nothing, and reads the counters when
// the module has them.
func runCounted(t *testing.T, b []byte, fn string, gas int64) outcome {
	t.Helper()
	ctx := context.Background()
	rt := newRuntime(t)
	host := rt.NewHostModuleBuilder(instrument.HostModule)
	for name, ft := range instrument.HostImports() {
		host.NewFunctionBuilder().WithGoFunction(api.GoFunc(func(context.Context, []uint64) {}),
			valueTypes(ft.Params), valueTypes(ft.Results)).Export(name)
	}
	if _, err := host.Instantiate(ctx); err != nil {
		t.Fatal(err)
	}
	mod, err := rt.Instantiate(ctx, b)
	if err != nil {
		t.Fatalf("Instantiate = %v", err)
	}
	g := mod.ExportedGlobal(instrument.GasGlobal).(api.MutableGlobal)
	g.Set(uint64(gas))
	_, err = mod.ExportedFunction(fn).Call(ctx)
	o := outcome{gas: gas - int64(g.Get())}
	if err != nil {
		o.err = trapLine(err)
	}
	if l := mod.ExportedGlobal(instrument.LoadsGlobal); l != nil {
		o.loads, o.stores = l.Get(), mod.ExportedGlobal(instrument.StoresGlobal).Get()
	}
	return o
}

func valueTypes(ts []instrument.ValueType) []api.ValueType {
	out := make([]api.ValueType, len(ts))
	for i, t := range ts {
		out[i] = api.ValueType(t)
	}
	return out
}

// trapLine is the first line of a trap's error, without wazero's stack
// trace, which names functions the counting code does not change.
func trapLine(err error) string {
	s := err.Error()
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}

// TestCountMemoryOps checks the counts on hand-counted functions, and that
// counting changes no gas.
func TestCountMemoryOps(t *testing.T) {
	load, store := w.Op(w.I32Load, 2, 0), w.Op(w.I32Store, 2, 0)
	i64Load := w.Op(0x29, 3, 0)
	tests := []struct {
		name          string
		wasm          []byte
		loads, stores uint64
		trap          bool
	}{
		{"none", code(w.Op(w.Nop)), 0, 0, false},
		{"straight line", code(zero, load, w.Op(w.Drop), zero, w.I32Const(1), store, zero, i64Load, w.Op(w.Drop)), 2, 1, false},
		{"loop of 3", build(func(m *w.Module) {
			m.Export("loop", w.KindFunc, m.Func(0, []byte{w.I32}, w.I32Const(3), w.With(w.LocalSet, 0), w.Op(w.Loop, w.BlockEmpty),
				zero, load, w.Op(w.Drop), w.With(w.LocalGet, 0), w.I32Const(1), w.Op(w.I32Sub), w.With(w.LocalTee, 0),
				w.With(w.BrIf, 0), w.Op(w.End)))
		}), 3, 0, false},
		{"if not taken", code(zero, w.Op(w.If, w.BlockEmpty), zero, load, w.Op(w.Drop, w.End)), 0, 0, false},
		{"memory.copy", code(zero, zero, w.I32Const(8), w.Op(w.Prefix, 10, 0, 0)), 1, 1, false},
		{"memory.fill", code(zero, zero, w.I32Const(8), w.Op(w.Prefix, 11, 0)), 0, 1, false},
		{"memory.init", build(func(m *w.Module) {
			d := m.PassiveData([]byte("data"))
			m.Export("init", w.KindFunc, m.Func(0, noLoc, zero, zero, w.I32Const(4), w.Op(w.Prefix, 8, byte(d), 0)))
		}), 0, 1, false},
		{"grow and size", code(w.I32Const(1), w.Op(w.MemoryGrow, 0, w.Drop, w.MemorySize, 0, w.Drop)), 0, 0, false},
		{"in a callee", build(func(m *w.Module) {
			callee := m.Func(0, noLoc, zero, zero, store)
			m.Export("caller", w.KindFunc, m.Func(0, noLoc, w.With(w.Call, callee), zero, load, w.Op(w.Drop)))
		}), 1, 1, false},
		// A block is counted when it is entered, as it is charged: the load
		// after the division that traps counts.
		{"trap half-way", code(w.I32Const(1), zero, w.Op(0x6e, w.Drop), zero, load, w.Op(w.Drop)), 1, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn := mustInstrument(t, tt.wasm, instrument.DefaultOptions())
			counted := mustInstrument(t, tt.wasm, counting())
			export := fn.Functions[0] // "run", or the export added, which sorts first
			plain := runCounted(t, fn.Wasm, export, 1_000_000)
			got := runCounted(t, counted.Wasm, export, 1_000_000)
			if got.loads != tt.loads || got.stores != tt.stores || (got.err != "") != tt.trap {
				t.Errorf("%s: loads, stores, error = %d, %d, %q, want %d, %d, trap %v", export, got.loads, got.stores, got.err, tt.loads, tt.stores, tt.trap)
			}
			if got.gas != plain.gas || got.err != plain.err {
				t.Errorf("%s counted used %d gas (%q), uncounted %d (%q)", export, got.gas, got.err, plain.gas, plain.err)
			}
		})
	}
}

// TestCountingKeepsGas runs every export of every seed, and of the modules
// in testdata, with and without counting, funded generously and then
// barely: gas, errors and out-of-gas points are the same.
func TestCountingKeepsGas(t *testing.T) {
	for i, s := range seeds(t) {
		plain := mustInstrument(t, s, instrument.DefaultOptions())
		counted := mustInstrument(t, s, counting())
		for _, fn := range plain.Functions {
			for _, gas := range []int64{1_000_000, 50} {
				if a, b := runCounted(t, plain.Wasm, fn, gas), runCounted(t, counted.Wasm, fn, gas); a.gas != b.gas || a.err != b.err {
					t.Errorf("seed %d %s with %d gas: counted %d gas %q, uncounted %d gas %q", i, fn, gas, b.gas, b.err, a.gas, a.err)
				}
			}
		}
	}
}

// TestCountingAcceptsTheSame: counting and naming never change what is
// refused, nor how.
func TestCountingAcceptsTheSame(t *testing.T) {
	modules := append(seeds(t), code(f32Const, w.Op(w.Drop)), []byte("garbage"), bigModule(60<<10))
	for i, b := range modules {
		_, err1 := instrument.Instrument(b, instrument.DefaultOptions())
		_, err2 := instrument.Instrument(b, counting())
		if !reflect.DeepEqual(err1, err2) {
			t.Errorf("module %d: Instrument = %v, with counting %v", i, err1, err2)
		}
	}
}

// nameSection returns a name section naming functions: pairs of index and
// name, in order.
func nameSection(pairs ...any) []byte {
	var entries []byte
	for i := 0; i < len(pairs); i += 2 {
		entries = append(entries, w.U32(uint32(pairs[i].(int)))...)
		entries = append(entries, w.Name(pairs[i+1].(string))...)
	}
	sub := w.Vec(len(pairs)/2, entries)
	module := append([]byte{0}, w.Vec(len("mod"), []byte("mod"))...) // a module-name subsection first
	funcs := append([]byte{1}, w.Vec(len(sub), sub)...)
	return append(append(w.Name("name"), module...), funcs...)
}

// TestFunctionNames: a function's first export name wins over its name in
// the name section; a malformed name section names nothing and refuses
// nothing; the helpers come after every function.
func TestFunctionNames(t *testing.T) {
	named := func(section []byte) []byte {
		return build(func(m *w.Module) {
			typ := m.Type(void, void)
			inner := m.Func(typ, noLoc, w.I32Const(1), w.Op(w.MemoryGrow, 0, w.Drop))
			m.Func(typ, noLoc, w.With(w.Call, inner))
			m.Export("also_run", w.KindFunc, 0)
			m.Section(0, section)
		})
	}
	// Two names announced, one given.
	malformed := append(w.Name("name"), append([]byte{1, 8, 2, 1}, w.Name("inner")...)...)
	tests := []struct {
		name    string
		section []byte
		want    []string
	}{
		{"names", nameSection(0, "$run", 1, "inner", 2, "outer"), []string{"run", "inner", "outer"}},
		{"none", nameSection(), []string{"run", "", ""}},
		{"index past the functions", nameSection(1, "inner", 9, "nine"), []string{"run", "inner", ""}},
		{"malformed", malformed, []string{"run", "", ""}},
		{"malformed after the function names", append(nameSection(1, "inner"), 0xff), []string{"run", "inner", ""}},
		{"truncated", nameSection(1, "inner")[:12], []string{"run", "", ""}},
		{"not UTF-8", nameSection(1, "\xff"), []string{"run", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustInstrument(t, named(tt.section), counting())
			if !reflect.DeepEqual(m.Names, tt.want) {
				t.Errorf("Names = %q, want %q", m.Names, tt.want)
			}
			if m.FirstHelper != 3 || m.GrowHelper != 3 {
				t.Errorf("FirstHelper, GrowHelper = %d, %d, want 3, 3", m.FirstHelper, m.GrowHelper)
			}
			if plain := mustInstrument(t, named(tt.section), instrument.DefaultOptions()); plain.Names != nil {
				t.Errorf("Names without FunctionNames = %q, want nil", plain.Names)
			}
		})
	}
	m := mustInstrument(t, code(zero, zero, zero, w.Op(w.Prefix, 11, 0)), counting())
	if m.FirstHelper != 1 || m.GrowHelper != 0 {
		t.Errorf("a module that fills but never grows: FirstHelper, GrowHelper = %d, %d, want 1, 0", m.FirstHelper, m.GrowHelper)
	}
}

// TestCounterGlobals: the counters are exported i64 globals after the
// depth global, only with the option.
func TestCounterGlobals(t *testing.T) {
	m := mustInstrument(t, code(w.Op(w.Nop)), counting())
	mod, _ := instantiate(t, m.Wasm, 10)
	for _, name := range []string{instrument.LoadsGlobal, instrument.StoresGlobal} {
		g, ok := mod.ExportedGlobal(name).(api.MutableGlobal)
		if !ok || g.Type() != api.ValueTypeI64 || g.Get() != 0 {
			t.Errorf("global %s = %v, want a mutable i64 at 0", name, mod.ExportedGlobal(name))
		}
	}
	plain := mustInstrument(t, code(w.Op(w.Nop)), instrument.DefaultOptions())
	if mod, _ := instantiate(t, plain.Wasm, 10); mod.ExportedGlobal(instrument.LoadsGlobal) != nil {
		t.Errorf("uncounted module exports %s", instrument.LoadsGlobal)
	}
}
