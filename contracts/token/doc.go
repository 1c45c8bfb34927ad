// Package token is the base token: the chain's one native currency, held as
// balances in the token contract's storage.
//
// This file set is the contract's Go source. The node links it directly as
// the optimistic native function for the token's calls; the same semantics
// will be compiled to WebAssembly for the VM, and the two must give the same
// result, gas included, for every call.
//
// Invariants: every add and subtract is checked; a failed call changes no
// balance. Import rule: token imports only ledger and the standard library.
//
// Must not import: vm, hotchain, coldchain, bridge, consensus, node, api, client, cmd, internal
package token
