package failpoint

// The points the node evaluates. A point is named for where it sits; the
// robustness suite picks among them by group.
const (
	// Inside apply (node's state machine).
	HotApplied  = "hot-applied"  // a hot block is in the store, not yet archived nor folded into dirty
	ColdBefore  = "cold-before"  // a cold block is about to be written
	ColdApplied = "cold-applied" // a cold block is on disk; dirty not yet reset, waiters not told

	// Inside snapshot and restore.
	Snapshot        = "snapshot"         // the state machine is asked for a snapshot
	SnapshotPersist = "snapshot-persist" // a snapshot is half written to Raft's snapshot store
	Restore         = "restore"          // a snapshot is about to replace the state

	// The bridge's steps.
	CheckpointPropose = "checkpoint-propose" // the leader is about to propose a cold block (the checkpoint)
	SettleCredit      = "settle-credit"      // a cold block crediting settlements is about to be written
	DepositCredit     = "deposit-credit"     // a hot block with bridge records (escrows, deposit credits) is in the store

	// The stores and the clock.
	RaftLogStore = "raft-log-store" // the Raft log store appends entries (sleep, error)
	PebbleWrite  = "pebble-write"   // the cold chain's Pebble writes a file (sleep, error)
	PebbleSync   = "pebble-sync"    // the cold chain's Pebble syncs a file (sleep, error)
	ClockSkew    = "clock-skew"     // the node reads its clock (skew)
)

// Points lists every point, in the order above.
var Points = []string{
	HotApplied, ColdBefore, ColdApplied,
	Snapshot, SnapshotPersist, Restore,
	CheckpointPropose, SettleCredit, DepositCredit,
	RaftLogStore, PebbleWrite, PebbleSync, ClockSkew,
}

// CrashPoints are the points where a crash tests recovery: inside apply,
// snapshot and the bridge's steps.
var CrashPoints = Points[:9]
