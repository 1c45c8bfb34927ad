package instrument_test

import (
	"context"
	"os"
	"testing"

	"github.com/tetratelabs/wazero/api"

	"github.com/dualchain/dualchain/vm/instrument"
	w "github.com/dualchain/dualchain/vm/instrument/instrumenttest"
)

// bigModule returns a module of about size bytes: copies of the third
// seed's function, which uses most instruction families.
func bigModule(size int) []byte {
	m := contract(w.Op(w.Nop))
	d := m.PassiveData([]byte("bench"))
	typ := m.Type([]byte{w.I32}, []byte{w.I32})
	m.Table(1, 1)
	m.Elements(0, 0)
	body := [][]byte{
		w.With(w.LocalGet, 0), w.Op(w.MemoryGrow, 0, w.Drop), zero, zero, w.I32Const(4),
		w.Op(w.Prefix, 8, byte(d), 0), zero, zero, w.I32Const(4), w.Op(w.Prefix, 10, 0, 0),
		w.Op(w.Block, w.BlockEmpty), zero, w.Op(0x0e, 1, 0, 0, w.End), zero, w.Op(0x11, 0, 0),
		w.Op(w.Loop, w.BlockEmpty), w.With(w.LocalGet, 1), w.I32Const(1), w.Op(w.I32Sub), w.With(w.LocalTee, 1),
		w.With(w.BrIf, 0), w.Op(w.End), zero, w.Op(w.If, w.I32), zero, w.Op(w.Else), w.I32Const(1), w.Op(w.End),
	}
	for len(m.Bytes()) < size {
		m.Func(typ, []byte{w.I32, w.I64}, body...)
	}
	return m.Bytes()
}

func BenchmarkInstrument(b *testing.B) {
	token, err := os.ReadFile("testdata/token.wasm")
	if err != nil {
		b.Fatal(err)
	}
	for _, bm := range []struct {
		name string
		wasm []byte
	}{{"token", token}, {"64KiB", bigModule(60 << 10)}} {
		b.Run(bm.name, func(b *testing.B) {
			b.SetBytes(int64(len(bm.wasm)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := instrument.Instrument(bm.wasm, instrument.DefaultOptions()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// fibModule exports fib (i32) -> (i32), recursive: a call and a few small
// blocks per step.
func fibModule() []byte {
	m := contract()
	t := m.Type([]byte{w.I32}, []byte{w.I32})
	f := m.Func(t, noLoc,
		w.With(w.LocalGet, 0), w.I32Const(2), w.Op(w.I32LtU, w.If, w.I32), w.With(w.LocalGet, 0), w.Op(w.Else),
		w.With(w.LocalGet, 0), w.I32Const(1), w.Op(w.I32Sub), w.With(w.Call, 0),
		w.With(w.LocalGet, 0), w.I32Const(2), w.Op(w.I32Sub), w.With(w.Call, 0), w.Op(w.I32Add, w.End))
	m.Export("fib", w.KindFunc, f)
	return m.Bytes()
}

// BenchmarkRun compares running plain modules with running them
// instrumented: a tight loop of a million turns and a recursive fib(25).
func BenchmarkRun(b *testing.B) {
	for _, bm := range []struct {
		name string
		wasm []byte
		fn   string
		args []uint64
	}{
		{"loop", loopModule(1_000_000), "run", nil},
		{"fib", fibModule(), "fib", []uint64{25}},
	} {
		metered := mustInstrument(b, bm.wasm, instrument.DefaultOptions()).Wasm
		for _, v := range []struct {
			name string
			wasm []byte
		}{{"plain", bm.wasm}, {"metered", metered}} {
			b.Run(bm.name+"/"+v.name, func(b *testing.B) {
				ctx := context.Background()
				mod, err := newRuntime(b).Instantiate(ctx, v.wasm)
				if err != nil {
					b.Fatal(err)
				}
				fn := mod.ExportedFunction(bm.fn)
				gas, _ := mod.ExportedGlobal(instrument.GasGlobal).(api.MutableGlobal)
				for b.Loop() {
					if gas != nil {
						gas.Set(1 << 62)
					}
					if _, err := fn.Call(ctx, bm.args...); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
