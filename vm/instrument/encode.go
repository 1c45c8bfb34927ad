package instrument

import (
	"github.com/tetratelabs/wabin/wasm"
)

// encode writes m in the binary format, sections in the order the spec
// requires; custom sections are not written.
func encode(m *module) []byte {
	b := append([]byte(nil), header...)
	b = appendSection(b, wasm.SectionIDType, len(m.types), func(p []byte) []byte {
		for _, t := range m.types {
			p = append(p, 0x60)
			p = appendValueTypes(p, t.Params)
			p = appendValueTypes(p, t.Results)
		}
		return p
	})
	b = appendSection(b, wasm.SectionIDImport, len(m.imports), func(p []byte) []byte {
		for _, imp := range m.imports {
			p = append(p, imp.raw...)
		}
		return p
	})
	b = appendSection(b, wasm.SectionIDFunction, len(m.funcs), func(p []byte) []byte {
		for _, t := range m.funcs {
			p = appendU32(p, t)
		}
		return p
	})
	if m.table != nil {
		b = appendSection(b, wasm.SectionIDTable, 1, func(p []byte) []byte { return append(p, m.table.raw...) })
	}
	if m.memory != nil {
		b = appendSection(b, wasm.SectionIDMemory, 1, func(p []byte) []byte { return appendLimits(p, m.memory) })
	}
	b = appendSection(b, wasm.SectionIDGlobal, len(m.globals), func(p []byte) []byte {
		for _, g := range m.globals {
			p = append(p, g.raw...)
		}
		return p
	})
	b = appendSection(b, wasm.SectionIDExport, len(m.exports), func(p []byte) []byte {
		for _, e := range m.exports {
			p = appendName(p, e.name)
			p = append(p, e.kind)
			p = appendU32(p, e.index)
		}
		return p
	})
	b = appendRaw(b, wasm.SectionIDElement, m.elements)
	b = appendRaw(b, wasm.SectionIDDataCount, m.dataCount)
	b = appendSection(b, wasm.SectionIDCode, len(m.code), func(p []byte) []byte {
		for _, f := range m.code {
			p = appendU32(p, uint32(len(f.locals)+len(f.body)))
			p = append(p, f.locals...)
			p = append(p, f.body...)
		}
		return p
	})
	return appendRaw(b, wasm.SectionIDData, m.data)
}

// appendSection appends a section of n entries that fill writes, or nothing
// if n is 0.
func appendSection(b []byte, id byte, n int, fill func([]byte) []byte) []byte {
	if n == 0 {
		return b
	}
	return appendRaw(b, id, fill(appendU32(nil, uint32(n))))
}

// appendRaw appends a section with the given contents, or nothing if nil.
func appendRaw(b []byte, id byte, contents []byte) []byte {
	if contents == nil {
		return b
	}
	b = append(b, id)
	b = appendU32(b, uint32(len(contents)))
	return append(b, contents...)
}

func appendLimits(b []byte, l *limits) []byte {
	if !l.hasMax {
		return appendU32(append(b, 0x00), l.min)
	}
	return appendU32(appendU32(append(b, 0x01), l.min), l.max)
}

func appendValueTypes(b []byte, ts []ValueType) []byte {
	b = appendU32(b, uint32(len(ts)))
	for _, t := range ts {
		b = append(b, byte(t))
	}
	return b
}

func appendName(b []byte, s string) []byte {
	return append(appendU32(b, uint32(len(s))), s...)
}

func appendU32(b []byte, v uint32) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendS64(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
