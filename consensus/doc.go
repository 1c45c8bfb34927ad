// Package consensus replicates one ordered log of opaque entries (hot blocks,
// cold blocks) across the staking nodes with hashicorp/raft, and hands every
// committed entry, in log order, to the node's state machine (an [FSM]).
//
// A [Replica] is one member of the Raft group: a TCP transport, an on-disk
// log and stable store (raft-boltdb v2 by default, hashicorp/raft-wal as the
// alternative, see [StoreKind]), and Raft's file snapshot store, all under
// Config.DataDir:
//
//	DATA/raft-wal/    log and stable store, kind "wal"
//	DATA/raft.db      log and stable store, kind "bolt"
//	DATA/snapshots/   Raft's file snapshot store
//
// Invariants:
//   - Every node's FSM sees the same committed entries in the same order,
//     each with its Raft index; indices strictly increase but have gaps
//     (Raft's own no-op and configuration entries never reach the FSM).
//   - A log entry is on disk, fsynced, before it counts toward a commit.
//   - A snapshot carries the state as of the last entry applied before it
//     was taken; the FSM, not this package, records that index inside it.
//   - The log is never truncated past the latest snapshot.
//
// Every transport, the TCP one or Config.Transport (tests give Raft's
// InmemTransport, whose links they cut and heal), runs without Raft's
// heartbeat fast path (transport.go): with it, a deposed leader can write
// an entry under its successor's term and break the first invariant
// (hashicorp/raft#695). [Replica.LogDigests] digests the committed log so
// that replicas can be compared entry by entry (digest.go).
//
// Beyond Raft's own recovery, [Replica.CaughtUp] tells when a restarted
// replica has applied what it knows to be committed; members are
// added (as voters or non-voters), removed and handed leadership through the
// Replica.
//
// The package knows nothing of blocks: entries are bytes, and what they mean
// is the node's business. Raft's logs go to the *slog.Logger passed in.
//
// Must not import: hotchain, coldchain, bridge, node, api, client, cmd, vm, contracts
package consensus
