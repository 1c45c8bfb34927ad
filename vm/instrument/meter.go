package instrument

import (
	"encoding/binary"

	"github.com/tetratelabs/wabin/wasm"
)

// Control frames on a meter's stack.
const (
	frameFunc  byte = 'f'
	frameBlock byte = 'b' // block or loop
	frameIf    byte = 'i' // if, before its else
	frameElse  byte = 'e' // if, after its else
)

// meter walks one function body, applies the instruction rules and writes
// the body with a charge at the start of every metered block.
type meter struct {
	in    *instrumenter
	r     *reader
	out   []byte // the instrumented body so far
	block []byte // the current metered block's code, not yet charged
	cost  int64  // what the current block costs
	ctrl  []byte // open control frames

	loads, stores int64 // the current block's memory accesses, with Options.CountMemoryOps
}

// meter returns the instrumented body of f, the function at index fn.
func (in *instrumenter) meter(fn int, f *function) ([]byte, error) {
	mt := &meter{in: in, r: newReader(f.body, f.at), ctrl: []byte{frameFunc}}
	mt.r.fn = fn
	mt.out = make([]byte, 0, len(f.body)+len(f.body)/2)
	mt.cost = int64(f.numLocals) // the entry block pays for zeroing the locals
	for len(mt.ctrl) > 0 && mt.r.more() {
		mt.instruction()
	}
	switch {
	case mt.r.err != nil:
		return nil, mt.r.err
	case len(mt.ctrl) > 0:
		mt.r.failAt(mt.r.offset(), "invalid module: body ends inside a block")
	case mt.r.pos < len(mt.r.buf):
		mt.r.failAt(mt.r.offset(), "invalid module: bytes after the body's end")
	}
	return mt.out, mt.r.err
}

// instruction reads one instruction and its immediates.
func (mt *meter) instruction() {
	r := mt.r
	start, at := r.pos, r.offset()
	op := r.byte()
	info := opcodes[op]
	switch info.class {
	case opUnknown:
		r.failAt(at, "unsupported instruction %s", opName(op))
	case opRefused:
		r.failAt(at, "%s refused", refusedName(op))
	case opFloat:
		mt.float(at, opName(op))
	}
	if info.imm == immPrefixFC {
		mt.misc(start, at)
		return
	}
	mt.immediates(op, info.imm, at)
	if r.err != nil {
		return
	}
	if info.imm == immMemarg { // the loads (0x28–0x35) and stores (0x36–0x3e)
		mt.access(op <= wasm.OpcodeI64Load32U, op >= wasm.OpcodeI32Store)
	}
	switch info.class {
	case opMarker:
		mt.marker(op, at)
	case opGrow:
		mt.count(mt.in.call(helper{kind: helperGrow}))
	case opPlain:
		if mt.nested(op, r.buf[start+1:r.pos]) {
			mt.block = appendEnter(mt.block, mt.in.depth, mt.in.opts.MaxCallDepth)
			mt.count(r.buf[start:r.pos])
			mt.block = appendLeave(mt.block, mt.in.depth)
			return
		}
		fallthrough
	default:
		mt.count(r.buf[start:r.pos])
		if info.class == opEnds {
			mt.flush()
		}
		if op == wasm.OpcodeBlock || op == wasm.OpcodeLoop {
			mt.ctrl = append(mt.ctrl, frameBlock)
		} else if op == wasm.OpcodeIf {
			mt.ctrl = append(mt.ctrl, frameIf)
		}
	}
}

// nested reports whether op, with immediates imm, calls one of the
// module's own functions: the calls the depth limit counts. A host
// function cannot call back into the module.
func (mt *meter) nested(op byte, imm []byte) bool {
	switch op {
	case wasm.OpcodeCallIndirect:
		return true
	case wasm.OpcodeCall:
		callee, _ := binary.Uvarint(imm) // a u32 LEB128, which the reader checked
		return callee >= uint64(len(mt.in.m.imports))
	}
	return false
}

// count adds one instruction's code and cost to the current block.
func (mt *meter) count(code []byte) {
	mt.block = append(mt.block, code...)
	mt.cost++
}

// access counts a memory load, store or both in the current block.
func (mt *meter) access(load, store bool) {
	if load {
		mt.loads++
	}
	if store {
		mt.stores++
	}
}

// flush ends the current metered block: its charge and, with
// CountMemoryOps, its count of loads and stores, then its code.
func (mt *meter) flush() {
	if mt.cost > 0 {
		mt.out = appendCharge(mt.out, mt.in.gas, mt.cost)
	}
	if mt.in.opts.CountMemoryOps {
		mt.out = appendCount(mt.out, mt.in.loads, mt.loads)
		mt.out = appendCount(mt.out, mt.in.stores, mt.stores)
	}
	mt.out = append(mt.out, mt.block...)
	mt.block, mt.cost = mt.block[:0], 0
	mt.loads, mt.stores = 0, 0
}

// marker handles else and end, which cost nothing and end a block.
func (mt *meter) marker(op byte, at int) {
	mt.flush()
	mt.out = append(mt.out, op)
	top := len(mt.ctrl) - 1
	if op == wasm.OpcodeEnd {
		mt.ctrl = mt.ctrl[:top]
		return
	}
	if mt.ctrl[top] != frameIf {
		mt.r.failAt(at, "invalid module: else outside an if")
		return
	}
	mt.ctrl[top] = frameElse
}

func (mt *meter) float(at int, what string) {
	if !mt.in.opts.AllowFloat {
		mt.r.failAt(at, "float instruction %s refused", what)
	}
}

// immediates reads the immediates of a single-byte opcode.
func (mt *meter) immediates(op byte, imm immediate, at int) {
	r := mt.r
	switch imm {
	case immBlockType:
		mt.blockType(at)
	case immU32:
		r.u32()
	case immBrTable:
		for range r.count("label") + 1 {
			r.u32()
		}
	case immCallInd:
		r.u32()
		r.u32()
	case immMemarg:
		r.u32()
		r.u32()
	case immMemory:
		mt.memoryIndex()
	case immI32:
		r.sleb(32)
	case immI64:
		r.sleb(64)
	case immF32:
		r.bytes(4)
	case immF64:
		r.bytes(8)
	case immSelectT:
		if n := r.count("select type"); n != 1 {
			r.failAt(at, "invalid module: select with %d types", n)
		}
		mt.valueType(at, r.valueType(), "select")
	case immRefType:
		if t := ValueType(r.byte()); t != FuncRef && t != ExternRef {
			r.failAt(at, "invalid module: ref.null of %v", t)
		}
	}
}

// blockType reads a block type: empty (0x40), a value type, or the index of
// a function type (multi-value), as a signed 33-bit integer.
func (mt *meter) blockType(at int) {
	v := mt.r.sleb(33)
	switch {
	case v >= 0:
		if v >= int64(len(mt.in.m.types)) {
			mt.r.failAt(at, "invalid module: block type %d out of range", v)
		}
	case v == -0x40:
	case v >= -0x40:
		mt.valueType(at, ValueType(byte(v)&0x7f), "block")
	default:
		mt.r.failAt(at, "invalid module: block type %d", v)
	}
}

// valueType applies the rules to a value type an instruction names.
func (mt *meter) valueType(at int, t ValueType, where string) {
	switch t {
	case I32, I64, FuncRef, ExternRef:
	case F32, F64, V128:
		if why := typeRule(t, mt.in.opts); why != "" {
			mt.r.failAt(at, "%s in a %s refused", why, where)
		}
	default:
		mt.r.failAt(at, "invalid module: %s of %v", where, t)
	}
}

// memoryIndex reads the memory index of a memory instruction, which must be
// the single byte 0x00.
func (mt *meter) memoryIndex() {
	at := mt.r.offset()
	if mt.r.byte() != 0 {
		mt.r.failAt(at, "invalid module: memory index is not 0")
	}
}

// misc reads a 0xFC instruction: start is its first byte in the body, at
// its offset in the module.
func (mt *meter) misc(start, at int) {
	r := mt.r
	sub := r.u32()
	var call []byte
	switch {
	case r.err != nil:
		return
	case sub <= miscTruncSatLast:
		mt.float(at, miscName(sub))
	case sub == miscMemoryInit:
		data := r.u32()
		mt.memoryIndex()
		call = mt.in.call(helper{kind: helperInit, data: data})
		mt.access(false, true) // from a data segment, not memory
	case sub == miscDataDrop:
		// A dropped segment stays dropped in the instance: a pooled
		// instance could not start the next call clean.
		r.failAt(at, "data.drop refused: it changes the instance beyond its memory, and every call must start clean")
	case sub == miscTableSize:
		r.u32()
	case sub == miscMemoryCopy:
		mt.memoryIndex()
		mt.memoryIndex()
		call = mt.in.call(helper{kind: helperCopy})
		mt.access(true, true)
	case sub == miscMemoryFill:
		mt.memoryIndex()
		call = mt.in.call(helper{kind: helperFill})
		mt.access(false, true)
	case sub > miscMemoryFill && sub <= miscTableFill:
		r.failAt(at, "table-changing instruction %s refused", miscName(sub))
	default:
		r.failAt(at, "unsupported instruction %s", miscName(sub))
	}
	if r.err != nil {
		return
	}
	if call == nil {
		call = r.buf[start:r.pos]
	}
	mt.count(call)
}

// refusedName names an opcode refused outright.
func refusedName(op byte) string {
	if op == wasm.OpcodeTableSet {
		return "table-changing instruction table.set"
	}
	return opName(op)
}
