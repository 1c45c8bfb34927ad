// Package apitest provides a small but real in-memory api.Backend for tests
// of the API server, the client and the CLI: it checks signatures, chain id
// and nonces, keeps a bounded mempool, and executes base-token transfers
// into sealed hot blocks when Commit is called (or on every Submit with
// AutoCommit). It is not the node: no store, no log, no block producer.
//
// Must not import: hotchain, coldchain, bridge, consensus, node, cmd, vm
package apitest
