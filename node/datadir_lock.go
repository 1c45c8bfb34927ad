package node

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockFile is the file in a data dir a running node holds locked.
const lockFile = "LOCK"

// lockDataDir creates dir if needed and takes an exclusive lock on its LOCK
// file, holding this process's pid, for as long as the file stays open.
// Two nodes on one data dir would both append to its Raft log; the second
// is refused instead. The kernel drops the lock when the process dies, so a
// node killed with SIGKILL does not leave its data dir locked.
func lockDataDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		pid, _ := io.ReadAll(io.LimitReader(f, 32))
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is used by another node (pid %s); stop it first", ErrDataDirInUse, dir, strings.TrimSpace(string(pid)))
		}
		return nil, fmt.Errorf("node: lock %s: %w", dir, err)
	}
	// The pid only names the holder in a second node's error: failing to
	// write it loses nothing.
	if f.Truncate(0) == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// ErrDataDirInUse is returned by New when another node holds the data dir.
var ErrDataDirInUse = errors.New("node: data dir in use")
