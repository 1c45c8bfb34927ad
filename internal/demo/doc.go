// Package demo tells the whole dualchain story on a local cluster, and
// checks it: `dualchain demo`. Run starts a cluster of node processes
// (internal/localcluster: a redis-server per node when one is installed,
// else the embedded store), then runs numbered steps, each narrated in one
// line with the figures it measured and ending with ✓ or ✗: a burst of
// signed hot transfers, a WebAssembly contract next to the native token, a
// settle to the cold chain with its proof checked offline, a deposit back,
// the leader killed, a follower's Redis wiped, the whole cluster killed and
// restarted from disk, and an audit (internal/audit) with the demo's own
// checks. It ends with a verdict table and a Report (--json prints it).
//
// Invariants:
//   - Every transaction the demo signs has the sender's next nonce, and is
//     sent again unchanged (to another node if need be) until the cluster
//     answers for it: it is applied at most once, and the demo knows, per
//     sender, how many of its transactions the chain must hold.
//   - Unless Config.Keep, every process the demo started is stopped by PID
//     through localcluster before Run returns, whether the steps passed,
//     failed or were interrupted (ctx ended), and the report says whether
//     any is left.
//   - A step that fails skips the steps after it, but the audit and the
//     checks still run on whatever is up: the verdict says what held.
//
// It talks to the nodes over HTTP only, as a user would: it never links in
// the node's code.
//
// Must not import: hotchain, coldchain, bridge, consensus, node, cmd
package demo
