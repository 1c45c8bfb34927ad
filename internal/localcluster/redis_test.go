package localcluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// redisClient is a client of node id's redis-server.
func redisClient(t *testing.T, c *Cluster, id string) *redis.Client {
	t.Helper()
	n, err := c.Node(id)
	if err != nil || n.Redis == nil {
		t.Fatalf("Node(%s) = %+v, %v; want one with a redis-server", id, n, err)
	}
	opts, err := redis.ParseURL(n.Redis.URL)
	if err != nil {
		t.Fatalf("redis URL %q: %v", n.Redis.URL, err)
	}
	rc := redis.NewClient(opts)
	t.Cleanup(func() { rc.Close() })
	return rc
}

func TestRedisWipeKillStart(t *testing.T) {
	needRedis(t)
	ctx := ctxT(t)
	c := up(t, Options{Nodes: 2, Store: StoreRedis})
	r1, r2 := redisClient(t, c, "n1"), redisClient(t, c, "n2")
	for _, rc := range []*redis.Client{r1, r2} {
		if err := rc.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Fatalf("SET k: %v", err)
		}
	}
	before, _ := c.Node("n1")
	marker := filepath.Join(before.Redis.Dir, "marker")
	if err := os.WriteFile(marker, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.WipeRedis(ctx, "n1"); err != nil {
		t.Fatalf("WipeRedis(n1) = %v", err)
	}
	after, _ := c.Node("n1")
	if after.Redis.PID == before.Redis.PID || exists(before.Redis.PID) || !redisRunning(after) {
		t.Errorf("redis-server of n1: pid %d -> %d, want the old one killed and a new one running", before.Redis.PID, after.Redis.PID)
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Errorf("stat %s after WipeRedis = %v, want it deleted", marker, err)
	}
	if n, err := r1.Exists(ctx, "k").Result(); err != nil || n != 0 {
		t.Errorf("EXISTS k on n1's redis after WipeRedis = %d, %v; want 0 (empty)", n, err)
	}
	if v, err := r2.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Errorf("GET k on n2's redis = %q, %v; want it untouched", v, err)
	}
	if !nodeRunning(after) {
		t.Error("n1 stopped running when its redis-server was wiped")
	}

	if err := c.KillAll(true); err != nil {
		t.Fatalf("KillAll(true) = %v", err)
	}
	for _, s := range c.Status(ctx) {
		if s.Running || s.Redis == nil || s.Redis.Running {
			t.Errorf("after KillAll(true): %s = %+v, %+v; want node and redis-server stopped", s.ID, s, s.Redis)
		}
	}
	if err := c.StartAll(ctx); err != nil {
		t.Fatalf("StartAll() = %v", err)
	}
	for _, s := range c.Status(ctx) {
		if !s.Running || s.Redis == nil || !s.Redis.Running || s.Status == nil {
			t.Errorf("after StartAll: %s = %+v, %+v; want node and redis-server running", s.ID, s, s.Redis)
		}
	}
	if n, err := r2.Exists(ctx, "k").Result(); err != nil || n != 0 {
		t.Errorf("EXISTS k on n2's redis after a restart = %d, %v; want 0 (nothing persisted)", n, err)
	}
}

func TestRedisArgs(t *testing.T) {
	needRedis(t)
	c := up(t, Options{Nodes: 1, Store: StoreRedis})
	n, _ := c.Node("n1")
	wantTail := []string{"--store", "redis", "--redis", n.Redis.URL}
	if got := n.Args[len(n.Args)-4:]; strings.Join(got, " ") != strings.Join(wantTail, " ") {
		t.Errorf("n1 args end with %q, want %q", got, wantTail)
	}
	if n.Redis.Dir != filepath.Join(n.Data, "redis") || !strings.HasPrefix(n.Redis.URL, "redis://127.0.0.1:") {
		t.Errorf("n1 redis = %+v, want dir %s/redis on loopback", n.Redis, n.Data)
	}
	if !isRedis(n.Redis.PID, n.Redis.Port, n.Redis.Dir) || isRedis(n.Redis.PID, n.Redis.Port+1, n.Redis.Dir) || isRedis(n.Redis.PID, n.Redis.Port, t.TempDir()) {
		t.Errorf("isRedis(%d, ...) does not tell its port and dir from others", n.Redis.PID)
	}
}

func TestCheckInfoPID(t *testing.T) {
	info := "# Server\r\nredis_version:7.0.15\r\nprocess_id:4242\r\ntcp_port:6379\r\n"
	if err := checkInfoPID(info, 4242); err != nil {
		t.Errorf("checkInfoPID(pid 4242, 4242) = %v, want nil", err)
	}
	if err := checkInfoPID(info, 17); err == nil || !strings.Contains(err.Error(), "another redis-server (pid 4242)") {
		t.Errorf("checkInfoPID(pid 4242, 17) = %v, want another server named", err)
	}
	if err := checkInfoPID("# Server\r\n", 17); err == nil {
		t.Error("checkInfoPID without process_id = nil, want an error")
	}
}
