//go:build invariants

package hotchain

// invariants turns on expensive checks: Apply recomputes every update's
// commitment from the values it replaces and checks the receipts' tx ids.
// Tests run with -tags invariants.
const invariants = true
