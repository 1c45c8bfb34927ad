package instrument

import (
	"bytes"

	"github.com/tetratelabs/wabin/wasm"
)

// module is what instrumentation reads of a decoded module. The sections it
// passes through unchanged (element, data count, data) are kept as their
// bytes; custom sections are dropped.
type module struct {
	types     []FuncType
	imports   []importEntry
	funcs     []uint32 // the type index of each function the module defines
	table     *limits
	memory    *limits
	globals   []global
	exports   []export
	elements  []byte // the element section's contents, nil if absent
	dataCount []byte // the data count section's contents, nil if absent
	code      []function
	data      []byte // the data section's contents, nil if absent
	names     []byte // the first name section's contents after its name, nil if absent
}

// importEntry is a function import: the only kind a module may have.
type importEntry struct {
	module, name string
	typ          uint32 // index in types
	raw          []byte // the entry as encoded
	at           int    // its offset in the module
}

type limits struct {
	min, max uint32
	hasMax   bool
	raw      []byte // a table's element type and limits, as encoded
	at       int
}

type global struct {
	typ     ValueType
	mutable bool
	raw     []byte // type, mutability and initializer, as encoded
	at      int
}

type export struct {
	name  string
	kind  byte
	index uint32
	at    int
}

// function is one entry of the code section.
type function struct {
	locals    []byte // the local declarations, as encoded
	numLocals uint64
	localType []ValueType // the type of each group of declared locals
	body      []byte
	at        int // offset of the body in the module
}

// External kinds of imports and exports.
const (
	externFunc   byte = 0
	externTable  byte = 1
	externMemory byte = 2
	externGlobal byte = 3
)

var header = []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}

// decode reads a module's structure: sections in order, each once, every
// count within its bytes. It refuses what it can see locally (a start
// section, imports other than functions, a second memory or table); check
// applies the rest of the rules.
func decode(b []byte) (*module, error) {
	r := newReader(b, 0)
	if !bytes.Equal(r.bytes(len(header)), header) {
		return nil, refused("invalid module: not a WebAssembly 1.0 binary")
	}
	m := &module{}
	last := 0
	for r.more() {
		at := r.offset()
		id := r.byte()
		s := r.sub(int(r.u32()))
		rank := sectionRank(id)
		switch {
		case rank < 0:
			r.failAt(at, "invalid module: unknown section id %d", id)
		case rank > 0 && rank <= last:
			r.failAt(at, "invalid module: %s section out of order or repeated", wasm.SectionIDName(id))
		case rank > 0:
			last = rank
		}
		if r.err == nil {
			m.readSection(id, s, at)
			s.end(wasm.SectionIDName(id) + " section")
			r.join(s)
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return m, nil
}

// sectionRank is a section's place in the required order, 0 for a custom
// section (allowed anywhere) and -1 for an unknown id. The data count
// section (12) comes between element (9) and code (10).
func sectionRank(id byte) int {
	switch {
	case id <= wasm.SectionIDElement:
		return int(id)
	case id == wasm.SectionIDDataCount:
		return 10
	case id == wasm.SectionIDCode, id == wasm.SectionIDData:
		return int(id) + 1
	}
	return -1
}

func (m *module) readSection(id byte, r *reader, at int) {
	switch id {
	case wasm.SectionIDCustom:
		name := r.name()
		contents := r.bytes(len(r.buf) - r.pos)
		if name == "name" && m.names == nil {
			m.names = contents[:len(contents):len(contents)]
		}
	case wasm.SectionIDType:
		m.readTypes(r)
	case wasm.SectionIDImport:
		m.readImports(r)
	case wasm.SectionIDFunction:
		for range r.count("function") {
			m.funcs = append(m.funcs, r.u32())
		}
	case wasm.SectionIDTable:
		m.table = readOne(r, "table", func() *limits { return r.tableType() })
	case wasm.SectionIDMemory:
		m.memory = readOne(r, "memory", func() *limits { return r.limits(true) })
	case wasm.SectionIDGlobal:
		m.readGlobals(r)
	case wasm.SectionIDExport:
		m.readExports(r)
	case wasm.SectionIDStart:
		r.failAt(at, "start section refused")
	case wasm.SectionIDElement:
		m.elements = r.buf
		readElements(r)
	case wasm.SectionIDDataCount:
		m.dataCount = r.buf
		r.u32()
	case wasm.SectionIDCode:
		m.readCode(r)
	case wasm.SectionIDData:
		m.data = r.buf
		readData(r)
	}
}

// readOne reads a table or memory section, which may hold one entry.
func readOne(r *reader, what string, read func() *limits) *limits {
	at := r.offset()
	switch r.count(what) {
	case 0:
		return nil
	case 1:
		return read()
	}
	r.failAt(at, "more than one %s refused", what)
	return nil
}

func (m *module) readTypes(r *reader) {
	for range r.count("type") {
		at := r.offset()
		if r.byte() != 0x60 {
			r.failAt(at, "invalid module: type is not a function type")
		}
		t := FuncType{Params: r.valueTypes(), Results: r.valueTypes()}
		m.types = append(m.types, t)
	}
}

func (r *reader) valueTypes() []ValueType {
	n := r.count("value type")
	ts := make([]ValueType, 0, n)
	for range n {
		ts = append(ts, r.valueType())
	}
	return ts
}

func (m *module) readImports(r *reader) {
	for range r.count("import") {
		at := r.offset()
		imp := importEntry{at: at}
		imp.module = r.name()
		imp.name = r.name()
		kindAt := r.offset()
		switch kind := r.byte(); kind {
		case externFunc:
			imp.typ = r.u32()
		case externTable, externMemory, externGlobal:
			r.failAt(kindAt, "imported %s %s.%s refused", externName(kind), imp.module, imp.name)
		default:
			r.failAt(kindAt, "invalid module: unknown import kind %#x", kind)
		}
		imp.raw = r.buf[at-r.base : r.pos]
		m.imports = append(m.imports, imp)
	}
}

func externName(kind byte) string {
	return [...]string{"function", "table", "memory", "global"}[kind]
}

// tableType reads an element type and limits.
func (r *reader) tableType() *limits {
	at := r.offset()
	if t := ValueType(r.byte()); t != FuncRef && t != ExternRef {
		r.failAt(at, "invalid module: table of %v", t)
	}
	l := r.limits(false)
	l.raw, l.at = r.buf[at-r.base:r.pos], at
	return l
}

// limits reads a table's or memory's limits. Shared memories (threads) and
// 64-bit memories are refused.
func (r *reader) limits(memory bool) *limits {
	at := r.offset()
	l := &limits{at: at}
	switch flag := r.byte(); {
	case flag == 0x00:
	case flag == 0x01:
		l.hasMax = true
	case memory && (flag == 0x02 || flag == 0x03):
		r.failAt(at, "shared memory (threads) refused")
	case memory && flag >= 0x04 && flag <= 0x07:
		r.failAt(at, "64-bit memory refused")
	default:
		r.failAt(at, "invalid module: limits flag %#x", flag)
	}
	l.min = r.u32()
	if l.hasMax {
		l.max = r.u32()
	}
	return l
}

func (m *module) readGlobals(r *reader) {
	for range r.count("global") {
		g := global{at: r.offset()}
		g.typ = r.valueType()
		switch mut := r.byte(); mut {
		case 0, 1:
			g.mutable = mut == 1
		default:
			r.failAt(r.offset()-1, "invalid module: global mutability %#x", mut)
		}
		r.constExpr()
		g.raw = r.buf[g.at-r.base : r.pos]
		m.globals = append(m.globals, g)
	}
}

func (m *module) readExports(r *reader) {
	for range r.count("export") {
		e := export{at: r.offset()}
		e.name = r.name()
		if e.kind = r.byte(); e.kind > externGlobal {
			r.failAt(r.offset()-1, "invalid module: unknown export kind %#x", e.kind)
		}
		e.index = r.u32()
		m.exports = append(m.exports, e)
	}
}

// readElements reads the element section to check its structure; it is
// passed through unchanged. A segment's flags: bit 0 passive or declarative,
// bit 1 an explicit table index (active) or declarative, bit 2 expressions
// rather than function indices.
func readElements(r *reader) {
	for range r.count("element segment") {
		at := r.offset()
		flags := r.u32()
		if flags > 7 {
			r.failAt(at, "invalid module: element segment flags %d", flags)
		}
		if flags&1 == 0 {
			if flags&2 != 0 {
				r.u32()
			}
			r.constExpr()
		}
		if flags&3 != 0 {
			r.byte() // element kind or reference type
		}
		for range r.count("element") {
			if flags&4 != 0 {
				r.constExpr()
			} else {
				r.u32()
			}
		}
	}
}

// readData reads the data section to check its structure; it is passed
// through unchanged.
func readData(r *reader) {
	for range r.count("data segment") {
		at := r.offset()
		switch flags := r.u32(); flags {
		case 0:
			r.constExpr()
		case 1:
		case 2:
			r.u32()
			r.constExpr()
		default:
			r.failAt(at, "invalid module: data segment flags %d", flags)
		}
		r.bytes(r.count("data byte"))
	}
}

func (m *module) readCode(r *reader) {
	for i := range r.count("function body") {
		s := r.sub(int(r.u32()))
		s.fn = len(m.imports) + i
		f := function{}
		start := s.pos
		for range s.count("local group") {
			f.numLocals += uint64(s.u32())
			f.localType = append(f.localType, s.valueType())
		}
		f.locals = s.buf[start:s.pos]
		f.at = s.offset()
		f.body = s.buf[s.pos:]
		r.join(s)
		m.code = append(m.code, f)
	}
}

// constExpr reads a constant expression up to its end.
func (r *reader) constExpr() {
	for r.err == nil {
		at := r.offset()
		switch op := r.byte(); op {
		case wasm.OpcodeEnd:
			return
		case wasm.OpcodeI32Const:
			r.sleb(32)
		case wasm.OpcodeI64Const:
			r.sleb(64)
		case wasm.OpcodeF32Const:
			r.bytes(4)
		case wasm.OpcodeF64Const:
			r.bytes(8)
		case wasm.OpcodeGlobalGet, wasm.OpcodeRefFunc:
			r.u32()
		case wasm.OpcodeRefNull:
			r.byte()
		default:
			r.failAt(at, "invalid module: %s in a constant expression", opName(op))
		}
	}
}
