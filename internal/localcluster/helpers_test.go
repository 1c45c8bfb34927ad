package localcluster

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testBinary is this test binary, which is a fake node when run as
// "BINARY node ..." (see TestMain).
func testBinary(t *testing.T) string {
	t.Helper()
	bin, err := os.Executable()
	if err != nil {
		t.Fatalf("os.Executable: %v", err)
	}
	return bin
}

// logWriter sends progress lines to t.Log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// up starts a cluster of fake nodes in a new directory and stops it when
// the test ends.
func up(t *testing.T, o Options) *Cluster {
	t.Helper()
	o.Binary, o.Dir, o.Log = testBinary(t), t.TempDir(), logWriter{t}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Up(ctx, o)
	if err != nil {
		t.Fatalf("Up(%+v) = %v", o, err)
	}
	t.Cleanup(func() { downAndCheck(t, c) })
	return c
}

// downAndCheck stops c and fails the test if any of its processes is left.
func downAndCheck(t *testing.T, c *Cluster) {
	t.Helper()
	before := c.Nodes()
	if err := c.Down(context.Background()); err != nil {
		t.Errorf("Down() = %v", err)
	}
	for _, n := range before {
		if n.PID > 0 && exists(n.PID) && isNode(n.PID, n.Args) {
			t.Errorf("node %s (pid %d) still runs after Down", n.ID, n.PID)
		}
		if n.Redis != nil && n.Redis.PID > 0 && isRedis(n.Redis.PID, n.Redis.Port, n.Redis.Dir) {
			t.Errorf("redis-server of %s (pid %d) still runs after Down", n.ID, n.Redis.PID)
		}
	}
}

// needRedis skips the test when redis-server is not installed, except
// under CI=true, where it fails: CI must not pass without Redis.
func needRedis(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath(RedisServer); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found on PATH under CI: %v", RedisServer, err)
		}
		t.Skipf("%s not found on PATH (install Debian's redis-server): %v", RedisServer, err)
	}
}

// foreign starts a process this package did not start for a node (sleep),
// and kills it when the test ends.
func foreign(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("sleep", "300")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sleep: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
		<-done
	})
	// Until it has exec'ed sleep, /proc shows this test binary's argv.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		if args, err := cmdline(cmd.Process.Pid); err == nil && len(args) == 2 && args[0] == "sleep" {
			return cmd.Process.Pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d does not run sleep 300 after 10s", cmd.Process.Pid)
		}
	}
}
