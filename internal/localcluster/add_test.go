package localcluster

import (
	"errors"
	"os"
	"slices"
	"testing"
)

// TestRemoveNode: a removed node is stopped with its redis-server, is
// gone from every listing and from StartAll, is refused by the methods
// that would start it again, keeps its data, and its id and ports are
// not given to the next node added.
func TestRemoveNode(t *testing.T) {
	needRedis(t)
	ctx := ctxT(t)
	c := up(t, Options{Nodes: 3, Store: StoreRedis})
	n2, _ := c.Node("n2")
	if err := c.RemoveNode(ctx, "n2"); err != nil {
		t.Fatalf("RemoveNode(n2) = %v", err)
	}
	if isNode(n2.PID, n2.Args) || isRedis(n2.Redis.PID, n2.Redis.Port, n2.Redis.Dir) {
		t.Errorf("after RemoveNode(n2), its node (pid %d) or redis-server (pid %d) still runs", n2.PID, n2.Redis.PID)
	}
	wantIDs(t, "Nodes() after RemoveNode(n2)", c.Nodes(), "n1", "n3")
	for name, err := range map[string]error{
		"Node":       func() error { _, err := c.Node("n2"); return err }(),
		"Kill":       c.Kill("n2"),
		"Restart":    c.Restart(ctx, "n2"),
		"WipeRedis":  c.WipeRedis(ctx, "n2"),
		"RemoveNode": c.RemoveNode(ctx, "n2"),
	} {
		if !errors.Is(err, ErrRemoved) {
			t.Errorf("%s(n2) of a removed node = %v, want ErrRemoved", name, err)
		}
	}
	if err := c.KillAll(true); err != nil {
		t.Fatalf("KillAll(true) = %v", err)
	}
	if err := c.StartAll(ctx); err != nil {
		t.Fatalf("StartAll() = %v", err)
	}
	var ids []string
	for _, s := range c.Status(ctx) {
		ids = append(ids, s.ID)
	}
	if !slices.Equal(ids, []string{"n1", "n3"}) || isNode(n2.PID, n2.Args) {
		t.Errorf("after StartAll, Status() lists %v and n2 running %v; want n1, n3 and n2 left stopped", ids, isNode(n2.PID, n2.Args))
	}
	id, err := c.AddNode(ctx, false)
	if err != nil || id != "n4" {
		t.Fatalf("AddNode(false) after removing n2 = %q, %v; want n4 (ids are not reused)", id, err)
	}
	n4, _ := c.Node("n4")
	if n4.URL == n2.URL || n4.Raft == n2.Raft || n4.Redis.Port == n2.Redis.Port {
		t.Errorf("n4 got ports of the removed n2: %s %s %d, n2 had %s %s %d", n4.URL, n4.Raft, n4.Redis.Port, n2.URL, n2.Raft, n2.Redis.Port)
	}
	if _, err := os.Stat(n2.Data); err != nil {
		t.Errorf("the removed n2's data dir: %v, want it kept", err)
	}
	loaded, err := Load(c.Dir())
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	wantIDs(t, "Nodes() of the cluster loaded again", loaded.Nodes(), "n1", "n3", "n4")
	if _, err := loaded.Node("n2"); !errors.Is(err, ErrRemoved) {
		t.Errorf("Node(n2) of the cluster loaded again = %v, want ErrRemoved", err)
	}
}

func wantIDs(t *testing.T, what string, nodes []Node, want ...string) {
	t.Helper()
	var got []string
	for _, n := range nodes {
		got = append(got, n.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
