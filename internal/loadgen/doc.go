// Package loadgen sends signed token transfers to a node and measures how
// long each batch takes to commit: the load behind the end-to-end and
// cluster benchmarks. Transfers are signed before the clock starts; a
// closed loop keeps a fixed number of batches in flight, an open loop sends
// batches at a fixed rate however fast they commit.
//
// Must not import: node, consensus, hotchain, coldchain, bridge, cmd
package loadgen
