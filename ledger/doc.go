// Package ledger defines dualchain's data model: addresses and keys,
// transactions, hot blocks and receipts, their canonical CBOR encoding, their
// hashes, and signature verification.
//
// Invariants:
//   - Every value has exactly one encoding. Encode uses CBOR's core
//     deterministic mode; decoders re-encode what they read, so a transaction
//     id and its signature are always computed over canonical bytes.
//   - A transaction id is the SHA-256 of the signing bytes: a fixed domain tag
//     followed by the canonical encoding of every field but the signature,
//     chain id first.
//   - Signatures follow ZIP-215, and the single and batch verifiers accept
//     exactly the same signatures.
//   - Hot paths encode and decode by hand (txcodec.go, blockcodec.go,
//     txdecode.go, trace_cbor.go), never differently from the generic encoder: a hand-written
//     encoder writes the bytes Marshal would (tests compare them), and a
//     hand-written decoder reads only the canonical encoding, handing any
//     other input to the generic decoder, so it accepts and refuses exactly
//     what Unmarshal does (differential fuzz targets check both).
//
// Import rule: ledger imports no other dualchain package; only the standard
// library and crypto and encoding modules.
//
// Must not import: contracts, vm, hotchain, coldchain, bridge, consensus, node, api, client, cmd, internal
package ledger
