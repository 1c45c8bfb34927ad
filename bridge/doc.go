// Package bridge is the hot chain's side of moving value between the
// chains, and the rules that tie the two sides together. It owns the hot
// state's bridge records and the functions that read and write them:
//
//   - Settle runs a settle transaction natively on the hot chain: it
//     debits the sender's hot balance into an escrow record keyed by the
//     transaction's id.
//   - Scan reads the hot writes made since the previous checkpoint, which
//     a cold block copies into the cold chain's mirror, and finds in them
//     the escrows to credit on the cold chain, the deposits the hot chain
//     credited, and the records the hot chain cleaned up.
//   - Effects is what the leader adds to a hot block after a cold block
//     commits: it credits the deposits the cold chain debited (once each:
//     a marker records the credit) and deletes the records the cold chain
//     is done with.
//   - Sum adds up hot state for an audit: balances, and the escrows still
//     in flight.
//
// The cold chain's side (crediting escrows, debiting deposits, recording
// each transfer's status) is in coldchain; node wires the two. See
// DESIGN.md for the life of a settle and of a deposit, and why value is
// never lost or counted twice.
//
// Invariants:
//   - Σ hot balances + Σ cold balances + Σ in-flight = genesis supply at
//     every applied log index, where in flight is an escrow the cold chain
//     has not credited, or a deposit the cold chain debited and the hot
//     chain has not credited.
//   - A deposit is credited on the hot chain at most once: the credit and
//     its marker are written together, and the leader credits only
//     deposits without a marker that the cold chain still lists as
//     pending.
//   - Scan and Effects are deterministic: the same input gives the same
//     output, in the same order, on every node.
//
// Must not import: hotchain, coldchain, consensus, node, api, client, cmd
package bridge
