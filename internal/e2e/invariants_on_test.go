//go:build invariants

package e2e

// invariants says this test binary was built with the invariants tag.
const invariants = true
