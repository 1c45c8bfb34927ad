// Package contracts holds dualchain's contracts. Each subpackage is one
// contract: its WebAssembly module, committed beside the source it is
// built from (`make contracts` rebuilds them; a test checks the committed
// bytes), and, where the node runs it natively, a Go twin of its exports.
//
//   - token: the base token, in WAT, with a native twin.
//   - registry: a name registry in Rust no_std, VM only.
//
// Import rule: a contract imports only ledger, vm (the Env its native
// functions run against) and the standard library.
//
// Must not import: hotchain, coldchain, bridge, consensus, node, api, client, cmd, internal
package contracts
