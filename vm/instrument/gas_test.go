package instrument_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dualchain/dualchain/vm/instrument"
	w "github.com/dualchain/dualchain/vm/instrument/instrumenttest"
)

// countdown is a function with one local that loops n times:
//
//	i32.const n  local.set 0  loop                           ;; entry: 3 + 1 local
//	  local.get 0  i32.const 1  i32.sub  local.tee 0  br_if 0 ;; 5 per turn
//	end
func countdown(n int32) [][]byte {
	return [][]byte{
		w.I32Const(n), w.With(w.LocalSet, 0), w.Op(w.Loop, w.BlockEmpty),
		w.With(w.LocalGet, 0), w.I32Const(1), w.Op(w.I32Sub), w.With(w.LocalTee, 0), w.With(w.BrIf, 0),
		w.Op(w.End),
	}
}

func loopModule(n int32) []byte {
	m := contract()
	m.Export("run", w.KindFunc, m.Func(m.Type(void, void), []byte{w.I32}, countdown(n)...))
	return m.Bytes()
}

// TestGasExact checks the counting rules on hand-counted functions.
func TestGasExact(t *testing.T) {
	// bulk has a 64-byte passive data segment and a function "bulk" of
	// four instructions with its arguments: (0, 3, n).
	bulk := func(n int32, op ...byte) []byte {
		return build(func(m *w.Module) {
			m.PassiveData(make([]byte, 64))
			m.Export("bulk", w.KindFunc, m.Func(0, noLoc, zero, w.I32Const(3), w.I32Const(n), w.Op(op...)))
		})
	}
	tests := []struct {
		name string
		wasm []byte
		fn   string
		want int64
	}{
		{"empty", code(w.Op()), "run", 0},
		{"straight line", code(zero, w.Op(w.Drop, w.Nop)), "run", 3},
		{"loop of 10", loopModule(10), "run", 4 + 10*5},
		{"if taken", code(w.I32Const(1), w.Op(w.If, w.BlockEmpty), w.I32Const(2), w.Op(w.Drop, w.Else, w.Nop, w.Nop, w.Nop, w.End)), "run", 2 + 2},
		{"else taken", code(zero, w.Op(w.If, w.BlockEmpty), w.I32Const(2), w.Op(w.Drop, w.Else, w.Nop, w.Nop, w.Nop, w.End)), "run", 2 + 3},
		{"block and br", code(w.Op(w.Block, w.BlockEmpty, w.Br, 0, w.Nop, w.End, w.Nop)), "run", 1 + 1 + 1},
		{"return", code(w.Op(w.Nop, w.Return, w.Nop)), "run", 2},
		{"call", build(func(m *w.Module) {
			callee := m.Func(0, []byte{w.I64, w.I64}, w.Op(w.Nop))
			m.Export("caller", w.KindFunc, m.Func(0, noLoc, w.With(w.Call, callee), w.Op(w.Nop)))
		}), "caller", 2 + (2 + 1)},
		{"memory.grow", code(w.I32Const(3), w.Op(w.MemoryGrow, 0, w.Drop)), "run", 3 + 3*2000},
		{"memory.grow past the maximum", build(func(m *w.Module) {
			m.Export("grow", w.KindFunc, m.Func(0, noLoc, w.I32Const(100), w.Op(w.MemoryGrow, 0, w.Drop)))
		}), "grow", 3 + 100*2000},
		{"memory.fill", bulk(100, w.Prefix, 11, 0), "bulk", 4 + 4},
		{"memory.copy", bulk(96, w.Prefix, 10, 0, 0), "bulk", 4 + 3},
		{"memory.init", bulk(33, w.Prefix, 8, 0, 0), "bulk", 4 + 2},
		{"memory.fill of 0", bulk(0, w.Prefix, 11, 0), "bulk", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustInstrument(t, tt.wasm, instrument.DefaultOptions())
			const gas = 1_000_000
			left, _, err := call(t, m.Wasm, tt.fn, gas)
			if err != nil {
				t.Fatalf("%s = %v", tt.fn, err)
			}
			if used := gas - left; used != tt.want {
				t.Errorf("%s used %d gas, want %d", tt.fn, used, tt.want)
			}
		})
	}
}

// TestGasDeterministic runs the same call on fresh runtimes and expects
// the same gas each time.
func TestGasDeterministic(t *testing.T) {
	m := mustInstrument(t, loopModule(100_000), instrument.DefaultOptions())
	var used []int64
	for range 3 {
		left, _, err := call(t, m.Wasm, "run", 1<<40)
		if err != nil {
			t.Fatalf("run = %v", err)
		}
		used = append(used, 1<<40-left)
	}
	if used[0] != 4+100_000*5 || used[1] != used[0] || used[2] != used[0] {
		t.Errorf("gas used on three runtimes = %v, want %d each", used, 4+100_000*5)
	}
}

// TestOutOfGas checks that runaway modules stop by gas: the call traps and
// leaves the gas global negative.
func TestOutOfGas(t *testing.T) {
	tests := []struct {
		name string
		code [][]byte
		gas  int64
	}{
		{"infinite loop", [][]byte{w.Op(w.Loop, w.BlockEmpty, w.Br, 0, w.End)}, 10_000_000},
		{"grow bomb", [][]byte{w.Op(w.Loop, w.BlockEmpty), w.I32Const(1), w.Op(w.MemoryGrow, 0, w.Drop, w.Br, 0, w.End)}, 1_000_000},
		{"fill bomb", [][]byte{w.Op(w.Loop, w.BlockEmpty), zero, zero, w.I32Const(65536), w.Op(w.Prefix, 11, 0, w.Br, 0, w.End)}, 10_000_000},
		{"no gas", [][]byte{w.Op(w.Nop)}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustInstrument(t, code(tt.code...), instrument.DefaultOptions())
			start := time.Now()
			left, mod, err := call(t, m.Wasm, "run", tt.gas)
			if err == nil || !strings.Contains(err.Error(), "unreachable") || left >= 0 {
				t.Fatalf("run = %v with %d gas left, want an unreachable trap and negative gas", err, left)
			}
			if pages, _ := mod.Memory().Grow(0); pages > 64 {
				t.Errorf("memory has %d pages, past the 64 allowed", pages)
			}
			t.Logf("stopped after %v", time.Since(start))
		})
	}
}

// TestGrowChargedPerPage checks that a grow the gas can't pay for traps
// before growing.
func TestGrowChargedPerPage(t *testing.T) {
	m := mustInstrument(t, code(w.I32Const(10), w.Op(w.MemoryGrow, 0, w.Drop)), instrument.DefaultOptions())
	left, mod, err := call(t, m.Wasm, "run", 3+9*2000)
	if err == nil || left >= 0 {
		t.Fatalf("run = %v with %d gas left, want out of gas", err, left)
	}
	if pages, _ := mod.Memory().Grow(0); pages != 1 {
		t.Errorf("memory has %d pages after the refused grow, want 1", pages)
	}
}

// TestDeepRecursion checks that unbounded recursion traps at the call depth
// limit, with gas left and the depth global past the limit, at the same gas
// every time: the limit, not wazero's stack, stops it.
func TestDeepRecursion(t *testing.T) {
	m := contract()
	m.Export("run", w.KindFunc, m.Func(m.Type(void, void), noLoc, w.With(w.Call, 0)))
	in := mustInstrument(t, m.Bytes(), instrument.DefaultOptions())
	var used []int64
	for range 2 {
		mod, gas := instantiate(t, in.Wasm, 1<<50)
		_, err := mod.ExportedFunction("run").Call(context.Background())
		left := int64(gas.Get())
		depth := uint32(mod.ExportedGlobal(instrument.DepthGlobal).Get())
		if err == nil || !strings.Contains(err.Error(), "unreachable") || left <= 0 || depth <= instrument.DefaultOptions().MaxCallDepth {
			t.Fatalf("run = %v with %d gas left, depth %d, want a trap at the depth limit with gas left", err, left, depth)
		}
		used = append(used, 1<<50-left)
	}
	if used[0] != used[1] {
		t.Errorf("recursion used %d gas, then %d", used[0], used[1])
	}
}
