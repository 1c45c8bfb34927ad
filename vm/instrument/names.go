package instrument

// functionNames names the module's functions by index, imports included:
// a function's first export name, else its name in the name section, else
// "".
func (m *module) functionNames() []string {
	names := make([]string, len(m.imports)+len(m.funcs))
	readFunctionNames(m.names, names)
	for i := len(m.exports) - 1; i >= 0; i-- { // backwards: the first export name wins
		if e := m.exports[i]; e.kind == externFunc && int(e.index) < len(names) {
			names[e.index] = e.name
		}
	}
	return names
}

// nameSubsectionFunctions is the id of the name section's subsection of
// function names.
const nameSubsectionFunctions = 1

// readFunctionNames sets names[i] to each function name of a name section's
// contents. Custom sections never make a module invalid, so a malformed
// name section gives no names rather than an error; an index past names is
// skipped. The reader bounds every count by the bytes left, as for the
// rest of the module.
func readFunctionNames(section []byte, names []string) {
	r := newReader(section, 0)
	for r.more() {
		id := r.byte()
		s := r.sub(int(r.u32()))
		if r.err != nil || id != nameSubsectionFunctions {
			continue
		}
		found := make(map[uint32]string)
		for range s.count("function name") {
			i, name := s.u32(), s.name()
			found[i] = name
		}
		s.end("function names")
		if s.err != nil {
			return
		}
		for i, name := range found {
			if int(i) < len(names) {
				names[i] = name
			}
		}
		return
	}
}
