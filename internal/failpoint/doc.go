// Package failpoint injects faults at named points of the node's code:
// a crash (the process exits at once, as kill -9 would), an error (the
// process's log gets a line as it is injected), a sleep, or a clock
// offset. The robustness suite arms them in a node
// built with the failpoints tag, at start from DUALCHAIN_FAILPOINTS or at
// run time through the node's /debug/failpoints API, to crash inside
// apply, snapshot and the bridge's steps, slow the disks down, fail their
// writes and skew the clock.
//
// Without the tag, Inject and Offset are constant functions the compiler
// inlines away: the production binary carries no failpoint code, no
// registry and no API (BenchmarkInject shows the cost, DESIGN.md why this
// registry and not gofail's or pingcap's source rewriting).
//
// A point's action is a term: [P%][N*]kind[(arg)], kind one of off,
// crash, error, sleep(d) and skew(d); P% fires with probability P, N*
// fires the first N times only. Terms of several points are joined by
// ';' as name=term.
//
// Invariants: a point that is not armed costs an atomic load in a
// failpoints build and nothing otherwise; only the names in Points can be
// armed, so a typo fails loudly instead of arming nothing.
//
// Must not import: ledger, vm, contracts, hotchain, coldchain, bridge, consensus, node, api, client, cmd
package failpoint
