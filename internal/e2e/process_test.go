package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dualchain/dualchain/client"
)

const (
	readyTimeout = 20 * time.Second // a node may replay its log before it answers
	stopTimeout  = 10 * time.Second // a SIGTERM'd node must exit within this
	logTail      = 8 << 10          // bytes of a node's log printed on failure
)

// nodeProc is one dualchain node process started by a test.
type nodeProc struct {
	t       *testing.T
	client  *client.Client
	url     string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed when cmd has been waited for
	exitErr error         // cmd.Wait's error, set before done is closed
}

// startNode runs `dualchain node --dev` on dataDir and the Redis at
// redisURL, listening on a free loopback port, and returns once its API
// answers. Its output goes to a file in the test's temp dir, printed if the
// test fails; it is stopped with SIGTERM when the test ends.
func startNode(t *testing.T, dataDir, redisURL string) *nodeProc {
	t.Helper()
	bin := binary(t)
	logDir := t.TempDir()
	var err error
	for attempt := range 3 {
		var n *nodeProc
		if n, err = launch(t, bin, dataDir, redisURL, filepath.Join(logDir, fmt.Sprintf("node-%d.log", attempt))); err != nil {
			t.Fatalf("start node: %v", err)
		}
		if err = n.waitReady(); err == nil {
			return n
		}
		n.kill()
		// Only a port taken before the node bound it is worth another
		// try: starting again after any other failure could hide it.
		if !strings.Contains(tail(n.logPath, logTail), "address already in use") {
			break
		}
	}
	t.Fatalf("start node on %s: %v", dataDir, err)
	return nil
}

func launch(t *testing.T, bin, dataDir, redisURL, logPath string) (*nodeProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	raftPort, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(bin, "node", "--dev", "--data", dataDir, "--http", addr,
		"--raft", net.JoinHostPort("127.0.0.1", strconv.Itoa(raftPort)),
		"--store", "redis", "--redis", redisURL, "--log-level", "info", "--exec", "both")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	n := &nodeProc{t: t, url: "http://" + addr, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	n.client = client.New(n.url)
	go func() {
		n.exitErr = cmd.Wait()
		logFile.Close()
		close(n.done)
	}()
	t.Cleanup(n.cleanup)
	return n, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls /v1/status until the node answers and has caught up
// (replayed its log), or the process exits.
func (n *nodeProc) waitReady() error {
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		st, err := n.client.Status(ctx)
		cancel()
		if err == nil && st.CaughtUp {
			return nil
		}
		select {
		case <-n.done:
			return fmt.Errorf("node exited before it answered: %v", n.exitErr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("node at %s did not answer /v1/status, caught up, within %v", n.url, readyTimeout)
}

func (n *nodeProc) exited() bool {
	select {
	case <-n.done:
		return true
	default:
		return false
	}
}

// kill ends the node with SIGKILL, by its PID, as a crash would, and waits
// for it to be gone.
func (n *nodeProc) kill() {
	if n.exited() {
		return
	}
	_ = syscall.Kill(n.cmd.Process.Pid, syscall.SIGKILL)
	<-n.done
}

// stop ends the node with SIGTERM, by its PID, and fails the test unless
// it exits cleanly in time.
func (n *nodeProc) stop() {
	n.t.Helper()
	if n.exited() {
		n.t.Errorf("node %s had exited before it was stopped: %v", n.url, n.exitErr)
		return
	}
	_ = syscall.Kill(n.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-n.done:
		if n.exitErr != nil {
			n.t.Errorf("node %s after SIGTERM: %v, want a clean exit", n.url, n.exitErr)
		}
	case <-time.After(stopTimeout):
		n.t.Errorf("node %s did not exit within %v of SIGTERM; killing it", n.url, stopTimeout)
		n.kill()
	}
}

// cleanup stops the node if the test left it running, and prints its log
// if the test failed.
func (n *nodeProc) cleanup() {
	if !n.exited() {
		_ = syscall.Kill(n.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-n.done:
		case <-time.After(stopTimeout):
			n.kill()
		}
	}
	if n.t.Failed() {
		n.t.Logf("log of node %s (%s):\n%s", n.url, n.logPath, tail(n.logPath, logTail))
	}
}

func tail(path string, size int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(data) > size {
		data = append([]byte("..."), data[len(data)-size:]...)
	}
	return string(data)
}
