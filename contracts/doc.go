// Package contracts holds the sources of dualchain's contracts. Each
// subpackage is one contract, written once in Go: linked natively into the
// node as an optimistic native function and (from a later issue) compiled to
// WebAssembly for the VM.
//
// Import rule: a contract imports only ledger and the standard library.
//
// Must not import: vm, hotchain, coldchain, bridge, consensus, node, api, client, cmd, internal
package contracts
