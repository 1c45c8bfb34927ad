// Package node is where dualchain's parts meet: it wires the hot store, the
// block log, the mempool, the block producer and the HTTP API into one
// staking node, and owns their lifecycle.
//
// The flow is the one every later part keeps: the producer (leader only)
// verifies, orders and executes transactions into a block with its effects
// (receipts, write set, state commitment); the block is appended to the log;
// committed log entries are applied to the store, idempotently by log index.
// Until Raft arrives (consensus), the log is a local write-ahead log and the
// node is its own leader.
//
// Invariants: the store never applies an entry twice (it keeps the applied
// index atomically with the state); a store that lost its data (wiped Redis)
// is rebuilt from genesis and the log, never written onto; the store is
// never ahead of the log.
//
// Must not import: cmd
package node
