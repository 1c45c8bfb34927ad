// Package coldchain holds the cold chain's account state: cold accounts
// (balance, nonce) in one Pebble database per node, a sparse Merkle tree
// over them whose root commits to the whole state, and proofs that an
// account is (inclusion) or is not (non-inclusion) in the state with a
// given root. State is the store: Apply writes the accounts of one log
// entry, Prove makes a proof against the current root, and Proof.Verify
// checks one with nothing but the proof and a trusted root (the CLI's
// offline `dualchain proof verify`). Cold blocks, cold transactions, the
// mirror of hot state and proofs against older roots are not here yet.
//
// Invariants:
//   - One Apply is one synced Pebble batch holding the accounts, the tree
//     nodes, the new root and the applied log index: after a crash the
//     database holds all of an Apply or none of it.
//   - Apply is idempotent by log index: an index at or below the applied
//     index changes nothing.
//   - The root depends only on the set of accounts, never on the order or
//     batching of the writes that made it.
//   - The zero Account is no account: writing it deletes the account, and
//     the tree holds a leaf for exactly the accounts stored.
//   - The database holds exactly the tree's live nodes: Apply deletes the
//     nodes it replaces. Check verifies all of this (and every node's
//     hash) in time that grows with the state.
//   - Apply reads and writes only the nodes on the paths of the accounts
//     it changes: its cost grows with them, not with the state.
//   - A proof decodes in one way only (strict JSON), and a malformed
//     proof is an error, never a panic.
//
// DESIGN.md explains the tree, the hashing, the Pebble key schema, the
// proof format, and the measured costs.
//
// Must not import: hotchain, bridge, consensus, node, api, client, cmd, vm, contracts
package coldchain
