// Package coldchain is the cold chain of one node, in one Pebble database:
// cold accounts (balance, nonce) under a sparse Merkle tree whose root
// commits to them, the cold blocks, the mirror of hot state as of the last
// checkpoint, and the bridge's transfer records. State is the account
// store: Apply writes one log entry's accounts, Prove and ProveAt make
// proofs against the current root or a recent one (ledger.Proof.Verify
// checks one offline, with nothing but a trusted root). Chain is the chain:
// Apply runs one cold block (settlements, credited deposits, cold transfers
// and deposits, the mirror) and stores it with its state root; Snapshot and
// Restore copy the whole database for Raft.
//
// Invariants:
//   - One Apply is one synced Pebble batch holding the accounts, the tree
//     pages, the chain's records, the new root and the applied log index:
//     after a crash the database holds all of an Apply or none of it.
//   - Apply is idempotent by log index: an index at or below the applied
//     index changes nothing.
//   - The root depends only on the set of accounts, never on the order or
//     batching of the writes that made it.
//   - The zero Account is no account: writing it deletes the account, and
//     the tree holds a leaf for exactly the accounts stored.
//   - The database holds exactly the pages of the current tree and of the
//     last Config.KeepVersions ones, and the in-memory tree matches the
//     stored one: Check verifies all of this (and every hash) in time that
//     grows with the state.
//   - Apply hashes and writes only the pages on the paths of the accounts
//     it changes (the tree is in memory): its cost grows with them, not
//     with the state.
//   - A settlement id is credited at most once; a cold transaction is in
//     at most one block (its nonce).
//   - A proof decodes in one way only (strict JSON), and a malformed
//     proof is an error, never a panic.
//
// DESIGN.md explains the tree, the hashing, the Pebble key schema, the
// proof format, and the measured costs.
//
// Must not import: hotchain, bridge, consensus, node, api, client, cmd, vm, contracts
package coldchain
