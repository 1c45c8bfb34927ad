package localcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestOwnershipRefusesForeignPID(t *testing.T) {
	pid := foreign(t)
	args, err := cmdline(pid)
	if err != nil {
		t.Fatalf("cmdline(%d) = %v", pid, err)
	}
	dir := t.TempDir()
	tests := []struct {
		name string
		ours bool
		got  bool
	}{
		{"node argv of another program", false, isNode(pid, []string{"/usr/bin/dualchain", "node", "--data", dir})},
		{"its own argv", true, isNode(pid, args)},
		{"argv with one more argument", false, isNode(pid, append(args, "--id"))},
		{"redis-server", false, isRedis(pid, 6379, dir)},
		{"no such process", false, isNode(0, args)},
	}
	for _, tt := range tests {
		if tt.got != tt.ours {
			t.Errorf("%s: owned = %v, want %v", tt.name, tt.got, tt.ours)
		}
	}
	err = stopProcess(context.Background(), pid, func() bool { return isNode(pid, []string{"dualchain", "node"}) }, 0)
	if !errors.Is(err, ErrNotRunning) {
		t.Errorf("stopProcess(foreign pid %d) = %v, want ErrNotRunning", pid, err)
	}
	if !exists(pid) {
		t.Fatalf("foreign process %d was signalled", pid)
	}
}

// TestKillRecordedPIDReused is a node whose recorded PID now belongs to
// another program: Kill, Down and Status must leave that program alone.
func TestKillRecordedPIDReused(t *testing.T) {
	pid := foreign(t)
	dir := t.TempDir()
	m := &manifest{ChainID: ChainID, Store: StoreMemory, Binary: "/usr/bin/dualchain", Nodes: []Node{{
		ID: "n1", URL: "http://127.0.0.1:1", Raft: "127.0.0.1:2", Data: filepath.Join(dir, "n1"), PID: pid,
		Args: []string{"/usr/bin/dualchain", "node", "--data", filepath.Join(dir, "n1")},
	}}}
	c := newCluster(dir, m, logWriter{t})
	if err := c.Kill("n1"); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Kill(n1) = %v, want ErrNotRunning", err)
	}
	if sts := c.Status(context.Background()); sts[0].Running || !errors.Is(sts[0].Err, ErrNotRunning) {
		t.Errorf("Status() = %+v, want n1 not running", sts[0])
	}
	if err := c.Down(context.Background()); err != nil {
		t.Errorf("Down() = %v", err)
	}
	if !exists(pid) {
		t.Fatalf("process %d, which reused n1's pid, was signalled", pid)
	}
}

func TestExistsIgnoresZombie(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start true: %v", err)
	}
	pid := cmd.Process.Pid
	deadline := time.Now().Add(5 * time.Second)
	for procState(pid) != "Z" && time.Now().Before(deadline) {
		time.Sleep(pollEvery) // not reaped yet: it becomes a zombie
	}
	if s := procState(pid); s != "Z" {
		t.Fatalf("procState(%d) = %q, want Z for an exited child not waited for", pid, s)
	}
	if exists(pid) {
		t.Errorf("exists(%d) = true for a zombie, want false", pid)
	}
	_ = cmd.Wait()
	if s := procState(pid); s != "" || exists(pid) {
		t.Errorf("procState(%d) = %q after Wait, want none", pid, s)
	}
}

func TestStartDetachedIsReaped(t *testing.T) {
	dir := t.TempDir()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skipf("no sleep: %v", err)
	}
	argv := []string{sleep, "300"}
	pid, err := startDetached(argv, dir, filepath.Join(dir, "log"))
	if err != nil {
		t.Fatalf("startDetached(%q) = %v", argv, err)
	}
	t.Cleanup(func() { _ = stopProcess(context.Background(), pid, func() bool { return isNode(pid, argv) }, 0) })
	if !isNode(pid, argv) {
		t.Fatalf("isNode(%d, %q) = false for the process just started", pid, argv)
	}
	if sid, err := sessionID(pid); err != nil || sid != pid {
		t.Errorf("session of %d = %d, %v, want its own (%d)", pid, sid, err, pid)
	}
	if err := stopProcess(context.Background(), pid, func() bool { return isNode(pid, argv) }, time.Second); err != nil {
		t.Fatalf("stopProcess(%d) = %v", pid, err)
	}
	if s := procState(pid); s != "" {
		t.Errorf("procState(%d) = %q after stopProcess, want no process (reaped)", pid, s)
	}
	if err := stopProcess(context.Background(), pid, func() bool { return isNode(pid, argv) }, 0); !errors.Is(err, ErrNotRunning) {
		t.Errorf("stopProcess of a stopped process = %v, want ErrNotRunning", err)
	}
}

// sessionID reads the session of pid from /proc/PID/stat (field 6).
func sessionID(pid int) (int, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	var state string
	var ppid, pgrp, sid int
	i := bytes.LastIndexByte(data, ')')
	_, err = fmt.Sscan(string(data[i+2:]), &state, &ppid, &pgrp, &sid)
	return sid, err
}
