package localcluster

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func testManifest(dir string) *manifest {
	return &manifest{ChainID: ChainID, Store: StoreRedis, AdminToken: "00112233445566778899aabbccddeeff",
		Binary: "/usr/bin/dualchain", RedisServer: "/usr/bin/redis-server", NodeArgs: []string{"--snapshot-threshold", "64"},
		Nodes: []Node{
			{ID: "n1", URL: "http://127.0.0.1:4001", Raft: "127.0.0.1:4002", Data: filepath.Join(dir, "n1"), PID: 12,
				Args:  []string{"/usr/bin/dualchain", "node", "--id", "n1"},
				Redis: &Redis{URL: "redis://127.0.0.1:4003/0", Port: 4003, PID: 13, Dir: filepath.Join(dir, "n1", "redis")}},
			{ID: "e1", Edge: true, URL: "http://127.0.0.1:4004", Raft: "127.0.0.1:4005", Data: filepath.Join(dir, "e1"),
				Args:  []string{"/usr/bin/dualchain", "node", "--id", "e1", "--edge"},
				Redis: &Redis{URL: "redis://127.0.0.1:4006/0", Port: 4006, Dir: filepath.Join(dir, "e1", "redis")}},
		}}
}

func TestManifestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	m := testManifest(dir)
	if err := m.write(dir); err != nil {
		t.Fatalf("write() = %v", err)
	}
	got, err := readManifest(dir)
	if err != nil {
		t.Fatalf("readManifest() = %v", err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("readManifest() = %+v, want %+v", got, m)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("dir holds %d files after write, want cluster.json alone (no temporary file)", len(entries))
	}
	c, err := Load(dir)
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	if n, err := c.Node("e1"); err != nil || !reflect.DeepEqual(n, m.Nodes[1]) {
		t.Errorf("Node(e1) = %+v, %v, want %+v", n, err, m.Nodes[1])
	}
	n, _ := c.Node("n1")
	n.Args[0], n.Redis.PID = "changed", 99
	if again, _ := c.Node("n1"); again.Args[0] == "changed" || again.Redis.PID == 99 {
		t.Error("changing the Node that Node() returned changed the cluster's record")
	}
}

func TestReadManifestErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(m *manifest)
	}{
		{"unknown store", func(m *manifest) { m.Store = "disk" }},
		{"redis without redis-server", func(m *manifest) { m.RedisServer = "" }},
		{"no nodes", func(m *manifest) { m.Nodes = nil }},
		{"same id twice", func(m *manifest) { m.Nodes[1].ID = "n1" }},
		{"no args", func(m *manifest) { m.Nodes[0].Args = nil }},
		{"no url", func(m *manifest) { m.Nodes[0].URL = "" }},
		{"negative pid", func(m *manifest) { m.Nodes[0].PID = -1 }},
		{"memory store with redis", func(m *manifest) { m.Store = StoreMemory }},
		{"redis store without redis", func(m *manifest) { m.Nodes[1].Redis = nil }},
		{"bad redis port", func(m *manifest) { m.Nodes[0].Redis.Port = 70000 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			m := testManifest(dir)
			tt.change(m)
			if err := m.write(dir); err != nil {
				t.Fatal(err)
			}
			if _, err := Load(dir); !errors.Is(err, ErrBadManifest) {
				t.Errorf("Load() = %v, want ErrBadManifest", err)
			}
		})
	}
	t.Run("not JSON", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, ManifestFile), []byte("{nodes"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(dir); !errors.Is(err, ErrBadManifest) {
			t.Errorf("Load() = %v, want ErrBadManifest", err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		if _, err := Load(t.TempDir()); !errors.Is(err, ErrNoCluster) {
			t.Errorf("Load() = %v, want ErrNoCluster", err)
		}
	})
}
