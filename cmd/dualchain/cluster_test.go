package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dualchain/dualchain/internal/localcluster"
)

// stoppedCluster writes the cluster.json of a stopped two-node cluster
// (nothing runs) and returns its directory.
func stoppedCluster(t *testing.T, store string) string {
	t.Helper()
	dir := t.TempDir()
	node := func(id string, port int) map[string]any {
		n := map[string]any{
			"id": id, "edge": false, "url": "http://127.0.0.1:" + strconv.Itoa(port), "raft": "127.0.0.1:" + strconv.Itoa(port+1),
			"data": filepath.Join(dir, id), "pid": 0, "args": []string{"/usr/bin/dualchain", "node", "--id", id}, "redis": nil,
		}
		if store == "redis" {
			n["redis"] = map[string]any{"url": "redis://127.0.0.1:" + strconv.Itoa(port+2) + "/0", "port": port + 2, "pid": 0, "dir": filepath.Join(dir, id, "redis")}
		}
		return n
	}
	m := map[string]any{
		"chain_id": "dualchain-local", "store": store, "admin_token": "00112233445566778899aabbccddeeff",
		"binary": "/usr/bin/dualchain", "redis_server": "/usr/bin/redis-server",
		"nodes": []any{node("n1", 1001), node("n2", 1004)},
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, localcluster.ManifestFile), data, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestClusterUsageErrors(t *testing.T) {
	n := &testNode{env: map[string]string{}}
	dir := stoppedCluster(t, "memory")
	tests := [][]string{
		{"cluster", "bogus"},
		{"cluster", "up"},
		{"cluster", "up", "--dir", t.TempDir(), "--nodes", "0"},
		{"cluster", "up", "--dir", t.TempDir(), "--edges", "-1"},
		{"cluster", "up", "--dir", t.TempDir(), "--store", "disk"},
		{"cluster", "up", "--dir", dir, "--nodes", "5"},
		{"cluster", "up", "--dir", dir, "--store", "memory"},
		{"cluster", "status"},
		{"cluster", "status", "--dir", dir, "extra"},
		{"cluster", "down"},
		{"cluster", "add"},
		{"cluster", "kill", "--dir", dir},
		{"cluster", "kill", "n1", "n2", "--dir", dir},
		{"cluster", "restart", "n1"},
		{"cluster", "wipe-redis", "--dir", dir},
		{"cluster", "kill", "n1", "--dir", dir, "--no-such-flag"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args[1:], " "), func(t *testing.T) { n.run(t, args...).fails(t, 2, "usage") })
	}
}

func TestClusterUnknownNode(t *testing.T) {
	n := &testNode{env: map[string]string{}}
	dir := stoppedCluster(t, "memory")
	for _, cmd := range []string{"kill", "restart", "wipe-redis"} {
		r := n.run(t, "cluster", cmd, "n9", "--dir", dir)
		r.fails(t, 2, "usage")
		if !strings.Contains(r.stderr, `unknown node "n9"`) || !strings.Contains(r.stderr, "n1, n2") {
			t.Errorf("cluster %s n9: stderr %q, want the unknown node and the known ones named", cmd, r.stderr)
		}
	}
}

func TestClusterNoClusterFile(t *testing.T) {
	n := &testNode{env: map[string]string{}}
	dir := t.TempDir()
	for _, args := range [][]string{
		{"cluster", "status", "--dir", dir},
		{"cluster", "kill", "n1", "--dir", dir},
		{"cluster", "restart", "n1", "--dir", dir},
		{"cluster", "wipe-redis", "n1", "--dir", dir},
		{"cluster", "add", "--dir", dir},
		{"cluster", "down", "--dir", dir},
	} {
		r := n.run(t, args...)
		r.fails(t, 1, "no_cluster")
		if !strings.Contains(r.stderr, dir) || !strings.Contains(r.stderr, "cluster up") {
			t.Errorf("%q: stderr %q, want the dir and how to start a cluster", args, r.stderr)
		}
	}
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, localcluster.ManifestFile), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	n.run(t, "cluster", "status", "--dir", bad).fails(t, 1, "bad_cluster_file")
}

func TestClusterStatusStopped(t *testing.T) {
	n := &testNode{env: map[string]string{}}
	dir := stoppedCluster(t, "redis")
	r := n.run(t, "cluster", "status", "--dir", dir).ok(t)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "COMMITMENT") {
		t.Fatalf("cluster status printed %q, want a header and two nodes", r.stdout)
	}
	for i, id := range []string{"n1", "n2"} {
		if f := strings.Fields(lines[i+1]); f[0] != id || !strings.Contains(lines[i+1], "stopped") || !strings.Contains(lines[i+1], "redis-server down") {
			t.Errorf("status line %q, want %s stopped with its redis-server down", lines[i+1], id)
		}
	}
	sts := parseJSON[[]json.RawMessage](t, n.run(t, "cluster", "status", "--dir", dir, "--json").ok(t))
	if len(sts) != 2 {
		t.Fatalf("cluster status --json: %d nodes, want 2", len(sts))
	}
	var s struct {
		ID      string `json:"id"`
		Running bool   `json:"running"`
		Error   string `json:"error"`
	}
	if err := json.Unmarshal(sts[0], &s); err != nil || s.ID != "n1" || s.Running || !strings.Contains(s.Error, "not running") {
		t.Errorf("cluster status --json [0] = %s (%v), want n1, not running, with the error", sts[0], err)
	}
}

func TestClusterStoppedNodeErrors(t *testing.T) {
	n := &testNode{env: map[string]string{}}
	mem := stoppedCluster(t, "memory")
	n.run(t, "cluster", "kill", "n1", "--dir", mem).fails(t, 1, "not_running")
	n.run(t, "cluster", "wipe-redis", "n1", "--dir", mem).fails(t, 1, "no_redis")
	n.run(t, "cluster", "down", "--dir", mem, "--json").ok(t)
}

func TestClusterUpErrors(t *testing.T) {
	n := &testNode{env: map[string]string{}}
	used := t.TempDir()
	if err := os.WriteFile(filepath.Join(used, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	n.run(t, "cluster", "up", "--nodes", "1", "--dir", used, "--store", "memory", "--json").fails(t, 1, "dir_not_empty")
	t.Setenv("PATH", t.TempDir())
	n.run(t, "cluster", "up", "--nodes", "1", "--dir", t.TempDir(), "--store", "redis").fails(t, 1, "no_redis_server")
}

func TestClusterNodeArgFlag(t *testing.T) {
	a := &app{stdout: new(strings.Builder), stderr: new(strings.Builder), getenv: func(string) string { return "" }}
	o := &clusterOpts{}
	cmd := a.clusterUpCmd(o)
	if err := cmd.ParseFlags([]string{"--node-arg", "--snapshot-threshold", "--node-arg=64", "--node-arg", "a,b"}); err != nil {
		t.Fatalf("ParseFlags = %v", err)
	}
	if want := []string{"--snapshot-threshold", "64", "a,b"}; strings.Join(o.nodeArgs, "|") != strings.Join(want, "|") {
		t.Errorf("--node-arg values = %q, want %q", o.nodeArgs, want)
	}
}

// --cluster picks a live node of a local cluster for commands that talk to
// one; it fails clearly when there is no cluster or no node answers.
func TestClusterFlagPicksANode(t *testing.T) {
	n := &testNode{env: map[string]string{}}
	n.run(t, "--cluster", t.TempDir(), "status").fails(t, 1, "no_cluster")
	n.run(t, "--cluster", stoppedCluster(t, "memory"), "status").fails(t, 1, "unreachable")
	n.run(t, "--cluster", t.TempDir(), "--node", "http://127.0.0.1:1", "status").fails(t, 2, "usage")
}
