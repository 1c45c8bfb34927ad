package localcluster

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// tetherParentArg makes the test binary TestTetherChildren's parent.
const tetherParentArg = "tether-parent"

// tetherParent is the test binary run as "BINARY tether-parent MODE LOG
// ARGV...": with MODE "tethered" it calls TetherChildren, then starts ARGV
// through startDetached, logging to LOG, from a thread that ends right
// after (startFromEndingThread), prints its PID and sleeps until killed
// (or for fakeLifetime).
func tetherParent(args []string) int {
	if len(args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: tether-parent MODE LOG ARGV...")
		return 2
	}
	if args[0] == "tethered" {
		TetherChildren()
	}
	pid, err := startFromEndingThread(args[2:], args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "tether-parent:", err)
		return 1
	}
	fmt.Println(pid)
	time.Sleep(fakeLifetime)
	return 0
}

// startFromEndingThread calls startDetached from a goroutine that locks
// itself to a thread other than the main one and exits locked, so that
// the Go runtime ends that thread (it only wedges the main one), and
// returns the child's PID once the thread is gone: the child must not die
// of that, only of this program's end.
func startFromEndingThread(argv []string, logPath string) (int, error) {
	type started struct {
		pid, tid int
		err      error
	}
	runtime.LockOSThread() // keeps the main thread, which this goroutine is likely on, from running the other
	defer runtime.UnlockOSThread()
	for range 100 {
		res := make(chan started, 1)
		go func() {
			runtime.LockOSThread()
			tid := syscall.Gettid()
			if tid == os.Getpid() {
				runtime.UnlockOSThread() // the main thread, which never ends: try another
				res <- started{tid: tid}
				return
			}
			pid, err := startDetached(argv, "", logPath)
			res <- started{pid, tid, err} // and end locked, ending the thread
		}()
		r := <-res
		switch {
		case r.tid == os.Getpid():
			continue
		case r.err != nil:
			return 0, r.err
		}
		task := "/proc/self/task/" + strconv.Itoa(r.tid)
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(pollEvery) {
			if _, err := os.Stat(task); os.IsNotExist(err) {
				return r.pid, nil
			}
		}
		_ = stopProcess(context.Background(), r.pid, func() bool { return isNode(r.pid, argv) }, 0)
		return 0, fmt.Errorf("thread %d that started pid %d still runs", r.tid, r.pid)
	}
	return 0, fmt.Errorf("no thread but the main one ran the starting goroutine")
}

// TestTetherChildren SIGKILLs a parent that started `sleep 60` through
// startDetached: if the parent called TetherChildren, the sleep dies with
// it, also when started through an exec prefix (env, which execs it as
// `ip netns exec` does); if not, it outlives it. In every case it must
// outlive the thread that asked for it to be started.
func TestTetherChildren(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skipf("no sleep: %v", err)
	}
	env, err := exec.LookPath("env")
	if err != nil {
		t.Skipf("no env: %v", err)
	}
	tests := []struct {
		name     string
		mode     string
		prefix   []string
		wait     time.Duration // how long to wait for the child to die after its parent
		wantGone bool
	}{
		{"tethered", "tethered", nil, 5 * time.Second, true},
		{"tethered through exec", "tethered", []string{env}, 5 * time.Second, true},
		{"detached", "detached", nil, time.Second, false}, // the kernel signals as the parent exits: a second is ample
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			argv := []string{sleep, "60"}
			parent, pid := startTetherParent(t, tt.mode, append(tt.prefix, argv...))
			ours := func() bool { return isNode(pid, argv, tt.prefix...) }
			t.Cleanup(func() { _ = stopProcess(context.Background(), pid, ours, 0) })
			if !ours() || waitGone(t.Context(), pid, time.Second) {
				t.Fatalf("child %d exited while its parent ran, when the thread that started it ended", pid)
			}
			if err := parent.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatalf("SIGKILL parent %d: %v", parent.Process.Pid, err)
			}
			_ = parent.Wait()
			if gone := waitGone(t.Context(), pid, tt.wait); gone != tt.wantGone {
				t.Errorf("%s: child %d gone %v after its parent's SIGKILL = %v, want %v", tt.name, pid, tt.wait, gone, tt.wantGone)
			}
		})
	}
}

// startTetherParent runs this test binary as tether-parent in mode,
// starting argv, and returns it and its child's PID. The parent is killed
// by PID when the test ends, if it still runs.
func startTetherParent(t *testing.T, mode string, argv []string) (*exec.Cmd, int) {
	t.Helper()
	args := append([]string{tetherParentArg, mode, filepath.Join(t.TempDir(), "child.log")}, argv...)
	parent := exec.Command(testBinary(t), args...)
	var stderr bytes.Buffer
	parent.Stderr = &stderr
	stdout, err := parent.StdoutPipe()
	if err != nil {
		t.Fatalf("stdout pipe: %v", err)
	}
	if err := parent.Start(); err != nil {
		t.Fatalf("start tether-parent: %v", err)
	}
	t.Cleanup(func() {
		_ = parent.Process.Kill() // by PID; an error means it was killed and reaped already
		_ = parent.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = parent.Wait() // it closed its stdout: it exited, and its stderr is all copied once it is reaped
		t.Fatalf("tether-parent printed %q, %v; stderr:\n%s", line, err, stderr.String())
	}
	pid, err := strconv.Atoi(line[:len(line)-1])
	if err != nil {
		t.Fatalf("tether-parent printed %q: want a PID", line)
	}
	return parent, pid
}
