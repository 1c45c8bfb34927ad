package robustness

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dualchain/dualchain/internal/localcluster"
)

// Signals go to a PID only after /proc shows it is still the process the
// cluster recorded, as localcluster does, so that a reused PID is never
// signalled.

// cmdline returns the arguments of process pid.
func cmdline(pid int) ([]string, error) {
	args, err := localcluster.Cmdline(pid)
	if err != nil {
		return nil, fmt.Errorf("%w: pid %d: %v", ErrNotOurs, pid, err)
	}
	return args, nil
}

// isNode reports whether pid runs exactly n's recorded argv.
func isNode(pid int, n localcluster.Node) bool {
	args, err := cmdline(pid)
	return pid > 0 && err == nil && slices.Equal(args, n.Args)
}

// isRedis reports whether pid is n's redis-server: redis-server, on n's
// port (it rewrites its command line to "redis-server 127.0.0.1:PORT").
func isRedis(pid int, n localcluster.Node) bool {
	if pid <= 0 || n.Redis == nil {
		return false
	}
	args, err := cmdline(pid)
	if err != nil {
		return false
	}
	fields := strings.Fields(strings.Join(args, " "))
	port := strconv.Itoa(n.Redis.Port)
	return len(fields) > 0 && filepath.Base(fields[0]) == localcluster.RedisServer &&
		(slices.Contains(fields, "127.0.0.1:"+port) || slices.Contains(fields, port))
}

// signalNode sends sig to node n's process.
func signalNode(n localcluster.Node, sig syscall.Signal) error {
	if !isNode(n.PID, n) {
		return fmt.Errorf("%w: %s pid %d", ErrNotOurs, n.ID, n.PID)
	}
	if err := syscall.Kill(n.PID, sig); err != nil {
		return fmt.Errorf("robustness: %v to %s (pid %d): %w", sig, n.ID, n.PID, err)
	}
	return nil
}

// killRedis sends SIGKILL to node n's redis-server and waits until it is
// gone (localcluster reaps it if it started it).
func killRedis(n localcluster.Node) error {
	if n.Redis == nil || !isRedis(n.Redis.PID, n) {
		return fmt.Errorf("%w: redis-server of %s", ErrNotOurs, n.ID)
	}
	pid := n.Redis.PID
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("robustness: SIGKILL redis-server of %s (pid %d): %w", n.ID, pid, err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if !isRedis(pid, n) || procState(pid) == "Z" {
			return nil
		}
	}
	return fmt.Errorf("robustness: redis-server of %s (pid %d) still runs 10s after SIGKILL", n.ID, pid)
}

// procState is the state letter of pid in /proc (R, S, T, Z...), or "".
func procState(pid int) string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return ""
	}
	return s[i+2 : i+3]
}
