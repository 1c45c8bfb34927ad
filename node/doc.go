// Package node is where dualchain's parts meet: it wires the hot store, the
// Raft replica (consensus), the mempool, the block producer and the HTTP API
// into one staking node, and owns their lifecycle.
//
// The flow (docs/decisions/0007-raft-replication.md): the leader, and only
// the leader, orders and executes verified transactions into a block with
// its effects (receipts, write set, state commitment) and proposes it to
// Raft, with several blocks in flight (pipeline.go); every node applies
// committed entries to its store through the state machine
// (statemachine.go), idempotently by log index. Followers forward
// submissions to the leader (the api package does, through the Cluster
// methods in cluster.go).
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
// index atomically with the state); every node makes the same decision on
// every committed entry (a block that does not extend the head is skipped
// by all); a store that lost its data (wiped Redis) or went back in time
// (restarted from an old copy) is rebuilt from the latest snapshot and the
// log, never written onto, and clients' reads are refused while it is; a
// block is executed only after the leader's Barrier, on the applied head and
// the blocks it has in flight; a committed block is never reported to a
// client as failed.
//
// Must not import: cmd
package node
