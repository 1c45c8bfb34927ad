// Package audit checks the chain's invariants on every node of a cluster and
// across them, from the nodes' answers to GET /v1/audit and their blocks:
// on each node, that it answers, that value is conserved (hot balances +
// cold balances + settles and deposits in flight = the genesis supply),
// that no balance is bad, and that its hot state matches its cold mirror
// plus the writes since the last checkpoint; across nodes, that the cold
// blocks at the lowest cold height any node has carry the same state root
// and hash, and the hot blocks at the lowest hot height the same
// commitment and hash. `dualchain audit` prints its Report as a table;
// `dualchain demo` runs it as its last step.
//
// Invariants: Run only reads (it talks to nodes over HTTP with the client
// and never changes their state); a node that does not answer fails its
// checks instead of ending the audit; Report.Pass is true exactly when
// every check passed.
//
// Must not import: hotchain, coldchain, bridge, consensus, node, cmd, internal
package audit
