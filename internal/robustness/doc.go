// Package robustness is the real-process tier of issue 8's robustness
// suite: it starts a local cluster of dualchain node processes
// (internal/localcluster, a redis-server each), drives it with a workload
// of clients recorded in a robust.History, injects faults on the real
// processes from a seeded schedule, heals them, and checks the history
// with robust.Check against what the cluster holds at the end.
//
// Run does one run: Up, fund one account per client from the faucet,
// start the workload (workload.go: N clients, one op in flight each, hot
// transfers, settles, deposits, cold transfers and reads, each op ok,
// fail or unknown; a retry resends the same signed transaction), inject
// faults with quiet periods between them (schedule.go), stop, heal,
// converge, drain the bridge, read the final ledger (ClusterLedger, the
// robust.FinalLedger of a live cluster: block scans of both chains, an
// atomic read of the leader, per-node block and Raft log digests), check,
// and return a Summary. Every few thousand ops the workload pauses until no op is in
// flight and the bridge drained, and reads every account atomically, so
// the checker can cut its windows there.
//
// A Fault (fault.go) is one kind of failure: it injects itself, shows it
// took effect (the leader changed, the node's process or Redis is gone, the
// store was rebuilt) and returns how to heal it; the runner measures the
// time from healing to a converged cluster. The faults:
//   - faults.go: leader and follower kill -9, a redis-server killed (and
//     later restarted empty) or wiped under a running node, a node killed
//     with its Redis, the whole cluster killed, and the leader paused with
//     SIGSTOP past the election timeout;
//   - faults_net.go: with Options.Netns every node and its redis-server
//     run in a network namespace of their own (internal/netfault); the
//     leader or a follower partitioned off, and flaky links (loss, delay,
//     reordering) between the nodes;
//   - faults_member.go: leadership transferred, a follower replaced by a
//     fresh member that catches up from a snapshot, and a follower paused
//     until the leader must send it one;
//   - faults_failpoint.go: with a binary built with -tags failpoints, a
//     crash point in apply, snapshot or the bridge's steps, a slow disk, a
//     failing disk (the node must stop) and the leader's clock skewed.
//
// Faults a run cannot do (no Redis, no namespaces, no failpoints: the
// first member answers 404 at /debug/failpoints) are dropped with the
// reason printed; any other failure of the failpoints probe fails the run
// rather than dropping faults. Victims are picked from the members of
// the moment (endpoints.go), which member-replace changes during a run.
//
// The final ledger also reports each member's Raft log digests (GET
// /v1/admin/raft/log, with the cluster's admin token; raftlog.go): every
// member at the end is asked for its bounds, then for SHA-256 digests of
// its committed entries over the range all of them still hold (from the
// highest first index, above each one's last restored snapshot, to the
// lowest commit index), one point per entry up to 4096 entries, so
// robust's "raft logs identical" row compares the logs entry by entry.
// Without the admin token, or with no range all members hold, nothing is
// compared, and that fails the run: the row is required
// (robust.Options.Require), with "no acknowledged tx lost", "supply
// conserved", "linearizable" and, on two nodes or more, "nodes agree per
// height".
//
// Invariants: a run that finds a violation, or cannot finish, returns a
// non-nil error naming a directory that keeps the history, the frozen
// final ledger, porcupine's visualization if any, the summary and the
// cluster's data directories (the summary names any file it could not
// keep); a run whose cluster does not come back at the end still checks
// what it can read, then fails; a fault's heal runs on a context of its
// own, so an injection that used up its time cannot leave it armed; every
// process the run starts is stopped by its PID (localcluster's, or one
// this package checked in /proc), and a process it paused is always resumed; the seed and the options determine
// the schedule of faults and the workload's choices (not the timing).
//
// Must not import: node, consensus, hotchain, coldchain, bridge, cmd
package robustness
