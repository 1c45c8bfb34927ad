package consensus

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/dualchain/dualchain/internal/failpoint"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	raftwal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
)

// ErrLogStore is a write the Raft log store failed: the replica must stop.
var ErrLogStore = errors.New("consensus: the Raft log store failed a write")

// logStore is a Raft log plus stable store on disk, and how to close it.
type logStore interface {
	raft.LogStore
	raft.StableStore
	io.Closer
}

// openLogStore opens the store of the given kind under dataDir. Both kinds
// fsync every write: raft-wal always, raft-boltdb unless told NoSync.
func openLogStore(cfg Config, logger *slog.Logger) (logStore, error) {
	s, err := openDiskStore(cfg, logger)
	if err != nil {
		return nil, err
	}
	return newFailStopStore(s), nil
}

func openDiskStore(cfg Config, logger *slog.Logger) (logStore, error) {
	kind, dataDir := cfg.LogStore, cfg.DataDir
	switch kind {
	case StoreWAL:
		return openWALStore(filepath.Join(dataDir, "raft-wal"), cfg.WALSegmentBytes, logger)
	case StoreBolt:
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			return nil, fmt.Errorf("consensus: bolt log store: %w", err)
		}
		s, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dataDir, "raft.db")})
		if err != nil {
			return nil, fmt.Errorf("consensus: open bolt log store: %w", err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("%w: log store %q", ErrBadConfig, kind)
}

// walStore is a raft-wal WAL that also closes its meta store, which the
// WAL's own Close leaves open.
type walStore struct {
	*raftwal.WAL
	meta *metadb.BoltMetaDB
}

// openWALStore opens raft-wal in dir. Compaction drops whole segments
// only, so segmentBytes (0: raft-wal's 64 MiB) bounds how much of the log
// outlives a snapshot.
func openWALStore(dir string, segmentBytes int, logger *slog.Logger) (*walStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("consensus: wal log store: %w", err)
	}
	meta := &metadb.BoltMetaDB{}
	if segmentBytes <= 0 {
		segmentBytes = raftwal.DefaultSegmentSize
	}
	w, err := raftwal.Open(dir, raftwal.WithMetaStore(meta), raftwal.WithLogger(newRaftLogger(logger).Named("wal")),
		raftwal.WithSegmentSize(segmentBytes))
	if err != nil {
		meta.Close()
		return nil, fmt.Errorf("consensus: open wal log store %s: %w", dir, err)
	}
	return &walStore{WAL: w, meta: meta}, nil
}

func (s *walStore) Close() error {
	return errors.Join(s.WAL.Close(), s.meta.Close())
}

// failStopStore reports a failed append of log entries (and evaluates the
// raft-log-store failpoint: a slow disk, a failed write). hashicorp/raft
// only logs such a failure and goes on: a leader steps down, a follower
// refuses the entries, with its idea of its last entry possibly wrong
// after a truncation (raft.go's appendEntries says so). After a failed
// write or fsync the disk's content is not known either (an fsync error
// may have dropped dirty pages). So the node stops instead (fail-stop),
// and a restart reads the log from disk; until it has stopped (its API
// drains for a few seconds) the store refuses every write, so that
// nothing is acknowledged on top of a log it cannot trust. The stable
// store needs no such wrapper: raft panics when it cannot write its term
// or vote.
type failStopStore struct {
	logStore
	failed chan error // holds the first failure
	broken atomic.Pointer[error]
}

func newFailStopStore(s logStore) *failStopStore {
	return &failStopStore{logStore: s, failed: make(chan error, 1)}
}

func (s *failStopStore) StoreLog(l *raft.Log) error {
	return s.StoreLogs([]*raft.Log{l})
}

func (s *failStopStore) StoreLogs(logs []*raft.Log) error {
	if err := s.broken.Load(); err != nil {
		return *err
	}
	err := failpoint.Inject(failpoint.RaftLogStore)
	if err == nil {
		err = s.logStore.StoreLogs(logs)
	}
	if err != nil {
		err = fmt.Errorf("%w: append %d entries: %w", ErrLogStore, len(logs), err)
		s.fail(err)
	}
	return err
}

func (s *failStopStore) DeleteRange(lo, hi uint64) error {
	if err := s.broken.Load(); err != nil {
		return *err
	}
	err := s.logStore.DeleteRange(lo, hi)
	if err != nil {
		err = fmt.Errorf("%w: delete entries %d-%d: %w", ErrLogStore, lo, hi, err)
		s.fail(err)
	}
	return err
}

// IsMonotonic passes on the store's answer (raft.MonotonicLogStore):
// raft-wal refuses a gap in the log, so raft must drop the whole log when
// it installs a snapshot; a wrapper that hid it broke snapshot installs.
func (s *failStopStore) IsMonotonic() bool {
	m, ok := s.logStore.(raft.MonotonicLogStore)
	return ok && m.IsMonotonic()
}

var _ raft.MonotonicLogStore = (*failStopStore)(nil)

// fail refuses every later write and reports err, once.
func (s *failStopStore) fail(err error) {
	if s.broken.CompareAndSwap(nil, &err) {
		s.failed <- err
	}
}

// StoreFailed delivers the first write the Raft log store failed (an
// error wrapping ErrLogStore). The replica goes on without it, as
// hashicorp/raft does; its owner should stop it and restart from disk.
// A store without the wrapper never delivers.
func (r *Replica) StoreFailed() <-chan error {
	if s, ok := r.store.(*failStopStore); ok {
		return s.failed
	}
	return nil
}
