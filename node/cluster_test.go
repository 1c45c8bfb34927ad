package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/internal/redistest"
	"github.com/dualchain/dualchain/ledger"
	"github.com/redis/go-redis/v9"
)

const clusterToken = "test-cluster-token"

// testCluster is nodes of one cluster in this process, on real TCP.
type testCluster struct {
	t     testing.TB
	cfgs  []Config
	nodes []*running // nil: stopped
}

// freeAddr returns a 127.0.0.1 address nothing listens on now.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startCluster starts size voters sharing one genesis; edit adjusts each
// node's config before it starts.
func startCluster(t testing.TB, size int, edit func(*Config)) *testCluster {
	t.Helper()
	c := &testCluster{t: t}
	root := t.TempDir()
	var peers []Peer
	for i := range size {
		cfg := TestConfig(filepath.Join(root, fmt.Sprintf("n%d", i+1)))
		cfg.NodeID = fmt.Sprintf("n%d", i+1)
		cfg.HTTPAddr, cfg.RaftAddr = freeAddr(t), freeAddr(t)
		cfg.AdminToken = clusterToken
		if edit != nil {
			edit(&cfg)
		}
		peers = append(peers, Peer{ID: cfg.NodeID, RaftAddr: cfg.RaftAddr, URL: "http://" + cfg.HTTPAddr})
		c.cfgs = append(c.cfgs, cfg)
	}
	// One genesis for all: the first node's dev genesis, made now.
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
	c.nodes = make([]*running, size)
	done := make(chan int, size)
	for i := range c.cfgs {
		go func() { c.nodes[i] = startNodeNoWait(t, c.cfgs[i]); done <- i }()
	}
	for range size {
		<-done
	}
	for _, n := range c.nodes {
		waitCaughtUp(t, n.Node)
	}
	return c
}

func copyGenesis(t testing.TB, from, to string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(from, GenesisFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(to, GenesisFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// leader returns the index of the running node that leads, waiting for an
// election if need be.
func (c *testCluster) leader() int {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for i, n := range c.nodes {
			if n != nil && n.replica.IsLeader() {
				return i
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatal("no leader")
	return -1
}

// follower returns the index of a running node that does not lead.
func (c *testCluster) follower() int {
	l := c.leader()
	for i, n := range c.nodes {
		if n != nil && i != l {
			return i
		}
	}
	c.t.Fatal("no follower")
	return -1
}

func (c *testCluster) client(i int) *client.Client { return client.New(c.nodes[i].URL()) }

// converged waits until every running node is at the same height and
// commitment, at least minHeight, and returns that height.
func (c *testCluster) converged(minHeight uint64) uint64 {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var heads []string
	for time.Now().Before(deadline) {
		heads = heads[:0]
		same := true
		var first = c.nodes[c.leader()].chain.Head()
		for _, n := range c.nodes {
			if n == nil {
				continue
			}
			h := n.chain.Head()
			heads = append(heads, fmt.Sprintf("%s@%d", n.cfg.NodeID, h.Height))
			same = same && h.Height == first.Height && h.Commitment.Digest() == first.Commitment.Digest() && h.Height >= minHeight
		}
		if same {
			return first.Height
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatalf("nodes did not converge at height >= %d: %s", minHeight, strings.Join(heads, " "))
	return 0
}

// Three nodes: a transfer sent to a follower is forwarded, committed once,
// and seen on every node with the same commitment; reads on a follower
// after ?wait=commit see it; a strong read on a follower goes through the
// leader; the leader is stopped and the other two go on.
func TestClusterReplicatesAndFailsOver(t *testing.T) {
	c := startCluster(t, 3, nil)
	f, bob := faucet(t, c.cfgs[0]), testKey(21)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	fol := c.follower()
	res, err := c.client(fol).SubmitWait(ctx, transfer(f, 0, bob.Address, 5), transfer(f, 1, bob.Address, 6))
	if err != nil {
		t.Fatalf("SubmitWait on follower %s = %v", c.cfgs[fol].NodeID, err)
	}
	for i, r := range res {
		if r.Status != "committed" || r.Receipt == nil || r.Receipt.Status != ledger.StatusOK {
			t.Fatalf("result %d via follower = %+v, want committed ok", i, r)
		}
	}
	// Read-your-writes on the follower that forwarded them.
	if a, err := c.client(fol).Account(ctx, bob.Address); err != nil || a.Balance != 11 {
		t.Fatalf("bob on the follower right after = %+v, %v; want balance 11", a, err)
	}
	h := c.converged(res[1].Block)
	for i := range c.nodes {
		a, err := c.client(i).Account(ctx, bob.Address)
		if err != nil || a.Balance != 11 {
			t.Fatalf("bob on %s = %+v, %v; want 11", c.cfgs[i].NodeID, a, err)
		}
	}
	st, err := c.client(fol).Status(ctx)
	if err != nil || st.Role != "follower" || st.LeaderURL != c.nodes[c.leader()].URL() || st.Height != h {
		t.Fatalf("follower status = %+v, %v; want a follower naming the leader's URL at height %d", st, err, h)
	}

	// The leader goes away; a new one is elected and the transfers go on.
	old := c.leader()
	c.nodes[old].stop()
	c.nodes[old] = nil
	newLeader := c.leader()
	if newLeader == old {
		t.Fatal("stopped node still leads")
	}
	var txs []*ledger.Tx
	for i := uint64(2); i < 12; i++ {
		txs = append(txs, transfer(f, i, bob.Address, 1))
	}
	fol = c.follower()
	var last uint64
	for _, tx := range txs { // through the remaining follower, one at a time
		r, err := c.client(fol).SubmitWait(ctx, tx)
		if err != nil || r[0].Status != "committed" {
			t.Fatalf("transfer %d after failover = %+v, %v", tx.Nonce, r, err)
		}
		last = r[0].Block
	}
	c.converged(last)
	a, err := c.client(fol).Account(ctx, bob.Address)
	if err != nil || a.Balance != 21 || a.Nonce != 0 {
		t.Fatalf("bob after failover = %+v, %v; want 21", a, err)
	}
	if fa, _ := c.client(newLeader).Account(ctx, f.Address); fa.Nonce != 12 {
		t.Fatalf("faucet nonce = %d, want 12 (each transfer once)", fa.Nonce)
	}
}

// sendOneByOne commits transfers of 1 from f to to with nonces [from, to),
// each in its own block, through node i.
func (c *testCluster) sendOneByOne(i int, f *ledger.Key, to ledger.Address, from, until uint64) uint64 {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var last uint64
	for nonce := from; nonce < until; nonce++ {
		r, err := c.client(i).SubmitWait(ctx, transfer(f, nonce, to, 1))
		if err != nil || r[0].Status != "committed" {
			c.t.Fatalf("transfer %d = %+v, %v", nonce, r, err)
		}
		last = r[0].Block
	}
	return last
}

// join starts a node that joins the cluster through node via (voter or
// edge) and waits until it has caught up.
func (c *testCluster) join(via int, id string, edge bool) int {
	c.t.Helper()
	cfg := TestConfig(filepath.Join(c.t.TempDir(), id))
	cfg.NodeID, cfg.Dev, cfg.Edge = id, false, edge
	cfg.HTTPAddr, cfg.RaftAddr = freeAddr(c.t), freeAddr(c.t)
	cfg.AdminToken = clusterToken
	cfg.Join = c.nodes[via].URL()
	copyGenesis(c.t, c.cfgs[0].DataDir, cfg.DataDir)
	c.cfgs = append(c.cfgs, cfg)
	n := startNodeNoWait(c.t, cfg)
	c.nodes = append(c.nodes, n)
	waitCaughtUp(c.t, n.Node)
	return len(c.nodes) - 1
}

// A node that joins after the log was compacted catches up from a
// snapshot and the log; so does an edge node, which then serves reads and
// forwards transactions without voting.
func TestClusterJoinCatchesUpBySnapshot(t *testing.T) {
	c := startCluster(t, 3, nil)
	f, bob := faucet(t, c.cfgs[0]), testKey(31)
	const blocks = 300 // past TestConfig's snapshot threshold (128) and trailing logs (64)
	c.sendOneByOne(c.leader(), f, bob.Address, 0, blocks)
	l := c.nodes[c.leader()]
	waitFor(t, "a snapshot on the leader", func() bool { return l.replica.State().LastSnapshotIndex > 64 })

	n4 := c.join(c.follower(), "n4", false)
	e1 := c.join(c.follower(), "e1", true)
	for _, i := range []int{n4, e1} {
		if got := c.nodes[i].sm.restores.Load(); got < 1 {
			t.Errorf("%s restored %d snapshots, want at least 1 (the log it needed was compacted)", c.cfgs[i].NodeID, got)
		}
	}
	// The edge node forwards a transfer and serves the read.
	last := c.sendOneByOne(e1, f, bob.Address, blocks, blocks+3)
	c.converged(last)
	ctx := context.Background()
	if a, err := c.client(e1).Account(ctx, bob.Address); err != nil || a.Balance != blocks+3 {
		t.Fatalf("bob on the edge node = %+v, %v; want %d", a, err, blocks+3)
	}
	st, err := c.client(e1).Status(ctx)
	if err != nil || !st.Edge || st.Role != "follower" {
		t.Fatalf("edge status = %+v, %v; want an edge follower", st, err)
	}
	ms, err := l.Backend().(interface {
		Members(context.Context) ([]api.Member, error)
	}).Members(ctx)
	if err != nil {
		t.Fatal(err)
	}
	voters := 0
	for _, m := range ms {
		if m.Voter {
			voters++
		}
		if m.ID == "e1" && m.Voter {
			t.Errorf("edge node e1 is a voter")
		}
	}
	if len(ms) != 5 || voters != 4 {
		t.Fatalf("members = %+v, want 4 voters and 1 edge", ms)
	}
}

// waitFor polls cond for up to 20 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A follower whose Redis is wiped while it runs (FLUSHALL, then a
// redis-server restarted empty) notices without any block arriving,
// rebuilds from its latest snapshot and the log, never applies onto an
// empty store, and ends with the leader's height and commitment.
func TestClusterFollowerRebuildsWipedRedis(t *testing.T) {
	servers := make([]*redistest.Server, 3)
	i := 0
	c := startCluster(t, 3, func(cfg *Config) {
		servers[i] = redistest.Start(t)
		cfg.Store, cfg.RedisURL = "redis", servers[i].URL()
		i++
	})
	f, bob := faucet(t, c.cfgs[0]), testKey(41)
	ctx := context.Background()
	first, err := c.client(c.leader()).SubmitWait(ctx, transfer(f, 0, bob.Address, 1))
	if err != nil || first[0].Status != "committed" {
		t.Fatalf("first transfer = %+v, %v", first, err)
	}
	c.sendOneByOne(c.leader(), f, bob.Address, 1, 200) // past the snapshot threshold
	fol := c.follower()
	fn := c.nodes[fol]
	waitFor(t, "a snapshot on the follower", func() bool { return fn.replica.State().LastSnapshotIndex > 0 })
	h := c.converged(200)

	rc := redis.NewClient(servers[fol].Options())
	defer rc.Close()
	if err := rc.FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the follower to rebuild its flushed store", func() bool { return fn.sm.rebuilds.Load() >= 1 })
	if got := c.converged(h); got != h {
		t.Fatalf("height after rebuild = %d, want %d", got, h)
	}
	if fn.sm.restores.Load() < 1 {
		t.Errorf("the rebuild restored no snapshot; want it to start from the latest one")
	}
	// The snapshot held no history: the archive answers for it.
	if rec, err := c.client(fol).Tx(ctx, first[0].ID); err != nil || rec.Block != first[0].Block {
		t.Fatalf("first transfer on the rebuilt follower = %+v, %v; want it in block %d", rec, err, first[0].Block)
	}
	if blk, err := c.client(fol).Block(ctx, 1); err != nil || blk.Height != 1 {
		t.Fatalf("block 1 on the rebuilt follower = %+v, %v", blk, err)
	}

	servers[fol].Restart() // empty: nothing is persisted
	last := c.sendOneByOne(c.leader(), f, bob.Address, 200, 205)
	waitFor(t, "the follower to rebuild its restarted store", func() bool { return fn.sm.rebuilds.Load() >= 2 })
	c.converged(last)
	a, err := c.client(fol).Account(ctx, bob.Address)
	if err != nil || a.Balance != 205 {
		t.Fatalf("bob on the rebuilt follower = %+v, %v; want 205 (each transfer once)", a, err)
	}
}

// A leader cut off from every follower cannot commit, but it still stops
// when told to, and its clients hear that their transactions' outcome is
// not known rather than that they failed.
func TestLeaderWithoutQuorumStops(t *testing.T) {
	c := startCluster(t, 3, nil)
	l := c.leader()
	for i := range c.nodes {
		if i != l {
			c.nodes[i].stop()
			c.nodes[i] = nil
		}
	}
	f := faucet(t, c.cfgs[0])
	ids, errs := c.nodes[l].Backend().Submit(context.Background(), []*ledger.Tx{transfer(f, 0, testKey(51).Address, 1)})
	if errs[0] != nil {
		t.Fatalf("Submit = %v; the backend admits to the pool whether or not it leads", errs[0])
	}
	stopped := make(chan struct{})
	go func() { c.nodes[l].stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(30 * time.Second):
		t.Fatal("a leader without quorum did not stop within 30 s")
	}
	got := c.nodes[l].Backend().Wait(context.Background(), ids)[0]
	if got.Record != nil || errors.Is(got.Err, ErrBlockFailed) {
		t.Fatalf("Wait after stopping = %+v; want no record and not block_failed (the block may yet commit)", got)
	}
}

// admin sends an admin request with the cluster's token and returns the
// status code.
func (c *testCluster) admin(i int, method, path, body string) int {
	c.t.Helper()
	req, err := http.NewRequest(method, c.nodes[i].URL()+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+clusterToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// Leadership moves where an admin asks (sent to a follower, which proxies
// it), and a removed member leaves the configuration while the others go
// on committing.
func TestClusterTransferLeadershipAndRemove(t *testing.T) {
	c := startCluster(t, 3, nil)
	f, bob := faucet(t, c.cfgs[0]), testKey(61)
	old := c.leader()
	target := c.follower()
	via := 3 - old - target // the third node
	if code := c.admin(via, "POST", "/v1/admin/leadership", `{"to":"`+c.cfgs[target].NodeID+`"}`); code != http.StatusNoContent {
		t.Fatalf("transfer leadership = %d, want 204", code)
	}
	waitFor(t, c.cfgs[target].NodeID+" to lead", func() bool { return c.nodes[target].replica.IsLeader() })
	c.sendOneByOne(via, f, bob.Address, 0, 3)

	// Remove the old leader, now a follower, through the new leader.
	if code := c.admin(target, "DELETE", "/v1/admin/members/"+c.cfgs[old].NodeID, ""); code != http.StatusNoContent {
		t.Fatalf("remove %s = %d, want 204", c.cfgs[old].NodeID, code)
	}
	ms, err := c.nodes[target].replica.Members()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.ID == c.cfgs[old].NodeID {
			t.Fatalf("members after removing %s = %+v", m.ID, ms)
		}
	}
	c.nodes[old].stop()
	c.nodes[old] = nil
	last := c.sendOneByOne(target, f, bob.Address, 3, 6)
	c.converged(last)
	if a, _ := c.client(via).Account(context.Background(), bob.Address); a.Balance != 6 {
		t.Fatalf("bob = %d, want 6 after the removal", a.Balance)
	}
	if code := c.admin(target, "DELETE", "/v1/admin/members/nobody", ""); code != http.StatusNoContent && code != http.StatusNotFound {
		t.Fatalf("remove an unknown member = %d", code)
	}
}
