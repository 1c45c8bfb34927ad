// Package export is `dualchain export`: it pulls a chain's history (blocks,
// transactions, receipts' events, bridge transfers and the VM's per-call
// memory trace frames) from a node and writes it as files that pandas,
// DuckDB and Spark load. The fetcher turns a node's ranges into Chunks,
// handed over in height order; the Sink writes them as parts, one file of
// each kind (blocks, txs, frames, events, and for the cold chain
// transfers) per part, in CSV (plain, gzip or zstd) or Parquet, with a
// manifest, dictionaries for repeated strings and codes.csv; ReadDataset
// reads an export back. docs/export.md describes the files for their
// users.
//
// Invariants:
//   - The files depend only on the chain and the Options: the same export,
//     written in one run or interrupted and resumed any number of times,
//     is byte for byte the same. Nothing in a file records when or how it
//     was written; dictionary codes follow first appearance in chain
//     order; a part ends only at a chunk boundary of the Options (never
//     where a run stopped); compressors and the Parquet writer run with
//     fixed settings on one goroutine.
//   - A part is in the manifest only once its files are synced under their
//     final names, and the dictionaries on disk hold at least the values
//     the manifest's parts use. Anything the manifest does not list is
//     deleted when an export resumes.
//   - Frames and events name their transaction by ledger.TxKey, the txs
//     file's tx column; block, id and gas are not repeated per frame.
//   - Run makes every request on a pool of exactly Config.Workers
//     goroutines, over one transport of at most Workers connections: a
//     node never sees more connections or requests in flight from one
//     export. What is fetched ahead of the writer is bounded (window).
//
// Must not import: node, hotchain, coldchain, bridge, consensus, vm, cmd
package export
