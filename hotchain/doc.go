// Package hotchain holds the hot chain's state: the state keys and values,
// the applied log index, the head block, the state commitment, and the
// history of hot blocks and transactions. Store is its interface, with three
// implementations held to one conformance suite and a differential test:
// RedisStore (one redis-server per node, the production store), MemoryStore
// (in-process, the development default) and PebbleStore (state on disk, a
// synced write per block: the study's "disk state" baseline). Commitment is the
// state commitment, LtHash16, carried in every hot block header. Archive
// keeps every applied block on the node's disk (Pebble), for the history a
// store rebuilt from a snapshot no longer has.
//
// Invariants:
//   - A block's effects, its history records, the log index and the new
//     commitment are stored in one atomic step: a store never holds half a
//     block.
//   - Apply is idempotent by log index: an update at or below the applied
//     index changes nothing.
//   - Nothing is written to or read from a store that lost its data: Apply
//     and every read (Get, Meta, Block, Tx, Scan, Snapshot) check the
//     incarnation Open saw, in the same round trip as their data (Scan and
//     Snapshot before and after theirs), and fail with ErrWiped. Restore,
//     the rebuild path, is the exception: it replaces whatever is there.
//   - A new incarnation starts from exactly the genesis state: Open on a
//     store without a meta record first deletes everything else it holds
//     (in Redis, every key under the dc: prefix).
//   - RedisStore.Open refuses a server that may evict keys
//     (ErrEvictingRedis), unless the server does not let it read the policy.
//   - The stored commitment is the commitment of the stored state; with the
//     invariants build tag, Apply recomputes it from the values it replaces.
//   - Snapshot returns the state of one applied index (sorted, without
//     the incarnation), or an error; Restore checks a snapshot's commitment
//     and genesis before it writes anything, and a crash during Restore
//     leaves the old chain or no meta at all, never a mix. A snapshot holds
//     no history: after Restore, Block and Tx answer ErrNotFound for it.
//   - Absent and empty values are the same state: an empty value deletes its
//     key, and the commitment counts only non-empty values.
//
// Not detected: a store restored from an older snapshot (Redis restarted
// from an RDB or AOF file) keeps its incarnation at an older index. Meta
// shows the older index and Apply of the next block fails with ErrNotNext,
// but Block and Tx answer ErrNotFound for what it lost: the node must
// compare Meta with its own head.
//
// DESIGN.md explains the Redis key schema, the atomicity mechanism, the
// commitment, and what is detected and what is not.
//
// Must not import: coldchain, bridge, consensus, node, api, cmd, vm, contracts
package hotchain
