//go:build !invariants

package hotchain

// invariants is off in production builds: Apply trusts the commitment the
// block producer computed (its digest is still checked against the header).
const invariants = false
