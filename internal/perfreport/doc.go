// Package perfreport writes the project's end-to-end performance report,
// docs/performance.md, and the PNG charts it embeds (docs/perf/*.png),
// from the figures of one `dualchain bench --report` run: the scaling
// study's rows, a sweep of offered load, native against VM execution,
// state size, cluster size and a CPU profile. SummarizeProfile reads a Go
// CPU profile and sorts its samples into groups a reader understands
// (signature verification, Raft and log, GC and runtime, ...); Write
// lays everything out as markdown tables, charts and a few sentences
// computed from the figures.
//
// Invariants: the report says only what the figures say: every sentence
// with a number or a conclusion is computed from the Report, and a part
// that was not measured says so instead of being left out. Write replaces
// performance.md whole, last, and removes the charts of parts that were
// not measured, so the markdown never embeds a stale chart. The package
// measures nothing itself (the bench command does), so it reads no node
// internals.
//
// Must not import: node, consensus, hotchain, coldchain, bridge, api, client, cmd
package perfreport
