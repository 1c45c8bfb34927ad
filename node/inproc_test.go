package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/internal/robust"
	"github.com/dualchain/dualchain/ledger"
	"github.com/hashicorp/raft"
)

// The in-process tier of the robustness suite (issue 8): three nodes in
// this process, their Raft traffic over raft.InmemTransport, whose links
// a scenario cuts and heals, with a workload recorded in a robust.History
// and checked by robust.Check at the end (nothing lost, nothing applied
// twice, supply conserved, nodes agree per height, identical Raft logs,
// linearizable). Each scenario shows its fault took effect. They run in
// every go test, a few seconds each.

// inprocCluster is a testCluster whose Raft transports are in memory.
type inprocCluster struct {
	*testCluster
	trans []*raft.InmemTransport
	urls  []string // the nodes' APIs, fixed across restarts
}

// startInproc starts three voters sharing one genesis over in-memory Raft
// transports; edit adjusts each node's config.
func startInproc(t *testing.T, edit func(*Config)) *inprocCluster {
	t.Helper()
	const size = 3
	c := &inprocCluster{testCluster: &testCluster{t: t}}
	root := t.TempDir()
	var peers []Peer
	for i := range size {
		id := fmt.Sprintf("n%d", i+1)
		cfg := TestConfig(filepath.Join(root, id))
		cfg.NodeID, cfg.RaftAddr, cfg.HTTPAddr = id, id, freeAddr(t)
		cfg.AdminToken = clusterToken
		if edit != nil {
			edit(&cfg)
		}
		_, tr := raft.NewInmemTransport(raft.ServerAddress(id))
		cfg.Raft.Transport = tr
		c.trans = append(c.trans, tr)
		c.urls = append(c.urls, "http://"+cfg.HTTPAddr)
		peers = append(peers, Peer{ID: id, RaftAddr: id, URL: c.urls[i]})
		c.cfgs = append(c.cfgs, cfg)
	}
	if _, err := loadGenesis(c.cfgs[0]); err != nil {
		t.Fatal(err)
	}
	for i := range c.cfgs {
		c.cfgs[i].Peers = peers
		if i > 0 {
			copyGenesis(t, c.cfgs[0].DataDir, c.cfgs[i].DataDir)
			c.cfgs[i].Dev = false
		}
	}
	c.heal()
	c.nodes = make([]*running, size)
	for i := range c.cfgs {
		c.nodes[i] = startNodeNoWait(t, c.cfgs[i])
	}
	for _, n := range c.nodes {
		waitCaughtUp(t, n.Node)
	}
	return c
}

// heal connects every pair of transports, both ways.
func (c *inprocCluster) heal() {
	for i, a := range c.trans {
		for j, b := range c.trans {
			if i != j {
				a.Connect(b.LocalAddr(), b)
			}
		}
	}
}

// isolate cuts node i off from every other node, both ways.
func (c *inprocCluster) isolate(i int) {
	c.trans[i].DisconnectAll()
	for j, tr := range c.trans {
		if j != i {
			tr.Disconnect(c.trans[i].LocalAddr())
		}
	}
}

// restart starts node i, which was stopped, again on the same data dir
// (its Raft log, snapshots and stores), with a new transport: Raft closed
// the old one.
func (c *inprocCluster) restart(i int) {
	c.t.Helper()
	_, tr := raft.NewInmemTransport(c.trans[i].LocalAddr())
	c.trans[i], c.cfgs[i].Raft.Transport = tr, tr
	c.heal()
	c.nodes[i] = startNodeNoWait(c.t, c.cfgs[i])
}

// fund gives each key amount on the hot chain from the faucet, and
// returns what the accounts hold once it committed.
func (c *inprocCluster) fund(keys []*ledger.Key, amount uint64) []robust.Account {
	c.t.Helper()
	f := faucet(c.t.(*testing.T), c.cfgs[0])
	var txs []*ledger.Tx
	for i, k := range keys {
		txs = append(txs, transfer(f, uint64(i), k.Address, amount))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := c.client(c.leader()).SubmitWait(ctx, txs...)
	if err != nil {
		c.t.Fatalf("fund: %v", err)
	}
	var out []robust.Account
	for i, k := range keys {
		if res[i].Status != "committed" {
			c.t.Fatalf("fund %d: %+v", i, res[i])
		}
		out = append(out, robust.Account{Address: k.Address, Hot: amount})
	}
	return out
}

// filler commits n transfers of 1 from the faucet to an untracked
// account, one block each, through the leader, starting at the faucet's
// nonce from; it returns the next nonce.
func (c *inprocCluster) filler(from uint64, n int) uint64 {
	c.t.Helper()
	f := faucet(c.t.(*testing.T), c.cfgs[0])
	c.sendOneByOne(c.leader(), f, testKey(250).Address, from, from+uint64(n))
	return from + uint64(n)
}

// check converges the cluster, reads the final ledger and checks the
// history against it; it fails the test on any violation and requires
// the Raft logs to have been compared over a real range.
func (c *inprocCluster) check(h *robust.History) robust.Report {
	c.t.Helper()
	c.converged(0)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l := &inprocLedger{leader: client.New(c.urls[c.leader()], client.WithHTTPClient(strongClient()))}
	for i, u := range c.urls {
		l.nodes = append(l.nodes, client.New(u).Admin(clusterToken))
		l.ids = append(l.ids, c.cfgs[i].NodeID)
	}
	rep := robust.Check(ctx, h, l, robust.Options{Drained: true, Timeout: 30 * time.Second,
		Require: []string{robust.InvAcked, robust.InvConserved, robust.InvLinearizable, robust.InvNodes, robust.InvRaftLog}})
	c.t.Logf("raft log range %d..%d (%d entries)\n%s", l.logFrom, l.logTo, l.logTo-l.logFrom+1, rep)
	if !rep.Pass {
		c.t.Fatalf("robust.Check failed: %v\n%s", rep.Failed(), rep)
	}
	if rl := rep.Row(robust.InvRaftLog); rl.Checked < 16 {
		c.t.Fatalf("raft logs compared at %d indexes, want 16 at least: %+v", rl.Checked, rl)
	}
	if rep.Ops.OK < 10 || rep.Row(robust.InvLinearizable).Checked == 0 {
		c.t.Fatalf("ops %+v, linearizability %+v: want a workload that did something", rep.Ops, rep.Linearization)
	}
	return rep
}

func strongClient() *http.Client { return &http.Client{Transport: strongReads{http.DefaultTransport}} }

// inprocWorkload funds four accounts and starts their clients.
func (c *inprocCluster) workload(seed uint64) *workload {
	keys := []*ledger.Key{testKey(201), testKey(202), testKey(203), testKey(204)}
	initial := c.fund(keys, 1000)
	w := startWorkload(c.urls, keys, initial, seed)
	c.t.Cleanup(func() { w.finish() }) // before the nodes stop: registered after them
	return w
}

// waitOps waits until the workload has begun n more ops.
func waitOps(t *testing.T, w *workload, n int) {
	t.Helper()
	start := len(w.h.Ops())
	waitFor(t, fmt.Sprintf("%d more ops", n), func() bool { return len(w.h.Ops()) >= start+n })
}

// The leader is cut off from both followers under load: they elect a new
// leader in a higher term, the old one cannot commit (its commit index
// stays where it was when it stepped down while the majority commits past
// it), and once healed it follows the new leader; nothing acknowledged is
// lost.
func TestInprocLeaderPartition(t *testing.T) {
	c := startInproc(t, nil)
	w := c.workload(1)
	waitOps(t, w, 30)
	old := c.leader()
	term := c.nodes[old].replica.State().Term
	c.isolate(old)
	var next int
	waitFor(t, "a leader on the majority side", func() bool {
		for i, n := range c.nodes {
			if st := n.replica.State(); i != old && st.Role == "leader" && st.Term > term {
				next = i
				return true
			}
		}
		return false
	})
	t.Logf("leader %s isolated; %s leads in a later term", c.cfgs[old].NodeID, c.cfgs[next].NodeID)
	// Until the old leader steps down (its lease runs out without a
	// quorum), a reply to an RPC sent before the cut may still move its
	// commit index; after, only a leader's AppendEntries could, and none
	// reaches it.
	waitFor(t, "the old leader to step down", func() bool { return !c.nodes[old].replica.IsLeader() })
	stale := c.nodes[old].replica.State().CommitIndex
	waitOps(t, w, 10) // an op sent to the isolated node waits out its attempt
	waitFor(t, "the majority to commit past the old leader", func() bool {
		return c.nodes[next].replica.State().CommitIndex > stale+5
	})
	if st := c.nodes[old].replica.State(); st.CommitIndex != stale {
		t.Fatalf("isolated old leader %s: commit index %d, want %d, where it was when it stepped down (the majority is at %d)",
			c.cfgs[old].NodeID, st.CommitIndex, stale, c.nodes[next].replica.State().CommitIndex)
	}
	t.Logf("%s stepped down at commit index %d and stayed there; %s committed to %d",
		c.cfgs[old].NodeID, stale, c.cfgs[next].NodeID, c.nodes[next].replica.State().CommitIndex)
	c.heal()
	waitFor(t, "the old leader to follow and commit again", func() bool {
		st := c.nodes[old].replica.State()
		return st.Role == "follower" && st.LeaderID != "" && st.CommitIndex > stale
	})
	t.Logf("healed; %s follows", c.cfgs[old].NodeID)
	waitOps(t, w, 20)
	c.check(w.finish())
}

// The leader crashes (its node stops) under load and restarts on the same
// data dir: the others elect a new leader, and the restarted node
// replays its log and catches up.
func TestInprocLeaderRestart(t *testing.T) {
	c := startInproc(t, nil)
	w := c.workload(2)
	waitOps(t, w, 30)
	old := c.leader()
	c.nodes[old].stop()
	waitFor(t, "a new leader", func() bool {
		for i, n := range c.nodes {
			if i != old && n.replica.IsLeader() {
				return true
			}
		}
		return false
	})
	waitOps(t, w, 30)
	c.restart(old)
	waitCaughtUp(t, c.nodes[old].Node)
	waitOps(t, w, 30)
	c.check(w.finish())
}

// A follower cut off while the others commit past its log (the leader
// snapshots and compacts) catches up by installing the leader's snapshot
// once the link heals.
func TestInprocLaggingFollowerSnapshot(t *testing.T) {
	c := startInproc(t, nil)
	w := c.workload(3)
	waitOps(t, w, 20)
	lag := c.follower()
	before := c.nodes[lag].sm.restores.Load()
	c.isolate(lag)
	stale := c.nodes[lag].replica.State().CommitIndex
	nonce := c.filler(uint64(len(w.keys)), 250) // past TestConfig's snapshot threshold (128) and trailing logs (64)
	l := c.nodes[c.leader()]
	waitFor(t, "the leader to compact past the follower", func() bool {
		d, err := l.replica.LogDigests(context.Background(), 0, 0, 0)
		return err == nil && d.First > stale+1
	})
	c.heal()
	waitFor(t, "the follower to install a snapshot", func() bool { return c.nodes[lag].sm.restores.Load() > before })
	c.filler(nonce, 20) // entries past the installed snapshot, for the Raft logs to compare
	c.check(w.finish())
	if st := c.nodes[lag].replica.State(); st.LastSnapshotIndex <= stale {
		t.Fatalf("follower's last snapshot %d, want past its commit index %d when cut off", st.LastSnapshotIndex, stale)
	}
}

// The node's RaftLog gives its log's bounds and digests of the committed
// entries, and refuses a range that ends before it starts.
func TestRaftLogBackend(t *testing.T) {
	n := startNode(t, TestConfig(t.TempDir()))
	f := faucet(t, n.cfg)
	submitWait(t, n.Backend(), transfer(f, 0, testKey(9).Address, 1), transfer(f, 1, testKey(9).Address, 1))
	b := n.Backend().(api.RaftLogBackend)
	ctx := context.Background()
	bounds, err := b.RaftLog(ctx, 0, 0, 0)
	if err != nil || bounds.FirstIndex != 1 || bounds.CommitIndex < 3 || len(bounds.Digests) != 0 {
		t.Fatalf("RaftLog(0, 0, 0) = %+v, %v; want the bounds from index 1 and no digests", bounds, err)
	}
	lg, err := b.RaftLog(ctx, 1, bounds.CommitIndex, 1)
	if err != nil || uint64(len(lg.Digests)) != bounds.CommitIndex || lg.Digests[0].Index != 1 {
		t.Fatalf("RaftLog(1, %d, 1) = %+v, %v; want a digest per entry", bounds.CommitIndex, lg, err)
	}
	_, err = b.RaftLog(ctx, 10, 5, 1)
	var c api.Coder
	if !errors.As(err, &c) || c.Code() != api.CodeBadRequest {
		t.Fatalf("RaftLog(10, 5, 1) = %v, want a bad_request error", err)
	}
}
