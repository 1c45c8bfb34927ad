package instrument

import (
	"fmt"

	"github.com/tetratelabs/wabin/wasm"
)

// immediate is the kind of immediate operand that follows an opcode.
type immediate byte

const (
	immNone      immediate = iota
	immBlockType           // s33: empty, a value type or a type index
	immU32                 // one u32: label, function, local, global, table, type...
	immBrTable             // a vector of labels and a default label
	immCallInd             // type index, table index
	immMemarg              // align, offset
	immMemory              // the memory index byte 0x00
	immI32                 // s32
	immI64                 // s64
	immF32                 // 4 bytes
	immF64                 // 8 bytes
	immSelectT             // a vector of value types
	immRefType             // a reference type
	immPrefixFC            // a u32 sub-opcode and its immediates
)

// opClass says what metering and the rules make of an opcode.
type opClass byte

const (
	opPlain   opClass = iota // counted, ends no block
	opEnds                   // counted, the next metered block starts after it
	opMarker                 // else and end: not counted, the next block starts after it
	opFloat                  // a float instruction: refused unless AllowFloat
	opGrow                   // memory.grow: replaced by a helper call
	opRefused                // refused outright
	opUnknown                // not in the accepted set
)

type opInfo struct {
	imm   immediate
	class opClass
}

// opcodes describes every single-byte opcode; the zero value is unknown.
var opcodes = func() (t [256]opInfo) {
	for i := range t {
		t[i] = opInfo{immNone, opUnknown}
	}
	set := func(from, to byte, imm immediate, class opClass) {
		for op := int(from); op <= int(to); op++ {
			t[op] = opInfo{imm, class}
		}
	}
	set(wasm.OpcodeUnreachable, wasm.OpcodeUnreachable, immNone, opEnds)
	set(wasm.OpcodeNop, wasm.OpcodeNop, immNone, opPlain)
	set(wasm.OpcodeBlock, wasm.OpcodeIf, immBlockType, opEnds)
	set(wasm.OpcodeElse, wasm.OpcodeElse, immNone, opMarker)
	set(wasm.OpcodeEnd, wasm.OpcodeEnd, immNone, opMarker)
	set(wasm.OpcodeBr, wasm.OpcodeBrIf, immU32, opEnds)
	set(wasm.OpcodeBrTable, wasm.OpcodeBrTable, immBrTable, opEnds)
	set(wasm.OpcodeReturn, wasm.OpcodeReturn, immNone, opEnds)
	set(wasm.OpcodeCall, wasm.OpcodeCall, immU32, opPlain)
	set(wasm.OpcodeCallIndirect, wasm.OpcodeCallIndirect, immCallInd, opPlain)
	set(wasm.OpcodeDrop, wasm.OpcodeSelect, immNone, opPlain)
	set(wasm.OpcodeTypedSelect, wasm.OpcodeTypedSelect, immSelectT, opPlain)
	set(wasm.OpcodeLocalGet, wasm.OpcodeGlobalSet, immU32, opPlain)
	set(wasm.OpcodeTableGet, wasm.OpcodeTableGet, immU32, opPlain)
	set(wasm.OpcodeTableSet, wasm.OpcodeTableSet, immU32, opRefused)
	set(wasm.OpcodeI32Load, wasm.OpcodeI64Store32, immMemarg, opPlain)
	set(wasm.OpcodeF32Load, wasm.OpcodeF64Load, immMemarg, opFloat)
	set(wasm.OpcodeF32Store, wasm.OpcodeF64Store, immMemarg, opFloat)
	set(wasm.OpcodeMemorySize, wasm.OpcodeMemorySize, immMemory, opPlain)
	set(wasm.OpcodeMemoryGrow, wasm.OpcodeMemoryGrow, immMemory, opGrow)
	set(wasm.OpcodeI32Const, wasm.OpcodeI32Const, immI32, opPlain)
	set(wasm.OpcodeI64Const, wasm.OpcodeI64Const, immI64, opPlain)
	set(wasm.OpcodeF32Const, wasm.OpcodeF32Const, immF32, opFloat)
	set(wasm.OpcodeF64Const, wasm.OpcodeF64Const, immF64, opFloat)
	set(wasm.OpcodeI32Eqz, wasm.OpcodeI64GeU, immNone, opPlain)      // integer comparisons
	set(wasm.OpcodeF32Eq, wasm.OpcodeF64Ge, immNone, opFloat)        // float comparisons
	set(wasm.OpcodeI32Clz, wasm.OpcodeI64Rotr, immNone, opPlain)     // integer arithmetic
	set(wasm.OpcodeF32Abs, wasm.OpcodeF64Copysign, immNone, opFloat) // float arithmetic
	set(wasm.OpcodeI32WrapI64, wasm.OpcodeF64ReinterpretI64, immNone, opFloat)
	set(wasm.OpcodeI32WrapI64, wasm.OpcodeI32WrapI64, immNone, opPlain)
	set(wasm.OpcodeI64ExtendI32S, wasm.OpcodeI64ExtendI32U, immNone, opPlain)
	set(wasm.OpcodeI32Extend8S, wasm.OpcodeI64Extend32S, immNone, opPlain) // sign extension
	set(wasm.OpcodeRefNull, wasm.OpcodeRefNull, immRefType, opPlain)
	set(wasm.OpcodeRefIsNull, wasm.OpcodeRefIsNull, immNone, opPlain)
	set(wasm.OpcodeRefFunc, wasm.OpcodeRefFunc, immU32, opPlain)
	set(wasm.OpcodeMiscPrefix, wasm.OpcodeMiscPrefix, immPrefixFC, opPlain)
	set(wasm.OpcodeVecPrefix, wasm.OpcodeVecPrefix, immNone, opRefused)
	set(opcodeAtomicPrefix, opcodeAtomicPrefix, immNone, opRefused)
	return t
}()

// opcodeAtomicPrefix starts the threads proposal's atomic instructions.
const opcodeAtomicPrefix byte = 0xfe

// The 0xFC sub-opcodes this package names.
const (
	miscTruncSatLast = 0x07
	miscMemoryInit   = 0x08
	miscDataDrop     = 0x09
	miscMemoryCopy   = 0x0a
	miscMemoryFill   = 0x0b
	miscTableSize    = 0x10
	miscTableFill    = 0x11
)

// opName names a single-byte opcode for a message.
func opName(op byte) string {
	switch op {
	case wasm.OpcodeVecPrefix:
		return "SIMD instruction"
	case opcodeAtomicPrefix:
		return "atomic (threads) instruction"
	}
	if n := wasm.InstructionName(op); n != "" {
		return n
	}
	return fmt.Sprintf("opcode %#02x", op)
}

// miscName names a 0xFC instruction for a message.
func miscName(sub uint32) string {
	if sub < 256 {
		if n := wasm.MiscInstructionName(byte(sub)); n != "" {
			return n
		}
	}
	return fmt.Sprintf("opcode 0xfc %d", sub)
}
