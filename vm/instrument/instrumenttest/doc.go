// Package instrumenttest builds small WebAssembly modules for tests, so a
// test can state a module in a few lines of Go instead of carrying a binary
// or needing wat2wasm. It writes what it is told, valid or not: refusal
// tests build invalid modules on purpose.
//
// Must not import: node, hotchain, coldchain, bridge, consensus, ledger, api, client, cmd, contracts
package instrumenttest
