package netfault

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// These tests use a temp dir for the state dir: they need no root.

func TestWritePidFileIsExclusiveAndLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "0abc"+pidSuffix)
	if err := writePidFile(path, os.Getpid()); err != nil {
		t.Fatalf("writePidFile(%s) = %v", path, err)
	}
	if err := writePidFile(path, os.Getpid()+1); !errors.Is(err, os.ErrExist) {
		t.Errorf("writePidFile(%s) again = %v, want %v", path, err, os.ErrExist)
	}
	if data, err := os.ReadFile(path); err != nil || string(data) != strconv.Itoa(os.Getpid())+"\n" {
		t.Errorf("%s = %q, %v; want the first writer's PID", path, data, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("stat %s = %v, %v; want mode 0644", path, fi, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("dir holds %v, want the pid file alone", entries)
	}
}

// TestLiveRunsNeverSeesAClaimHalfWritten is the race of review 8's Low 4:
// a pid file created empty and written after looked dead to a concurrent
// Sweep, which then deleted a live run.
func TestLiveRunsNeverSeesAClaimHalfWritten(t *testing.T) {
	dir := t.TempDir()
	const claims = 300
	stop, finished := make(chan struct{}), make(chan struct{})
	var werr error
	go func() {
		defer close(finished)
		for i := range claims {
			select {
			case <-stop:
				return
			default:
			}
			if err := writePidFile(filepath.Join(dir, fmt.Sprintf("%04x%s", i, pidSuffix)), os.Getpid()); err != nil {
				werr = fmt.Errorf("writePidFile(%d) = %w", i, err)
				return
			}
		}
	}()
	defer func() {
		close(stop)
		<-finished
		if werr != nil {
			t.Error(werr)
		}
	}()
	for last := false; !last; {
		select {
		case <-finished:
			last = true
		default:
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*"+pidSuffix))
		live := liveRuns(dir)
		for _, f := range files {
			if id := strings.TrimSuffix(filepath.Base(f), pidSuffix); !live[id] {
				t.Fatalf("liveRuns() misses run %s, whose pid file was listed before it looked (%d claims in)", id, len(files))
			}
		}
	}
}

func TestLiveRunsAndTemps(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	me, gone := os.Getpid(), dead.Process.Pid
	dir := t.TempDir()
	for name, data := range map[string]string{
		"0001.pid": strconv.Itoa(me) + "\n",
		"0002.pid": strconv.Itoa(gone) + "\n",
		"0003.pid": "",
		"0004.pid": "junk",
		tmpPrefix + strconv.Itoa(me) + "-1" + tmpSuffix:   strconv.Itoa(me) + "\n",
		tmpPrefix + strconv.Itoa(gone) + "-2" + tmpSuffix: strconv.Itoa(gone) + "\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if live := liveRuns(dir); len(live) != 1 || !live["0001"] {
		t.Errorf("liveRuns() = %v, want 0001 alone", live)
	}
	removeDeadTemps(dir)
	for name, want := range map[string]bool{
		tmpPrefix + strconv.Itoa(me) + "-1" + tmpSuffix:   true,
		tmpPrefix + strconv.Itoa(gone) + "-2" + tmpSuffix: false,
		"0002.pid": true, // Sweep's to remove, with the run's namespaces
	} {
		_, err := os.Stat(filepath.Join(dir, name))
		if got := err == nil; got != want {
			t.Errorf("after removeDeadTemps, %s there = %v, want %v", name, got, want)
		}
	}
}
