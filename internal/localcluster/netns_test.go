package localcluster

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/dualchain/dualchain/internal/netfault"
	"github.com/redis/go-redis/v9"
)

// netnsOf is the network namespace of pid, as /proc shows it
// ("net:[4026532...]").
func netnsOf(t *testing.T, pid int) string {
	t.Helper()
	ns, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/net")
	if err != nil {
		t.Fatalf("namespace of pid %d: %v", pid, err)
	}
	return ns
}

// TestPlaceRunsEachNodeInItsNamespace starts fake nodes and their
// redis-servers through netfault's namespaces: each node answers on its
// namespace's address, runs in that namespace with its redis-server, and
// Kill, Restart, WipeRedis, AddNode, Load and Down work as without.
func TestPlaceRunsEachNodeInItsNamespace(t *testing.T) {
	needRedis(t)
	if err := netfault.Available(); err != nil {
		t.Skipf("needs network namespaces: %v", err)
	}
	ctx := ctxT(t)
	nw, err := netfault.New(ctx, 0)
	if err != nil {
		t.Fatalf("netfault.New = %v", err)
	}
	t.Cleanup(func() {
		if err := nw.Close(); err != nil {
			t.Errorf("netfault Close() = %v", err)
		}
	})
	place := func(i int) (Placement, error) {
		prefix, host, err := nw.Place(context.Background(), i)
		return Placement{Exec: prefix, Host: host}, err
	}
	c := up(t, Options{Nodes: 2, Store: StoreRedis, Place: place}) // Down before nw.Close: cleanups run last-in first
	self := netnsOf(t, os.Getpid())
	for i, n := range c.Nodes() {
		ip := nw.IP(i).String()
		if !strings.Contains(n.URL, ip+":") || !strings.HasPrefix(n.Raft, ip+":") || n.Redis.Host != ip {
			t.Errorf("%s: URL %s, Raft %s, redis host %s; want all on %s", n.ID, n.URL, n.Raft, n.Redis.Host, ip)
		}
		if !strings.Contains(n.Redis.URL, "127.0.0.1") {
			t.Errorf("%s: --redis %s, want the namespace's 127.0.0.1", n.ID, n.Redis.URL)
		}
		nodeNS, redisNS := netnsOf(t, n.PID), netnsOf(t, n.Redis.PID)
		if nodeNS == self || nodeNS != redisNS {
			t.Errorf("%s: node in %s, its redis-server in %s, this test in %s; want both in one namespace of their own", n.ID, nodeNS, redisNS, self)
		}
	}
	for _, s := range c.Status(ctx) {
		if !s.Running || s.Status == nil || !s.Redis.Running {
			t.Errorf("Status(%s) = running %v, answered %v, redis running %v; want all", s.ID, s.Running, s.Status != nil, s.Redis.Running)
		}
	}
	if err := c.Kill("n2"); err != nil {
		t.Fatalf("Kill(n2) = %v", err)
	}
	if err := c.Restart(ctx, "n2"); err != nil {
		t.Fatalf("Restart(n2) = %v", err)
	}
	if err := c.WipeRedis(ctx, "n1"); err != nil {
		t.Fatalf("WipeRedis(n1) = %v", err)
	}
	n1, _ := c.Node("n1")
	rc := redis.NewClient(&redis.Options{Addr: n1.Redis.checkAddr()})
	defer rc.Close()
	if err := rc.Ping(ctx).Err(); err != nil {
		t.Errorf("PING n1's redis-server at %s = %v", n1.Redis.checkAddr(), err)
	}
	id, err := c.AddNode(ctx, true)
	if err != nil {
		t.Fatalf("AddNode(edge) = %v", err)
	}
	added, _ := c.Node(id)
	if nw.Nodes() != 3 || !strings.Contains(added.URL, nw.IP(2).String()+":") || netnsOf(t, added.PID) == self {
		t.Errorf("AddNode: %s at %s with %d namespaces; want it placed in the third, %s", id, added.URL, nw.Nodes(), nw.IP(2))
	}
	loaded, err := Load(c.Dir())
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	for _, s := range loaded.Status(ctx) {
		if !s.Running || s.Status == nil {
			t.Errorf("Load(...).Status(%s): running %v, answered %v; want both (the manifest records the addresses)", s.ID, s.Running, s.Status != nil)
		}
	}
}

// TestOwnershipWithExecPrefix: a process started as prefix+argv is ours
// before the prefix has exec'ed argv, and after.
func TestOwnershipWithExecPrefix(t *testing.T) {
	pid := foreign(t) // runs "sleep 300": as if "sleep" were a prefix that had not exec'ed "300" yet
	tests := []struct {
		name string
		ours bool
		got  bool
	}{
		{"prefix and argv", true, isNode(pid, []string{"300"}, "sleep")},
		{"argv alone, no prefix", false, isNode(pid, []string{"300"})},
		{"another prefix", false, isNode(pid, []string{"300"}, "ip", "netns", "exec", "x")},
		{"the whole argv, a prefix given", true, isNode(pid, []string{"sleep", "300"}, "ip", "netns", "exec", "x")},
		{"redis-server after a prefix", false, isRedis(pid, 300, t.TempDir(), "sleep")},
	}
	for _, tt := range tests {
		if tt.got != tt.ours {
			t.Errorf("%s: owned = %v, want %v", tt.name, tt.got, tt.ours)
		}
	}
}
