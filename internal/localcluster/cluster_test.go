package localcluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/node"
)

func ctxT(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestUpWritesClusterFiles(t *testing.T) {
	c := up(t, Options{Nodes: 3, Edges: 1, Store: StoreMemory})
	fi, err := os.Stat(filepath.Join(c.Dir(), ManifestFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("stat cluster.json = %v, %v; want mode 0600 (it holds the admin token)", fi, err)
	}
	loaded, err := Load(c.Dir())
	if err != nil {
		t.Fatalf("Load(%s) = %v", c.Dir(), err)
	}
	if !reflect.DeepEqual(loaded.Nodes(), c.Nodes()) || loaded.AdminToken() != c.AdminToken() || len(c.AdminToken()) != 32 {
		t.Errorf("Load(dir).Nodes() = %+v, token %q; want Up's %+v, %q (32 hex digits)", loaded.Nodes(), loaded.AdminToken(), c.Nodes(), c.AdminToken())
	}
	faucet, err := ledger.LoadKeyFile(c.FaucetKey())
	if err != nil {
		t.Fatalf("faucet key: %v", err)
	}
	g, err := ledger.LoadGenesisFile(filepath.Join(c.Dir(), node.GenesisFile))
	if err != nil {
		t.Fatalf("genesis: %v", err)
	}
	if g.ChainID != ChainID || len(g.Alloc) != 1 || g.Alloc[0].Address != faucet.Address || g.Alloc[0].Amount != node.DevSupply {
		t.Errorf("genesis = %+v, want %s with the faucet %s holding %d", g, ChainID, faucet.Address, node.DevSupply)
	}
	for _, n := range c.Nodes() {
		ng, err := ledger.LoadGenesisFile(filepath.Join(n.Data, node.GenesisFile))
		if err != nil || ng.Hash() != g.Hash() {
			t.Errorf("%s: genesis %v, %v; want a copy of the cluster's", n.ID, ng, err)
		}
	}
}

func TestUpNodeArgs(t *testing.T) {
	c := up(t, Options{Nodes: 2, Edges: 1, Store: StoreMemory, NodeArgs: []string{"--snapshot-threshold", "64"}})
	nodes := c.Nodes()
	if ids := []string{nodes[0].ID, nodes[1].ID, nodes[2].ID}; !slices.Equal(ids, []string{"n1", "n2", "e1"}) {
		t.Fatalf("node ids = %q, want n1 n2 e1", ids)
	}
	peers := "n1=" + nodes[0].Raft + "=" + nodes[0].URL + ",n2=" + nodes[1].Raft + "=" + nodes[1].URL
	for _, n := range nodes {
		want := []string{testBinary(t), "node", "--data", n.Data, "--http", strings.TrimPrefix(n.URL, "http://"), "--id", n.ID, "--raft", n.Raft}
		if n.Edge {
			want = append(want, "--edge", "--join", nodes[0].URL)
		} else {
			want = append(want, "--peers", peers)
		}
		want = append(want, "--admin-token", c.AdminToken(), "--store", "memory", "--snapshot-threshold", "64")
		if !slices.Equal(n.Args, want) {
			t.Errorf("%s args = %q, want %q", n.ID, n.Args, want)
		}
		if !strings.HasPrefix(n.URL, "http://127.0.0.1:") || !strings.HasPrefix(n.Raft, "127.0.0.1:") {
			t.Errorf("%s listens on %s and %s, want loopback", n.ID, n.URL, n.Raft)
		}
	}
}

func TestKillRestartStartAll(t *testing.T) {
	ctx := ctxT(t)
	c := up(t, Options{Nodes: 3, Store: StoreMemory})
	n2, _ := c.Node("n2")
	if err := c.Kill("n2"); err != nil {
		t.Fatalf("Kill(n2) = %v", err)
	}
	if exists(n2.PID) {
		t.Errorf("n2's process %d exists after Kill", n2.PID)
	}
	if err := c.Kill("n2"); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Kill(n2) again = %v, want ErrNotRunning", err)
	}
	if n, _ := Load(c.Dir()); n == nil || n.Nodes()[1].PID != 0 {
		t.Errorf("cluster.json after Kill(n2) records pid %v, want 0", n.Nodes()[1].PID)
	}
	if err := c.WaitConverged(ctx); err != nil {
		t.Errorf("WaitConverged() with n2 down = %v, want the running nodes to agree", err)
	}
	if err := c.Restart(ctx, "n2"); err != nil {
		t.Fatalf("Restart(n2) = %v", err)
	}
	running := c.Nodes()[1]
	if err := c.Restart(ctx, "n2"); err != nil {
		t.Fatalf("Restart(n2) of a running node = %v", err)
	}
	if again := c.Nodes()[1]; again.PID == running.PID || exists(running.PID) {
		t.Errorf("Restart of running n2: pid %d -> %d, want the old one stopped and a new one", running.PID, again.PID)
	}
	if err := c.KillAll(false); err != nil {
		t.Fatalf("KillAll(false) = %v", err)
	}
	for _, s := range c.Status(ctx) {
		if s.Running || s.Status != nil {
			t.Errorf("after KillAll: %s running %v, status %+v; want stopped", s.ID, s.Running, s.Status)
		}
	}
	if id, err := c.Leader(ctx); err == nil {
		t.Errorf("Leader() with nothing running = %q, want an error", id)
	}
	if err := c.WaitConverged(ctx); !errors.Is(err, ErrNotRunning) {
		t.Errorf("WaitConverged() with nothing running = %v, want ErrNotRunning", err)
	}
	if err := c.StartAll(ctx); err != nil {
		t.Fatalf("StartAll() = %v", err)
	}
	if err := c.WaitConverged(ctx); err != nil {
		t.Errorf("WaitConverged() after StartAll = %v", err)
	}
}

func TestStatus(t *testing.T) {
	c := up(t, Options{Nodes: 2, Edges: 1, Store: StoreMemory})
	sts := c.Status(ctxT(t))
	if len(sts) != 3 {
		t.Fatalf("Status() has %d nodes, want 3", len(sts))
	}
	if id, err := c.Leader(ctxT(t)); id != "n1" || err != nil {
		t.Errorf("Leader() = %q, %v; want n1", id, err)
	}
	for _, s := range sts {
		if !s.Running || s.Status == nil || s.Err != nil || s.Redis != nil {
			t.Fatalf("Status() of %s = %+v, want running, answering, no redis", s.ID, s)
		}
		if s.Status.NodeID != s.ID || s.Status.Edge != s.Edge || s.Status.Leader != (s.ID == "n1") || s.Status.Height != 7 {
			t.Errorf("Status() of %s = %+v, want the fake node's answer", s.ID, s.Status)
		}
	}
}

func TestAddNode(t *testing.T) {
	ctx := ctxT(t)
	c := up(t, Options{Nodes: 1, Store: StoreMemory})
	n1, _ := c.Node("n1")
	for _, tt := range []struct {
		edge bool
		want string
	}{{false, "n2"}, {true, "e1"}, {false, "n3"}} {
		id, err := c.AddNode(ctx, tt.edge)
		if err != nil || id != tt.want {
			t.Fatalf("AddNode(%v) = %q, %v; want %q", tt.edge, id, err, tt.want)
		}
		n, _ := c.Node(id)
		join := slices.Index(n.Args, "--join")
		if join < 0 || n.Args[join+1] != n1.URL || slices.Contains(n.Args, "--peers") || slices.Contains(n.Args, "--edge") != tt.edge {
			t.Errorf("%s args = %q, want --join %s (the leader), no --peers, --edge %v", id, n.Args, n1.URL, tt.edge)
		}
		if _, err := os.Stat(filepath.Join(n.Data, node.GenesisFile)); err != nil {
			t.Errorf("%s has no genesis: %v", id, err)
		}
	}
	if err := c.WaitConverged(ctx); err != nil {
		t.Errorf("WaitConverged() = %v", err)
	}
}

func TestUpFailingNode(t *testing.T) {
	dir := t.TempDir()
	_, err := Up(ctxT(t), Options{Binary: testBinary(t), Dir: dir, Nodes: 2, Store: StoreMemory, NodeArgs: []string{"--fail"}, Log: logWriter{t}})
	if !errors.Is(err, ErrExited) || !strings.Contains(err.Error(), "failing as asked") {
		t.Fatalf("Up with nodes that exit = %v, want ErrExited quoting the node's log", err)
	}
	c, lerr := Load(dir)
	if lerr != nil {
		t.Fatalf("Load after a failed Up = %v, want the cluster kept for inspection", lerr)
	}
	for _, s := range c.Status(ctxT(t)) {
		if s.Running || s.PID != 0 {
			t.Errorf("after a failed Up, %s runs (pid %d)", s.ID, s.PID)
		}
	}
}

func TestUpRefusesUsedDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Up(ctxT(t), Options{Binary: testBinary(t), Dir: dir, Nodes: 1, Store: StoreMemory})
	if !errors.Is(err, ErrNotEmpty) {
		t.Errorf("Up into a non-empty dir = %v, want ErrNotEmpty", err)
	}
}

func TestUnknownNode(t *testing.T) {
	c := up(t, Options{Nodes: 2, Store: StoreMemory})
	ctx := ctxT(t)
	calls := map[string]error{
		"Node":      func() error { _, err := c.Node("n9"); return err }(),
		"Kill":      c.Kill("n9"),
		"Restart":   c.Restart(ctx, "n9"),
		"WipeRedis": c.WipeRedis(ctx, "n9"),
	}
	for name, err := range calls {
		if !errors.Is(err, ErrUnknownNode) || !strings.Contains(err.Error(), "n1, n2") {
			t.Errorf("%s(n9) = %v, want ErrUnknownNode naming n1, n2", name, err)
		}
	}
	if err := c.WipeRedis(ctx, "n1"); !errors.Is(err, ErrNoRedis) {
		t.Errorf("WipeRedis(n1) with the memory store = %v, want ErrNoRedis", err)
	}
}

// TestPebbleStore starts a two-node cluster whose nodes keep their hot
// state in Pebble: --store pebble and no redis-server.
func TestPebbleStore(t *testing.T) {
	c := up(t, Options{Nodes: 2, Store: StorePebble})
	for _, s := range c.Status(ctxT(t)) {
		n, _ := c.Node(s.ID)
		if s.Status == nil || s.Status.Store != StorePebble || n.Redis != nil {
			t.Errorf("%s: status %+v, redis %v; want store pebble and no redis-server", s.ID, s.Status, n.Redis)
		}
	}
}
