package vm

// MapState is a State over a map from state key to value, for tests, tools
// and working out a call's gas off-chain (token.TransferGas).
type MapState map[string][]byte

// Get implements State; a missing key reads as nil.
func (m MapState) Get(k []byte) []byte { return m[string(k)] }

// Apply lands a result's writes in m, in order; an empty value deletes.
func (m MapState) Apply(r Result) {
	for _, w := range r.Writes {
		if len(w.Value) == 0 {
			delete(m, string(w.Key))
		} else {
			m[string(w.Key)] = w.Value
		}
	}
}
