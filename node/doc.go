// Package node is where dualchain's parts meet: it wires the hot store, the
// cold chain, the bridge, the Raft replica (consensus), the mempools, the
// block producer, the checkpointer and the HTTP API into one staking node,
// and owns their lifecycle.
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
// The leader also proposes cold blocks (cold.go): checkpoints of hot state
// with the cold transactions; every node computes each one from its own
// state at the entry's place in the log, and writes it in one synced
// Pebble batch. Hot state is the cold chain's mirror plus the hot writes
// since the last cold block (docs/decisions/0008-cold-chain-and-bridge.md,
// bridge/DESIGN.md).
//
// Calls are dispatched by the called contract's code hash and function
// (dispatch.go): a match with an optimistic native function runs natively,
// anything else in the VM; Config.Exec can force the VM or run both and
// compare. A deploy's module is validated at admission; a call reads the
// keys it was known to need in the block's one batch and fetches the rest,
// and the old value of every key a block writes is known before its write
// set and commitment are made.
//
// VM traces (trace.go): with Config.VMTrace the leader's VM records a
// memory trace of each call it runs, and a hot block's log entry carries
// the traces of its transactions as a sixth item, present only when one
// has a trace (an entry without is byte for byte what it was before
// traces, and older logs decode unchanged; entry.go). Every node stores
// them in its archive in the same batch as the block, and the API serves
// them from there, so a follower serves the leader's traces, whatever its
// own VMTrace. Blocks a node backfilled from its peers after restoring a
// snapshot carry none (peers serve blocks, not traces); snapshots hold no
// traces, as they hold no history. A block's traces are bounded: at most
// ledger.MaxTraceFrames frames each, and about 16 MB in all (past that a
// trace keeps no frames and counts them in Dropped).
//
// Invariants: the store never applies an entry twice (it keeps the applied
// index atomically with the state); every node makes the same decision on
// every committed entry (a block that does not extend the head is skipped
// by all); a store that lost its data (wiped Redis) or went back in time
// (restarted from an old copy) is rebuilt from the cold mirror and the hot
// writes since, never written onto, and clients' reads are refused while it
// is; Σ hot + Σ cold + in flight is the genesis supply at every index; a
// block is executed only after the leader's Barrier, on the applied head and
// the blocks it has in flight; a committed block is never reported to a
// client as failed.
//
// Must not import: cmd
package node
