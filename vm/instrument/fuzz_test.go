package instrument_test

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"reflect"
	"slices"
	"testing"

	"github.com/tetratelabs/wabin/binary"
	"github.com/tetratelabs/wabin/wasm"

	"github.com/dualchain/dualchain/vm/instrument"
	w "github.com/dualchain/dualchain/vm/instrument/instrumenttest"
)

// seeds are valid modules for the fuzzer to mutate, each using a different
// part of the instruction set.
func seeds(t testing.TB) [][]byte {
	token, err := os.ReadFile("testdata/token.wasm")
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{
		token,
		loopModule(10),
		build(func(m *w.Module) {
			d := m.PassiveData([]byte("seed"))
			m.Global(w.I64, true, w.I64Const(7))
			m.Table(2, 2)
			m.Elements(0, 0)
			m.Func(m.Type([]byte{w.I32}, []byte{w.I32}), []byte{w.I64},
				w.With(w.LocalGet, 0), w.Op(w.MemoryGrow, 0, w.Drop), zero, zero, w.I32Const(4),
				w.Op(w.Prefix, 8, byte(d), 0), zero, zero, w.I32Const(4), w.Op(w.Prefix, 10, 0, 0),
				zero, zero, w.I32Const(4), w.Op(w.Prefix, 11, 0), w.Op(w.Block, w.BlockEmpty), zero,
				w.Op(0x0e, 1, 0, 0, w.End, 0xd0, w.FuncRef, 0xd1, w.Drop, 0xd2, 0, w.Drop), zero, w.Op(0x11, 0, 0),
				zero, w.Op(w.If, w.I32), zero, w.Op(w.Else), w.I32Const(1), w.Op(w.End, 0xc0))
		}),
	}
}

// FuzzInstrument checks that Instrument never panics, that it refuses only
// with ErrInvalid, and the same with counting and names on, and that what
// it accepts compiles in wazero, decodes with wabin (a second decoder), with
// or without counting, and comes out the same when instrumented again.
func FuzzInstrument(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	opts := instrument.DefaultOptions()
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := instrument.Instrument(b, opts)
		counted, cerr := instrument.Instrument(b, counting())
		if !reflect.DeepEqual(err, cerr) {
			t.Fatalf("Instrument = %v, with counting and names %v", err, cerr)
		}
		if err != nil {
			if !errors.Is(err, instrument.ErrInvalid) {
				t.Fatalf("Instrument = %v, want ErrInvalid", err)
			}
			return
		}
		compile(t, m.Wasm)
		checkWabin(t, m)
		compile(t, counted.Wasm)
		checkWabin(t, counted)
		again, err := instrument.Instrument(b, opts)
		if err != nil || !bytes.Equal(again.Wasm, m.Wasm) {
			t.Fatalf("Instrument again = %v, or different bytes", err)
		}
	})
}

// checkWabin decodes the instrumented module with wabin and checks that its
// exports include the gas global, the mutable globals and the callable
// functions.
func checkWabin(t testing.TB, m *instrument.Module) {
	t.Helper()
	dm, err := binary.DecodeModule(m.Wasm, wasm.CoreFeaturesV2)
	if err != nil {
		t.Fatalf("wabin DecodeModule(instrumented) = %v", err)
	}
	kinds := map[string]wasm.ExternType{}
	for _, e := range dm.ExportSection {
		kinds[e.Name] = e.Type
	}
	want := map[string]wasm.ExternType{instrument.GasGlobal: wasm.ExternTypeGlobal, "memory": wasm.ExternTypeMemory}
	for _, g := range m.Globals {
		want[g] = wasm.ExternTypeGlobal
	}
	for _, f := range m.Functions {
		want[f] = wasm.ExternTypeFunc
	}
	for name, kind := range want {
		if k, ok := kinds[name]; !ok || k != kind {
			t.Errorf("instrumented exports %v, want %s of kind %d", slices.Sorted(maps.Keys(kinds)), name, kind)
		}
	}
}

// TestSeeds runs the fuzz target's checks on its seeds, which must all be
// accepted.
func TestSeeds(t *testing.T) {
	for i, s := range seeds(t) {
		m, err := instrument.Instrument(s, instrument.DefaultOptions())
		if err != nil {
			t.Fatalf("Instrument(seed %d) = %v", i, err)
		}
		compile(t, m.Wasm)
		checkWabin(t, m)
	}
}
