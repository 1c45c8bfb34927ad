package instrument

import (
	"github.com/tetratelabs/wabin/wasm"
)

// helperKind is an instruction that a call to an injected helper replaces.
type helperKind byte

const (
	helperGrow helperKind = iota // memory.grow: (pages i32) -> (old i32)
	helperFill                   // memory.fill: (dst i32, val i32, n i32)
	helperCopy                   // memory.copy: (dst i32, src i32, n i32)
	helperInit                   // memory.init: (dst i32, off i32, n i32), one per data segment
)

// helper is an injected function; data is memory.init's data segment.
type helper struct {
	kind helperKind
	data uint32
}

var (
	growType = FuncType{Params: []ValueType{I32}, Results: []ValueType{I32}}
	bulkType = FuncType{Params: []ValueType{I32, I32, I32}}
)

func (h helper) funcType() FuncType {
	if h.kind == helperGrow {
		return growType
	}
	return bulkType
}

// call returns the instruction calling h. Helpers are numbered in the order
// the walk first needs them, after every function of the module.
func (in *instrumenter) call(h helper) []byte {
	i, ok := in.helperIndex[h]
	if !ok {
		i = uint32(len(in.m.imports)+len(in.m.funcs)) + uint32(len(in.helpers))
		in.helperIndex[h] = i
		in.helpers = append(in.helpers, h)
	}
	return appendU32([]byte{wasm.OpcodeCall}, i)
}

// body returns h's code: charge the gas for the pages or bytes, then do the
// operation on the arguments.
func (in *instrumenter) body(h helper) []byte {
	o := in.opts
	b := []byte{wasm.OpcodeGlobalGet}
	b = appendU32(b, in.gas)
	if h.kind == helperGrow {
		b = append(b, wasm.OpcodeLocalGet, 0, wasm.OpcodeI64ExtendI32U, wasm.OpcodeI64Const)
		b = appendS64(b, o.GrowPageCost)
		b = append(b, wasm.OpcodeI64Mul)
	} else {
		// ceil(n / BulkChunk) * BulkChunkCost
		b = append(b, wasm.OpcodeLocalGet, 2, wasm.OpcodeI64ExtendI32U, wasm.OpcodeI64Const)
		b = appendS64(b, o.BulkChunk-1)
		b = append(b, wasm.OpcodeI64Add, wasm.OpcodeI64Const)
		b = appendS64(b, o.BulkChunk)
		b = append(b, wasm.OpcodeI64DivU, wasm.OpcodeI64Const)
		b = appendS64(b, o.BulkChunkCost)
		b = append(b, wasm.OpcodeI64Mul)
	}
	b = append(b, wasm.OpcodeI64Sub, wasm.OpcodeGlobalSet)
	b = appendU32(b, in.gas)
	b = appendTrapIfNegative(b, in.gas)
	switch h.kind {
	case helperGrow:
		return append(b, wasm.OpcodeLocalGet, 0, wasm.OpcodeMemoryGrow, 0, wasm.OpcodeEnd)
	case helperFill:
		b = append(b, wasm.OpcodeLocalGet, 0, wasm.OpcodeLocalGet, 1, wasm.OpcodeLocalGet, 2)
		return append(b, wasm.OpcodeMiscPrefix, miscMemoryFill, 0, wasm.OpcodeEnd)
	case helperCopy:
		b = append(b, wasm.OpcodeLocalGet, 0, wasm.OpcodeLocalGet, 1, wasm.OpcodeLocalGet, 2)
		return append(b, wasm.OpcodeMiscPrefix, miscMemoryCopy, 0, 0, wasm.OpcodeEnd)
	default:
		b = append(b, wasm.OpcodeLocalGet, 0, wasm.OpcodeLocalGet, 1, wasm.OpcodeLocalGet, 2)
		b = append(b, wasm.OpcodeMiscPrefix, miscMemoryInit)
		b = appendU32(b, h.data)
		return append(b, 0, wasm.OpcodeEnd)
	}
}

// appendCharge appends the charge of a metered block: subtract its cost
// from the gas global and trap if the gas went negative.
func appendCharge(b []byte, gas uint32, cost int64) []byte {
	b = append(b, wasm.OpcodeGlobalGet)
	b = appendU32(b, gas)
	b = append(b, wasm.OpcodeI64Const)
	b = appendS64(b, cost)
	b = append(b, wasm.OpcodeI64Sub, wasm.OpcodeGlobalSet)
	b = appendU32(b, gas)
	return appendTrapIfNegative(b, gas)
}

// appendCount appends, for n > 0: counter += n. It costs no gas.
func appendCount(b []byte, counter uint32, n int64) []byte {
	if n == 0 {
		return b
	}
	b = append(b, wasm.OpcodeGlobalGet)
	b = appendU32(b, counter)
	b = append(b, wasm.OpcodeI64Const)
	b = appendS64(b, n)
	b = append(b, wasm.OpcodeI64Add, wasm.OpcodeGlobalSet)
	return appendU32(b, counter)
}

// appendTrapIfNegative appends: if gas < 0 { unreachable }.
func appendTrapIfNegative(b []byte, gas uint32) []byte {
	b = append(b, wasm.OpcodeGlobalGet)
	b = appendU32(b, gas)
	return append(b, wasm.OpcodeI64Const, 0, wasm.OpcodeI64LtS,
		wasm.OpcodeIf, 0x40, wasm.OpcodeUnreachable, wasm.OpcodeEnd)
}

// appendEnter appends, before a call of the module's own: depth++, and a
// trap when it passes max. It costs no gas: the call pays as an
// instruction.
func appendEnter(b []byte, depth, max uint32) []byte {
	b = append(b, wasm.OpcodeGlobalGet)
	b = appendU32(b, depth)
	b = append(b, wasm.OpcodeI32Const, 1, wasm.OpcodeI32Add, wasm.OpcodeGlobalSet)
	b = appendU32(b, depth)
	b = append(b, wasm.OpcodeGlobalGet)
	b = appendU32(b, depth)
	b = append(b, wasm.OpcodeI32Const)
	b = appendS64(b, int64(max)) // an i32.const immediate is a signed LEB128 like an i64's
	return append(b, wasm.OpcodeI32GtU, wasm.OpcodeIf, 0x40, wasm.OpcodeUnreachable, wasm.OpcodeEnd)
}

// appendLeave appends, after the call returns: depth--.
func appendLeave(b []byte, depth uint32) []byte {
	b = append(b, wasm.OpcodeGlobalGet)
	b = appendU32(b, depth)
	b = append(b, wasm.OpcodeI32Const, 1, wasm.OpcodeI32Sub, wasm.OpcodeGlobalSet)
	return appendU32(b, depth)
}
