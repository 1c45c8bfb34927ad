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
// Calls are dispatched by the called contract's code hash and function
// (dispatch.go): a match with an optimistic native function runs natively,
// anything else in the VM; Config.Exec can force the VM or run both and
// compare. A deploy's module is validated at admission; a call reads the
// keys it was known to need in the block's one batch and fetches the rest,
// and the old value of every key a block writes is known before its write
// set and commitment are made.
//
// Invariants: the store never applies an entry twice (it keeps the applied
// index atomically with the state); a block is executed only on a store
// that is at the head, checked after its reads, so a store that lost its
// data (wiped Redis) or went back in time (restarted from an old snapshot)
// is rebuilt from genesis and the log, never written onto, and clients'
// reads are refused while it is; the store is never ahead of the log, and
// the log never ahead of the applied head when a block is cut; a block in
// the log is committed and is never reported to a client as failed.
//
// Must not import: cmd
package node
