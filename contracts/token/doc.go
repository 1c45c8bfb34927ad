// Package token is the base token: the chain's one native currency, held as
// balances in the token contract's storage.
//
// token.wat is the contract; token.wasm is built from it by `make
// contracts` and embedded. native.go is its optimistic native twin, which
// the node runs for calls to this code hash unless told to use the VM. The
// two are held equal, gas included, by the differential tests and fuzz
// target in this package, and `dualchain node --exec both` checks every
// call. docs/decisions/0005-token-in-wat.md says why the contract is WAT.
//
// Invariants: every add and subtract is checked; a failed call changes no
// balance; a transfer never costs more than TransferGas.
//
// Must not import: hotchain, coldchain, bridge, consensus, node, api, client, cmd, internal
package token
