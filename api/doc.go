// Package api is a node's HTTP interface: submitting transactions, reading
// transactions, blocks, accounts and status, and Prometheus metrics. It
// serves whatever implements Backend (the node does); it owns the wire
// format, not the chain.
//
// Routes, all under /v1 except /metrics:
//
//	POST /v1/transactions          one tx or a batch; JSON or CBOR; ?wait=commit
//	GET  /v1/transactions/{id}     a committed tx with its receipt (TxView); ?trace=true adds its VM trace
//	GET  /v1/transactions/{id}/trace  the tx's VM trace (ledger.Trace; TraceBackend)
//	GET  /v1/blocks/{height}       one hot block (BlockView); ?writes=true adds the write set, ?traces=true the VM traces
//	GET  /v1/blocks/{height}/raw   one hot block in its canonical CBOR (application/cbor)
//	GET  /v1/blocks/latest         the head block (genesis on a fresh chain, if served)
//	GET  /v1/blocks?from=H&to=H    a bounded range (BlocksPage); ?traces=true adds the VM traces;
//	                               in CBOR (RawBlocksPage: canonical blocks, traces beside) if Accept prefers it
//	GET  /v1/accounts/{addr}       balance and next nonce
//	GET  /v1/cold/accounts/{addr}  cold balance and next cold nonce (ColdBackend)
//	GET  /v1/cold/blocks/{height}  one cold block (ledger.ColdBlock); also /latest
//	GET  /v1/cold/blocks?from=H&to=H  a bounded range of cold blocks (ColdBlocksPage)
//	GET  /v1/cold/proofs/{addr}    ColdProof, ?height=H (default: the latest cold block)
//	GET  /v1/bridge/transfers/{id} a settle's or deposit's status (BridgeTransfer)
//	GET  /v1/audit                 this node's sums for `dualchain audit` (Audit)
//	GET  /v1/status                Status
//	GET  /metrics                  Prometheus text format
//
// Invariants:
//   - A range page is walked once (walkRange) for both its forms, so the
//     JSON and the CBOR page of a request hold the same blocks and next.
//   - Every error a client sees is JSON {"error":{"code":...,"message":...}}
//     with a code from the table in errors.go. Errors in the request itself
//     get their code where they are found (requestError); a backend error
//     without a code is logged and shown as "internal", never with its
//     text. A request logs at most one line for its errors, however many
//     transactions failed.
//   - Request bodies are bounded (Config.MaxBodyBytes, Config.MaxBatch) and
//     decoded strictly: unknown fields and trailing data are errors. No
//     more than MaxBatch transactions are decoded from one body, and no
//     more than 256 KiB is allocated for a body before it arrives.
//   - No panic reaches a client: a handler that panics answers 500 internal.
//
// A submission's HTTP status: 200 when at least one transaction was
// accepted (each result then says pending, committed or rejected, with its
// own error). When every transaction was rejected, the response carries the
// per-item results and a top-level error, and its HTTP status is the status
// of the rejections' codes if they all map to the same one (409 for a batch
// of stale nonces, 503 when the mempool is full), else 400.
//
// Must not import: hotchain, coldchain, bridge, consensus, node, cmd, vm
package api
