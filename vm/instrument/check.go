package instrument

import (
	"strings"
)

// check applies the module-level rules: limits, imports, exports, and the
// value types of signatures, globals and locals. The rules on instructions
// are applied as the code is metered.
func (m *module) check(o *Options) error {
	for _, rule := range []func(*Options) error{
		m.checkCounts, m.checkLocals, m.checkTypes, m.checkImports, m.checkMemory,
		m.checkTable, m.checkGlobals, m.checkExports,
	} {
		if err := rule(o); err != nil {
			return err
		}
	}
	return nil
}

func (m *module) checkCounts(o *Options) error {
	if n := len(m.imports) + len(m.funcs); n > o.MaxFunctions {
		return refused("%d functions, more than the limit of %d", n, o.MaxFunctions)
	}
	if len(m.globals) > o.MaxGlobals {
		return refused("%d globals, more than the limit of %d", len(m.globals), o.MaxGlobals)
	}
	if len(m.code) != len(m.funcs) {
		return refused("invalid module: %d functions declared but %d bodies", len(m.funcs), len(m.code))
	}
	for i, t := range m.funcs {
		if int(t) >= len(m.types) {
			return refusedAt(len(m.imports)+i, -1, "invalid module: type index %d out of range", t)
		}
	}
	return nil
}

// typeRule returns why a value type is refused, or "".
func typeRule(t ValueType, o *Options) string {
	switch {
	case t == V128:
		return "SIMD type v128"
	case (t == F32 || t == F64) && !o.AllowFloat:
		return "float type " + t.String()
	}
	return ""
}

func (m *module) checkTypes(o *Options) error {
	for i, t := range m.types {
		for _, v := range [][]ValueType{t.Params, t.Results} {
			for _, v := range v {
				if why := typeRule(v, o); why != "" {
					return refused("%s in type %d %v refused", why, i, t)
				}
			}
		}
	}
	return nil
}

func (m *module) checkImports(o *Options) error {
	for _, imp := range m.imports {
		switch want, known := o.Imports[imp.name]; {
		case int(imp.typ) >= len(m.types):
			return refusedAt(-1, imp.at, "invalid module: import type index %d out of range", imp.typ)
		case o.AllowImports:
		case imp.module != HostModule:
			return refusedAt(-1, imp.at, "import %s.%s refused: only module %s may be imported", imp.module, imp.name, HostModule)
		case !known:
			return refusedAt(-1, imp.at, "import of unknown host function %s.%s refused", HostModule, imp.name)
		case !m.types[imp.typ].Equal(want):
			return refusedAt(-1, imp.at, "host function %s imported as %v refused, want %v", imp.name, m.types[imp.typ], want)
		}
	}
	return nil
}

func (m *module) checkMemory(o *Options) error {
	switch l := m.memory; {
	case l == nil:
		return refused("module has no memory; it must export one as %q", "memory")
	case l.min > o.MaxMemoryPages:
		return refusedAt(-1, l.at, "memory of %d initial pages refused, limit %d", l.min, o.MaxMemoryPages)
	case l.hasMax && l.max > o.MaxMemoryPages:
		return refusedAt(-1, l.at, "memory of %d maximum pages refused, limit %d", l.max, o.MaxMemoryPages)
	}
	return nil
}

func (m *module) checkTable(o *Options) error {
	if l := m.table; l != nil && (l.min > o.MaxTableSize || l.hasMax && l.max > o.MaxTableSize) {
		return refusedAt(-1, l.at, "table of %d elements refused, limit %d", max(l.min, l.max), o.MaxTableSize)
	}
	return nil
}

func (m *module) checkGlobals(o *Options) error {
	for i, g := range m.globals {
		if why := typeRule(g.typ, o); why != "" {
			return refusedAt(-1, g.at, "%s in global %d refused", why, i)
		}
	}
	return nil
}

func (m *module) checkExports(o *Options) error {
	memory := false
	for _, e := range m.exports {
		if strings.HasPrefix(e.name, ReservedPrefix) {
			return refusedAt(-1, e.at, "export %s refused: the prefix %s is reserved", e.name, ReservedPrefix)
		}
		memory = memory || e.name == "memory" && e.kind == externMemory
	}
	if !memory {
		return refused("module does not export its memory as %q", "memory")
	}
	return nil
}

func (m *module) checkLocals(o *Options) error {
	for i, f := range m.code {
		fn := len(m.imports) + i
		if f.numLocals > uint64(o.MaxLocals) {
			return refusedAt(fn, f.at, "%d locals, more than the limit of %d", f.numLocals, o.MaxLocals)
		}
		for _, t := range f.localType {
			if why := typeRule(t, o); why != "" {
				return refusedAt(fn, f.at, "%s local refused", why)
			}
		}
	}
	return nil
}
