// Package hotchain holds the hot chain's state: the state keys and values,
// the applied log index, the head block, the state commitment, and the
// history of hot blocks and transactions. Store is its interface, with two
// implementations held to one conformance suite and a differential test:
// RedisStore (one redis-server per node, the production store) and
// MemoryStore (in-process, the development default). Commitment is the
// state commitment, LtHash16, carried in every hot block header.
//
// Invariants:
//   - A block's effects, its history records, the log index and the new
//     commitment are stored in one atomic step: a store never holds half a
//     block.
//   - Apply is idempotent by log index: an update at or below the applied
//     index changes nothing.
//   - Apply never writes onto a store that lost its data: every Apply (and
//     Get and Meta) checks the incarnation Open saw, and fails with ErrWiped.
//   - The stored commitment is the commitment of the stored state; with the
//     invariants build tag, Apply recomputes it from the values it replaces.
//   - Absent and empty values are the same state: an empty value deletes its
//     key, and the commitment counts only non-empty values.
//
// DESIGN.md explains the Redis key schema, the atomicity mechanism and the
// commitment.
//
// Must not import: coldchain, bridge, consensus, node, api, cmd, vm, contracts
package hotchain
