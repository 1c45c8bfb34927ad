package netfault

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Pid files are <id>.pid. Each is first written whole to a temp file
// beside it, claim-<pid>-<random>.tmp, and then linked into place.
const (
	pidSuffix = ".pid"
	tmpPrefix = "claim-"
	tmpSuffix = ".tmp"
)

// writePidFile makes path hold pid, all at once: the PID goes into a temp
// file in path's directory, which is then linked to path. A reader never
// sees path empty or half written (liveRuns would take that for a dead
// run, and a concurrent Sweep would delete a live one), and link fails
// with os.ErrExist when path is there, which keeps the claim exclusive as
// O_EXCL did.
func writePidFile(path string, pid int) error {
	f, err := os.CreateTemp(filepath.Dir(path), tmpPrefix+strconv.Itoa(pid)+"-*"+tmpSuffix)
	if err != nil {
		return fmt.Errorf("netfault: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	err = f.Chmod(0o644)
	if err == nil {
		_, err = f.WriteString(strconv.Itoa(pid) + "\n")
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("netfault: %w", err)
	}
	return nil
}

// liveRuns are the ids whose pid file in dir names a live process. Temp
// files, not yet linked into place, are not pid files.
func liveRuns(dir string) map[string]bool {
	live := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(dir, "*"+pidSuffix))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && alive(pid) {
			live[strings.TrimSuffix(filepath.Base(f), pidSuffix)] = true
		}
	}
	return live
}

// removeDeadTemps deletes the temp files in dir of writers that died
// between making one and removing it.
func removeDeadTemps(dir string) {
	files, _ := filepath.Glob(filepath.Join(dir, tmpPrefix+"*"+tmpSuffix))
	for _, f := range files {
		pid, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(f), tmpPrefix), "-")
		if n, err := strconv.Atoi(pid); err == nil && !alive(n) {
			os.Remove(f)
		}
	}
}

// alive reports whether process pid exists.
func alive(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }
