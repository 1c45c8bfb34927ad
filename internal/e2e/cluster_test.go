package e2e

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
)

// loadTimeCluster is how long a load runs before and after a fault.
const loadTimeCluster = 700 * time.Millisecond

// TestClusterRecovery runs a three-node cluster of real node processes,
// each with its own real redis-server, through the failures of
// ARCHITECTURE §9 one after another, each under a stream of transfers sent
// through several nodes (clusterLoad). After each, every node must report
// the same height, head and commitment under one leader, and every
// transfer a node acknowledged must be committed exactly once: on every
// node through what it holds (checkHeld: a node that restored a snapshot
// has no blocks before it: its archive starts there), and with check on up
// to two nodes that hold the whole chain (at least one must: a node's
// archive keeps what it applied, even after a power loss emptied its Redis). The scenarios share the cluster
// and its chain, so later ones run on a long, compacted log: the order
// matters. Snapshots are taken every 64 entries, so that they really
// happen; the scenarios that depend on them assert they did.
func TestClusterRecovery(t *testing.T) {
	tc := upCluster(t, 3)
	for _, sc := range []struct {
		name string
		run  func(t *testing.T, tc *testCluster)
	}{
		{"FollowerKilled", followerKilled},
		{"LeaderKilled", leaderKilled},
		{"FollowerRedisWiped", followerRedisWiped},
		{"FollowerLagsPastSnapshot", followerLagsPastSnapshot},
		{"VoterJoinsLate", voterJoinsLate},
		{"PowerLoss", powerLoss},
	} {
		if !t.Run(sc.name, func(t *testing.T) { sc.run(t, tc) }) {
			return // the cluster is in an unknown state: what follows is noise
		}
	}
}

// followerKilled: a follower is killed with SIGKILL under load and
// restarted on its Redis, which kept its state. The load pauses while it is
// down, so that the leader keeps the entries it missed: it catches up by
// replaying the log past its applied index (no snapshot restored, its
// store never rebuilt), without applying anything twice. Then the load
// resumes through every node.
func followerKilled(t *testing.T, tc *testCluster) {
	leader := tc.leader(t)
	f := tc.others(leader)[0]
	l := tc.startLoad(tc.ids()...)
	time.Sleep(loadTimeCluster)
	before := tc.mustStatus(t, f)
	mustDo(t, "Kill("+f+")", tc.Kill(f))
	l.stop(t)
	restart(t, tc, f)
	after := tc.mustStatus(t, f)
	if after.AppliedIndex < before.AppliedIndex {
		t.Errorf("%s restarted on its Redis: applied index %d, want >= %d, its index before the kill", f, after.AppliedIndex, before.AppliedIndex)
	}
	l = tc.startLoad(tc.ids()...)
	time.Sleep(loadTimeCluster)
	l.stop(t)
	tc.converge(t)
	for _, m := range []string{metricRebuilds, metricRestores} {
		if n := tc.mustMetric(t, f, m); n != 0 {
			t.Errorf("%s: %s = %v after the restart, want 0: its Redis kept its state and the leader its log", f, m, n)
		}
	}
	tc.verify(t, nil)
}

// leaderKilled: the leader is killed with SIGKILL under load; another
// node is elected, the load goes on through the survivors, and the killed
// node, restarted, catches up.
func leaderKilled(t *testing.T, tc *testCluster) {
	old := tc.leader(t)
	l := tc.startLoad(tc.ids()...)
	time.Sleep(loadTimeCluster)
	mustDo(t, "Kill("+old+")", tc.Kill(old))
	killed := time.Now()
	leader := tc.leader(t, old)
	t.Logf("%s killed; %s leads %v later", old, leader, time.Since(killed).Round(time.Millisecond))
	l.waitAcked(t, 50)
	restart(t, tc, old)
	time.Sleep(loadTimeCluster)
	l.stop(t)
	tc.converge(t)
	tc.verify(t, nil)
}

// followerRedisWiped: a running follower's redis-server is killed and
// started empty under load; the node notices, rebuilds its store from its
// snapshot and the log, and converges.
func followerRedisWiped(t *testing.T, tc *testCluster) {
	leader := tc.leader(t)
	f := tc.victim(t, leader)
	if st := tc.mustStatus(t, f); st.LastSnapshotIndex == 0 {
		t.Fatalf("%s: last snapshot index 0 before its Redis is wiped, want a snapshot to rebuild from", f)
	}
	rebuilds := tc.mustMetric(t, f, metricRebuilds)
	restores := tc.mustMetric(t, f, metricRestores)
	l := tc.startLoad(tc.ids()...)
	time.Sleep(loadTimeCluster)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	mustDo(t, "WipeRedis("+f+")", tc.WipeRedis(ctx, f))
	tc.waitMetric(t, f, metricRebuilds, rebuilds+1)
	time.Sleep(loadTimeCluster)
	l.stop(t)
	tc.converge(t)
	if n := tc.mustMetric(t, f, metricRestores); n < restores+1 {
		t.Errorf("%s: %s = %v after its Redis was wiped, want >= %v: rebuilt from its snapshot", f, metricRestores, n, restores+1)
	}
	tc.verify(t, nil)
}

// followerLagsPastSnapshot: a follower is down while the leader commits
// far more entries than its snapshot threshold and trailing logs, so the
// entries it misses are compacted away; restarted, it catches up by a
// snapshot the leader installs.
func followerLagsPastSnapshot(t *testing.T, tc *testCluster) {
	leader := tc.leader(t)
	f := tc.victim(t, leader)
	st := tc.mustStatus(t, f)
	behind := max(st.AppliedIndex, st.CommitIndex)
	mustDo(t, "Kill("+f+")", tc.Kill(f))
	l := tc.startLoad(tc.others(f)...)
	// Well past what the leader keeps: its snapshot is this far ahead,
	// it keeps trailingLogs entries before it, and raft-wal drops only
	// whole segments, which hold a few dozen blocks at most.
	want := behind + 2*(snapshotThreshold+trailingLogs)
	waitUntil(t, "the leader to snapshot far past the stopped follower", waitTimeout, func() (bool, string) {
		st, err := tc.status(leader)
		if err != nil {
			return false, err.Error()
		}
		return st.LastSnapshotIndex >= want, fmtSnapshot(leader, st, want)
	})
	restart(t, tc, f)
	tc.waitMetric(t, f, metricRestores, 1)
	l.stop(t)
	tc.converge(t)
	tc.verify(t, nil)
}

// voterJoinsLate: a new voter joins once the leader's log is compacted far
// past its start, and catches up by snapshot, under load.
func voterJoinsLate(t *testing.T, tc *testCluster) {
	leader := tc.leader(t)
	if st := tc.mustStatus(t, leader); st.LastSnapshotIndex <= snapshotThreshold+trailingLogs {
		t.Fatalf("%s: last snapshot index %d, want > %d: the log must be compacted before the join", leader, st.LastSnapshotIndex, snapshotThreshold+trailingLogs)
	}
	l := tc.startLoad(tc.ids()...)
	time.Sleep(loadTimeCluster)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	id, err := tc.AddNode(ctx, false)
	mustDo(t, "AddNode(voter)", err)
	tc.waitMetric(t, id, metricRestores, 1)
	time.Sleep(loadTimeCluster)
	l.stop(t)
	sts := tc.converge(t)
	if st := sts[id]; st.Edge || st.Role != "follower" {
		t.Errorf("%s: role %q edge %v, want a voting follower", id, st.Role, st.Edge)
	}
	tc.verify(t, nil)
}

// powerLoss: every node and every redis-server is killed with SIGKILL
// under load, then all are started again: the Redis servers come back
// empty, so each node rebuilds its store from its Raft snapshot and log.
// Every acknowledged transfer is still committed, and the blocks the
// leader held just before the crash are the same blocks, with the same
// commitments, on every node that holds them again, or the parent of the
// first one it holds.
func powerLoss(t *testing.T, tc *testCluster) {
	leader := tc.leader(t)
	l := tc.startLoad(tc.ids()...)
	time.Sleep(loadTimeCluster)
	for _, id := range tc.ids() {
		if st := tc.mustStatus(t, id); st.LastSnapshotIndex == 0 {
			t.Errorf("%s: no snapshot before the power loss, want one to restart from", id)
		}
	}
	known := heldBlocks(t, tc, leader)
	addHeads(t, tc, known)
	mustDo(t, "KillAll(withRedis)", tc.KillAll(true))
	l.stop(t)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	mustDo(t, "StartAll()", tc.StartAll(ctx))
	tc.converge(t)
	for _, id := range tc.ids() {
		if n := tc.mustMetric(t, id, metricRestores); n < 1 {
			t.Errorf("%s: %s = %v after the power loss, want >= 1: its Redis came back empty", id, metricRestores, n)
		}
	}
	compared := 0
	for _, v := range tc.verify(t, known) {
		compared += v.compared
	}
	// The nodes agree on one chain linked by parent hashes, so one block
	// compared anywhere vouches for every block before it.
	if compared == 0 {
		t.Errorf("no node holds any of the %d blocks known before the crash, or the child of one: nothing compared", len(known))
	}
}

// addHeads adds to known every node's head as its status reports it,
// read as close to the crash as can be; a head known already must be the
// same block.
func addHeads(t *testing.T, tc *testCluster, known map[uint64]api.BlockView) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range tc.Status(ctx) {
		if s.Status == nil {
			t.Fatalf("%s: status before the crash: %v", s.ID, s.Err)
		}
		h := api.BlockView{Height: s.Status.Height, Hash: s.Status.Head, Commitment: s.Status.Commitment}
		if k, ok := known[h.Height]; ok && (k.Hash != h.Hash || k.Commitment != h.Commitment) {
			t.Errorf("%s: head %d = hash %s commitment %s before the crash, want %s %s", s.ID, h.Height, h.Hash, h.Commitment, k.Hash, k.Commitment)
		}
		known[h.Height] = h
	}
}

// heldBlocks returns, by height, the blocks node id holds now.
func heldBlocks(t *testing.T, tc *testCluster, id string) map[uint64]api.BlockView {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	v, err := readHeld(ctx, id, tc.client(id))
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	known := make(map[uint64]api.BlockView)
	for _, b := range v.blocks {
		known[b.Height] = b
	}
	return known
}

// restart restarts node id and waits until it answers.
func restart(t *testing.T, tc *testCluster, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	mustDo(t, "Restart("+id+")", tc.Restart(ctx, id))
}

// mustDo fails the test if what returned an error.
func mustDo(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s = %v", what, err)
	}
}

// fmtSnapshot says where node id's snapshot is, against want.
func fmtSnapshot(id string, st api.Status, want uint64) string {
	return fmt.Sprintf("%s: last snapshot index %d, commit index %d, want a snapshot at >= %d", id, st.LastSnapshotIndex, st.CommitIndex, want)
}

// victim picks a follower to crash: one that lost its history already if
// there is one, so that nodes holding the whole chain, which check needs,
// last as long as they can.
func (tc *testCluster) victim(t *testing.T, leader string) string {
	t.Helper()
	followers := tc.others(leader)
	for _, id := range followers {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := tc.client(id).Block(ctx, 1)
		cancel()
		var cerr *client.Error
		if errors.As(err, &cerr) && cerr.Code == api.CodeNotFound {
			return id
		}
	}
	return followers[0]
}
