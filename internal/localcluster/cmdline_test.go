package localcluster

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestCmdlineThroughExecs reads the command line of a process that execs
// itself thousands of times, as `ip netns exec` execs a node: every read
// of the live process must give its arguments, none the empty line the
// kernel shows mid-exec (which made a starting node look exited).
func TestCmdlineThroughExecs(t *testing.T) {
	script := filepath.Join(t.TempDir(), "reexec.sh")
	body := "n=$1\nif [ \"$n\" -gt 0 ]; then exec /bin/sh \"$0\" $((n - 1)); fi\nexec sleep 2\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", script, "3000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	pid := cmd.Process.Pid
	reads, bad := 0, 0
	for {
		args, err := Cmdline(pid)
		if err == nil && len(args) > 0 && filepath.Base(args[0]) == "sleep" {
			break
		}
		select {
		case <-done:
			t.Fatalf("the process ended before it reached sleep (%d reads)", reads)
		default:
		}
		reads++
		if err != nil && exists(pid) {
			bad++
			t.Logf("read %d: %v", reads, err)
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d reads of a live process failed", bad, reads)
	}
	t.Logf("%d reads through 3000 execs, none empty", reads)
}
