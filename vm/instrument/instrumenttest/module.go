package instrumenttest

// Value types and export kinds, by their binary encoding.
const (
	I32       byte = 0x7f
	I64       byte = 0x7e
	F32       byte = 0x7d
	F64       byte = 0x7c
	V128      byte = 0x7b
	FuncRef   byte = 0x70
	ExternRef byte = 0x6f

	KindFunc   byte = 0
	KindTable  byte = 1
	KindMemory byte = 2
	KindGlobal byte = 3
)

// Module builds a module section by section. Add imports before functions:
// function indices count imports first.
type Module struct {
	types, imports, funcs, tables, memories, globals, exports, elements, code, data [][]byte

	start     *uint32
	dataCount bool
	numFuncs  uint32
	extra     []section // raw sections, written last
}

type section struct {
	id       byte
	contents []byte
}

// Type adds a function type and returns its index.
func (m *Module) Type(params, results []byte) uint32 {
	m.types = append(m.types, cat([]byte{0x60}, Vec(len(params), params), Vec(len(results), results)))
	return uint32(len(m.types) - 1)
}

// ImportFunc adds a function import and returns its function index.
func (m *Module) ImportFunc(module, name string, typ uint32) uint32 {
	if len(m.funcs) > 0 {
		panic("instrumenttest: ImportFunc after Func")
	}
	m.Import(module, name, cat([]byte{KindFunc}, U32(typ)))
	m.numFuncs++
	return m.numFuncs - 1
}

// Import adds an import with a raw description: its kind byte and type.
func (m *Module) Import(module, name string, desc []byte) {
	m.imports = append(m.imports, cat(Name(module), Name(name), desc))
}

// Func adds a function of type typ with one local per byte of locals and
// the given code, to which it appends the body's end. It returns the
// function index.
func (m *Module) Func(typ uint32, locals []byte, code ...[]byte) uint32 {
	m.funcs = append(m.funcs, U32(typ))
	var decl [][]byte
	for _, l := range locals {
		decl = append(decl, []byte{1, l})
	}
	body := cat(Vec(len(decl), cat(decl...)), cat(code...), []byte{0x0b})
	m.code = append(m.code, cat(U32(uint32(len(body))), body))
	m.numFuncs++
	return m.numFuncs - 1
}

// Memory adds a memory of min pages; max < 0 means no maximum.
func (m *Module) Memory(min uint32, max int64) {
	m.memories = append(m.memories, limits(min, max))
}

// Table adds a funcref table of min elements; max < 0 means no maximum.
func (m *Module) Table(min uint32, max int64) {
	m.tables = append(m.tables, cat([]byte{FuncRef}, limits(min, max)))
}

// Global adds a global initialized by the constant expression init (its
// end is appended) and returns its index.
func (m *Module) Global(typ byte, mutable bool, init []byte) uint32 {
	mut := byte(0)
	if mutable {
		mut = 1
	}
	m.globals = append(m.globals, cat([]byte{typ, mut}, init, []byte{0x0b}))
	return uint32(len(m.globals) - 1)
}

// Export exports the item of the given kind and index as name.
func (m *Module) Export(name string, kind byte, index uint32) {
	m.exports = append(m.exports, cat(Name(name), []byte{kind}, U32(index)))
}

// Start sets the start function.
func (m *Module) Start(f uint32) { m.start = &f }

// Elements adds an active element segment for table 0 at offset.
func (m *Module) Elements(offset int32, funcs ...uint32) {
	var idx [][]byte
	for _, f := range funcs {
		idx = append(idx, U32(f))
	}
	m.elements = append(m.elements, cat([]byte{0}, I32Const(offset), []byte{0x0b}, Vec(len(idx), cat(idx...))))
}

// Data adds an active data segment at offset.
func (m *Module) Data(offset int32, b []byte) {
	m.data = append(m.data, cat([]byte{0}, I32Const(offset), []byte{0x0b}, Vec(len(b), b)))
}

// PassiveData adds a passive data segment, for memory.init, and the data
// count section it needs.
func (m *Module) PassiveData(b []byte) uint32 {
	m.data = append(m.data, cat([]byte{1}, Vec(len(b), b)))
	m.dataCount = true
	return uint32(len(m.data) - 1)
}

// Section adds a raw section, written after the others.
func (m *Module) Section(id byte, contents []byte) {
	m.extra = append(m.extra, section{id, contents})
}

// Bytes returns the module in the binary format.
func (m *Module) Bytes() []byte {
	b := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}
	vec := func(id byte, items [][]byte) {
		if len(items) > 0 {
			b = appendSection(b, id, Vec(len(items), cat(items...)))
		}
	}
	vec(1, m.types)
	vec(2, m.imports)
	vec(3, m.funcs)
	vec(4, m.tables)
	vec(5, m.memories)
	vec(6, m.globals)
	vec(7, m.exports)
	if m.start != nil {
		b = appendSection(b, 8, U32(*m.start))
	}
	vec(9, m.elements)
	if m.dataCount {
		b = appendSection(b, 12, U32(uint32(len(m.data))))
	}
	vec(10, m.code)
	vec(11, m.data)
	for _, s := range m.extra {
		b = appendSection(b, s.id, s.contents)
	}
	return b
}

func appendSection(b []byte, id byte, contents []byte) []byte {
	return cat(b, []byte{id}, U32(uint32(len(contents))), contents)
}

func limits(min uint32, max int64) []byte {
	if max < 0 {
		return cat([]byte{0}, U32(min))
	}
	return cat([]byte{1}, U32(min), U32(uint32(max)))
}
