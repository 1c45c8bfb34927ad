package instrument_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dualchain/dualchain/vm/instrument"
	w "github.com/dualchain/dualchain/vm/instrument/instrumenttest"
)

// code returns the bytes of a contract whose function "run" has the code.
func code(c ...[]byte) []byte { return contract(c...).Bytes() }

// build returns the bytes of a contract that f changes first.
func build(f func(m *w.Module)) []byte {
	m := contract(w.Op(w.Nop))
	f(m)
	return m.Bytes()
}

// bare returns the bytes of a module f builds from nothing.
func bare(f func(m *w.Module)) []byte {
	m := &w.Module{}
	f(m)
	return m.Bytes()
}

var (
	f32Const = w.Op(0x43, 0, 0, 0x80, 0x3f)
	i32x3    = []byte{w.I32, w.I32, w.I32}
	zero     = w.I32Const(0)
)

func TestRefusals(t *testing.T) {
	small := instrument.DefaultOptions()
	small.MaxFunctions, small.MaxGlobals, small.MaxLocals, small.MaxCodeSize = 2, 1, 3, 200
	tests := []struct {
		name string
		wasm []byte
		opts *instrument.Options
		want string // in the error's message
	}{
		{"not wasm", []byte("hello, world"), nil, "not a WebAssembly"},
		{"truncated", code(w.Op(w.Nop))[:30], nil, "unexpected end"},
		{"too big", code(make([]byte, 300)), &small, "module of"},
		{"unknown section", build(func(m *w.Module) { m.Section(13, []byte{0}) }), nil, "unknown section id 13"},
		{"section out of order", build(func(m *w.Module) { m.Section(1, []byte{0}) }), nil, "type section out of order"},
		{"section length", bare(func(m *w.Module) { m.Section(6, []byte{1, w.I32, 0, 0x41, 0, 0x0b, 0}) }), nil, "global section has 1 bytes left over"},
		{"count past the end", build(func(m *w.Module) { m.Section(11, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}) }), nil, "passes the end"},
		{"integer too long", build(func(m *w.Module) { m.Section(11, []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0}) }), nil, "integer too long"},
		{"integer too large", build(func(m *w.Module) { m.Section(11, []byte{0x80, 0x80, 0x80, 0x80, 0x10}) }), nil, "integer too large"},
		{"type-invalid code", code(w.Op(w.I32Add)), nil, "invalid module: "},
		{"body ends inside a block", code(w.Op(w.Block, w.BlockEmpty)), nil, ""},
		{"else outside if", code(w.Op(w.Block, w.BlockEmpty, w.Else, w.End)), nil, "else outside an if"},

		{"float param", build(func(m *w.Module) { m.Type([]byte{w.F64}, void) }), nil, "float type f64 in type 1"},
		{"float result", build(func(m *w.Module) { m.Type(void, []byte{w.F32}) }), nil, "float type f32"},
		{"float local", build(func(m *w.Module) { m.Func(0, []byte{w.I32, w.F64}) }), nil, "float type f64 local"},
		{"float global", build(func(m *w.Module) { m.Global(w.F32, false, f32Const) }), nil, "float type f32 in global 0"},
		{"float const", code(f32Const, w.Op(w.Drop)), nil, "float instruction f32.const"},
		{"float load", code(zero, w.Op(0x2b, 3, 0), w.Op(w.Drop)), nil, "float instruction f64.load"},
		{"float arithmetic", code(w.Op(0x92)), nil, "float instruction f32.add"},
		{"float conversion", code(zero, w.Op(0xb2, w.Drop)), nil, "float instruction f32.convert_i32_s"},
		{"float block type", code(w.Op(w.Block, w.F32), f32Const, w.Op(w.End, w.Drop)), nil, "float type f32 in a block refused"},
		{"float typed select", code(w.Op(0x1c, 1, w.F64)), nil, "float type f64 in a select refused"},
		{"saturating truncation", code(f32Const, w.Op(w.Prefix, 0, w.Drop)), nil, "float instruction"},

		{"SIMD instruction", code(w.Op(0xfd, 0x0c), make([]byte, 16), w.Op(w.Drop)), nil, "SIMD instruction refused"},
		{"SIMD type", build(func(m *w.Module) { m.Type([]byte{w.V128}, void) }), nil, "SIMD type v128"},
		{"SIMD block type", code(w.Op(w.Block, w.V128, w.End)), nil, "SIMD type v128 in a block"},
		{"atomic instruction", code(zero, zero, w.Op(0xfe, 0x17, 2, 0)), nil, "atomic (threads) instruction refused"},
		{"shared memory", bare(func(m *w.Module) { m.Section(5, []byte{1, 3, 1, 1}) }), nil, "shared memory (threads) refused"},
		{"64-bit memory", bare(func(m *w.Module) { m.Section(5, []byte{1, 4, 1}) }), nil, "64-bit memory refused"},
		{"start section", build(func(m *w.Module) { m.Start(0) }), nil, "start section refused"},

		{"table.set", code(zero, w.Op(0xd0, w.FuncRef, 0x26, 0)), nil, "table-changing instruction table.set refused"},
		{"table.grow", code(w.Op(0xd0, w.FuncRef), zero, w.Op(w.Prefix, 15, 0, w.Drop)), nil, "table-changing instruction table.grow refused"},
		{"table.fill", code(zero, w.Op(0xd0, w.FuncRef), zero, w.Op(w.Prefix, 17, 0)), nil, "table.fill refused"},
		{"table.copy", code(zero, zero, zero, w.Op(w.Prefix, 14, 0, 0)), nil, "table.copy refused"},
		{"table.init", code(zero, zero, zero, w.Op(w.Prefix, 12, 0, 0)), nil, "table.init refused"},
		{"elem.drop", code(w.Op(w.Prefix, 13, 0)), nil, "elem.drop refused"},
		{"data.drop", build(func(m *w.Module) { d := m.PassiveData([]byte("x")); m.Func(0, noLoc, w.Op(w.Prefix, 9, byte(d))) }), nil, "data.drop refused"},

		{"imported memory", bare(func(m *w.Module) { m.Import("dualchain", "mem", w.Op(w.KindMemory, 0, 1)) }), nil, "imported memory dualchain.mem refused"},
		{"imported table", bare(func(m *w.Module) { m.Import("dualchain", "t", w.Op(w.KindTable, w.FuncRef, 0, 1)) }), nil, "imported table"},
		{"imported global", bare(func(m *w.Module) { m.Import("dualchain", "g", w.Op(w.KindGlobal, w.I32, 0)) }), nil, "imported global"},
		{"import from another module", importing("wasi_snapshot_preview1", "proc_exit", []byte{w.I32}, void), nil, "import wasi_snapshot_preview1.proc_exit refused"},
		{"unknown host function", importing("dualchain", "sleep", []byte{w.I32}, void), nil, "unknown host function dualchain.sleep"},
		{"host function signature", importing("dualchain", "input_len", void, []byte{w.I64}), nil, "input_len imported as () -> (i64) refused, want () -> (i32)"},
		{"host function params", importing("dualchain", "output", i32x3, void), nil, "want (i32, i32) -> ()"},

		{"two memories", build(func(m *w.Module) { m.Memory(1, -1) }), nil, "more than one memory refused"},
		{"two tables", build(func(m *w.Module) { m.Table(1, -1); m.Table(1, -1) }), nil, "more than one table refused"},
		{"memory initial", memory(65, -1), nil, "memory of 65 initial pages refused, limit 64"},
		{"memory maximum", memory(1, 65), nil, "memory of 65 maximum pages refused, limit 64"},
		{"table size", build(func(m *w.Module) { m.Table(10_001, -1) }), nil, "table of 10001 elements refused"},
		{"no memory", bare(func(m *w.Module) { m.Func(m.Type(void, void), noLoc) }), nil, "module has no memory"},
		{"memory not exported", bare(func(m *w.Module) { m.Memory(1, -1); m.Export("mem", w.KindMemory, 0) }), nil, `does not export its memory as "memory"`},
		{"memory name on a function", bare(func(m *w.Module) {
			m.Memory(1, -1)
			m.Export("memory", w.KindFunc, m.Func(m.Type(void, void), noLoc))
		}), nil, `does not export its memory`},
		{"reserved export", build(func(m *w.Module) { m.Export("__dc_gas", w.KindFunc, 0) }), nil, "export __dc_gas refused: the prefix __dc_ is reserved"},

		{"unknown opcode", code(w.Op(0x06)), nil, "unsupported instruction opcode 0x06"},
		{"tail call", code(w.Op(0x12, 0)), nil, "unsupported instruction"},
		{"unknown 0xfc", code(w.Op(w.Prefix, 18)), nil, "unsupported instruction opcode 0xfc 18"},
		{"too many functions", build(func(m *w.Module) { m.Func(0, noLoc); m.Func(0, noLoc) }), &small, "3 functions, more than the limit of 2"},
		{"too many globals", build(func(m *w.Module) {
			m.Global(w.I32, false, zero)
			m.Global(w.I32, false, zero)
		}), &small, "2 globals, more than the limit of 1"},
		{"too many locals", build(func(m *w.Module) { m.Func(0, []byte{w.I32, w.I32, w.I64, w.I64}) }), &small, "4 locals, more than the limit of 3"},
		{"locals bomb", bare(func(m *w.Module) {
			m.Type(void, void)
			m.Section(3, []byte{1, 0})
			m.Section(10, []byte{1, 8, 1, 0xff, 0xff, 0xff, 0xff, 0x0f, w.I32, w.End})
		}), nil, "4294967295 locals, more than the limit of 10000 in function 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := instrument.DefaultOptions()
			if tt.opts != nil {
				opts = *tt.opts
			}
			_, err := instrument.Instrument(tt.wasm, opts)
			if !errors.Is(err, instrument.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Instrument(%s) = %v, want ErrInvalid with %q", tt.name, err, tt.want)
			}
		})
	}
}

// importing returns a contract that imports one function.
func importing(module, name string, params, results []byte) []byte {
	m := &w.Module{}
	m.ImportFunc(module, name, m.Type(params, results))
	m.Memory(1, -1)
	m.Export("memory", w.KindMemory, 0)
	return m.Bytes()
}

// memory returns a module with one memory of the given limits.
func memory(min uint32, max int64) []byte {
	m := &w.Module{}
	m.Memory(min, max)
	m.Export("memory", w.KindMemory, 0)
	return m.Bytes()
}

// TestAccepted checks that every instruction family the toolchains emit is
// accepted and that the output compiles.
func TestAccepted(t *testing.T) {
	tests := []struct {
		name string
		wasm []byte
	}{
		{"host imports", func() []byte {
			m := &w.Module{}
			for name, ft := range instrument.HostImports() {
				var p, r []byte
				for _, v := range ft.Params {
					p = append(p, byte(v))
				}
				for _, v := range ft.Results {
					r = append(r, byte(v))
				}
				m.ImportFunc("dualchain", name, m.Type(p, r))
			}
			m.Memory(1, 2)
			m.Export("memory", w.KindMemory, 0)
			return m.Bytes()
		}()},
		{"sign extension", code(zero, w.Op(0xc0, 0xc1, w.Drop), w.I64Const(1), w.Op(0xc2, 0xc3, 0xc4, w.Drop))},
		{"bulk memory", build(func(m *w.Module) {
			d := m.PassiveData([]byte("hello"))
			m.Func(0, noLoc, zero, zero, w.I32Const(5), w.Op(w.Prefix, 8, byte(d), 0),
				zero, zero, zero, w.Op(w.Prefix, 10, 0, 0), zero, zero, zero, w.Op(w.Prefix, 11, 0))
		})},
		{"reference types", build(func(m *w.Module) {
			m.Table(2, 2)
			m.Elements(0, 0)
			m.Func(0, noLoc, w.Op(0xd0, w.FuncRef, 0xd1, w.Drop, 0xd2, 0, w.Drop), zero, w.Op(0x25, 0, w.Drop, w.Prefix, 16, 0, w.Drop))
		})},
		{"multi-value block", build(func(m *w.Module) {
			t := m.Type([]byte{w.I32}, []byte{w.I32, w.I32})
			m.Func(0, noLoc, zero, w.Op(w.Block, byte(t)), w.I32Const(1), w.Op(w.End, w.Drop, w.Drop))
		})},
		{"typed select", code(zero, zero, zero, w.Op(0x1c, 1, w.I32, w.Drop))},
		{"br_table", code(w.Op(w.Block, w.BlockEmpty, w.Block, w.BlockEmpty), zero, w.Op(0x0e, 2, 0, 1, 0, w.End, w.End))},
		{"call_indirect", build(func(m *w.Module) {
			m.Table(1, -1)
			m.Elements(0, 0)
			m.Func(0, noLoc, zero, w.Op(0x11, 0, 0))
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			compile(t, mustInstrument(t, tt.wasm, instrument.DefaultOptions()).Wasm)
		})
	}
}
