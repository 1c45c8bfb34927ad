package localcluster

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Timings of stopping a process.
const (
	stopGrace = 10 * time.Second // a SIGTERM'd process has this long to exit
	killWait  = 5 * time.Second  // a SIGKILL'd process must be gone within this
	pollEvery = 20 * time.Millisecond
)

// children are the processes this program started and that have not been
// reaped, by PID: a goroutine per child waits for it (so it never lingers
// as a zombie), closes its channel and forgets it. It is one table for the whole program, as
// children are: every Cluster value, Up's or Load's, sees the same ones.
var children = struct {
	sync.Mutex
	done map[int]chan struct{}
}{done: make(map[int]chan struct{})}

// startDetached starts argv in its own session, in dir (the current
// directory if empty), with stdin from /dev/null and stdout and stderr
// appended to logPath, and returns its PID. The process outlives this
// program, unless the program called TetherChildren; while this program
// runs, it reaps it.
func startDetached(argv []string, dir, logPath string) (int, error) {
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return 0, fmt.Errorf("localcluster: %w", err)
	}
	defer logFile.Close() // the child has its own copy
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := startCmd(cmd); err != nil {
		return 0, fmt.Errorf("localcluster: start %s: %w", argv[0], err)
	}
	done := make(chan struct{})
	pid := cmd.Process.Pid
	children.Lock()
	children.done[pid] = done
	children.Unlock()
	go func() {
		_ = cmd.Wait() // its exit status is in its log, if anywhere
		close(done)
		children.Lock()
		delete(children.done, pid) // reaped: /proc no longer shows it
		children.Unlock()
	}()
	return pid, nil
}

// childDone returns the channel closed when the child pid of this program
// has exited and been reaped, or nil if pid is not a child this program
// started (or has been reaped already).
func childDone(pid int) <-chan struct{} {
	children.Lock()
	defer children.Unlock()
	return children.done[pid]
}

// procState returns the state letter of /proc/PID/stat ("R", "S", "Z",
// ...), or "" when there is no such process.
func procState(pid int) string {
	if pid <= 0 {
		return ""
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The command name, in parentheses, may itself hold spaces and ')'.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return ""
	}
	return string(data[i+2])
}

// exists reports whether pid is a process that has not exited: a zombie
// (exited, not yet reaped by its parent) does not count.
func exists(pid int) bool {
	s := procState(pid)
	return s != "" && s != "Z" && s != "X"
}

// cmdline returns the arguments of process pid, as /proc shows them.
func cmdline(pid int) ([]string, error) { return Cmdline(pid) }

// Cmdline returns the arguments of process pid, as /proc shows them. A
// live process shows none for an instant while it execs (the kernel has
// swapped in the new program's memory but not yet laid out its
// arguments): a node started under `ip netns exec` passes through that
// window as ip execs it, and reading it then made a starting node look
// exited. An empty read of a live process is read again, for up to about
// 100 ms; only then is it an error.
func Cmdline(pid int) ([]string, error) {
	path := "/proc/" + strconv.Itoa(pid) + "/cmdline"
	for try := 0; ; try++ {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if len(data) > 0 {
			return strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00"), nil
		}
		if try == cmdlineTries || !exists(pid) {
			return nil, fmt.Errorf("process %d has no command line", pid)
		}
		time.Sleep(time.Millisecond)
	}
}

// cmdlineTries bounds Cmdline's reads of an empty command line.
const cmdlineTries = 100

// isNode reports whether pid is a live process running exactly argv: a
// node this package started, not a process that reused its PID. A node
// started with an exec prefix (Node.Exec) runs prefix+argv until the
// prefix execs argv: either counts.
func isNode(pid int, argv []string, prefix ...string) bool {
	if !exists(pid) {
		return false
	}
	got, err := cmdline(pid)
	return err == nil && (slices.Equal(got, argv) || len(prefix) > 0 && slices.Equal(got, slices.Concat(prefix, argv)))
}

// isRedis reports whether pid is a live redis-server listening on port
// whose working directory is dir. redis-server rewrites its command line
// to "redis-server 127.0.0.1:PORT" once it runs; before that it is the
// argv it was started with, after the exec prefix if it has one.
func isRedis(pid, port int, dir string, prefix ...string) bool {
	if !exists(pid) {
		return false
	}
	args, err := cmdline(pid)
	if err != nil {
		return false
	}
	if len(prefix) > 0 && len(args) > len(prefix) && slices.Equal(args[:len(prefix)], prefix) {
		args = args[len(prefix):]
	}
	fields := strings.Fields(strings.Join(args, " "))
	if len(fields) == 0 || filepath.Base(fields[0]) != RedisServer {
		return false
	}
	p := strconv.Itoa(port)
	onPort := slices.Contains(fields, "127.0.0.1:"+p) || flagValue(args, "--port") == p
	return onPort && sameDir(pid, dir)
}

// flagValue returns the argument after the first name in args, or "".
func flagValue(args []string, name string) string {
	i := slices.Index(args, name)
	if i < 0 || i+1 >= len(args) {
		return ""
	}
	return args[i+1]
}

// sameDir reports whether the working directory of pid is dir.
func sameDir(pid int, dir string) bool {
	cwd, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd")
	if err != nil {
		return false
	}
	want, err := filepath.EvalSymlinks(dir)
	return err == nil && filepath.Clean(cwd) == want
}

// waitGone waits up to d, or until ctx ends, for pid to exit, and
// reports whether it did.
func waitGone(ctx context.Context, pid int, d time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if done := childDone(pid); done != nil {
		select {
		case <-done:
			return true
		case <-ctx.Done():
			return false
		}
	}
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for exists(pid) {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return !exists(pid)
		}
	}
	return true
}

// stopProcess ends pid if ours reports it is still the process recorded:
// with grace > 0 it sends SIGTERM and waits that long (or until ctx ends),
// then SIGKILL. It returns ErrNotRunning when there was nothing to stop.
func stopProcess(ctx context.Context, pid int, ours func() bool, grace time.Duration) error {
	if pid <= 0 || !ours() {
		return ErrNotRunning
	}
	if grace > 0 {
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
			return fmt.Errorf("localcluster: SIGTERM %d: %w", pid, err)
		}
		if waitGone(ctx, pid, grace) {
			return nil
		}
		if !ours() {
			return nil // exited just now, and the PID was reused already
		}
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("localcluster: SIGKILL %d: %w", pid, err)
	}
	if !waitGone(context.Background(), pid, killWait) { // a SIGKILL'd process is waited for, whatever ctx says
		return fmt.Errorf("localcluster: process %d still exists %v after SIGKILL", pid, killWait)
	}
	return nil
}

// tailFile returns up to the last n bytes of the file at path, for error
// messages.
func tailFile(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	off := max(fi.Size()-n, 0)
	buf := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	return string(buf)
}
