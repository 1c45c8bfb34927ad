package consensus

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	raftwal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
)

// logStore is a Raft log plus stable store on disk, and how to close it.
type logStore interface {
	raft.LogStore
	raft.StableStore
	io.Closer
}

// openLogStore opens the store of the given kind under dataDir. Both kinds
// fsync every write: raft-wal always, raft-boltdb unless told NoSync.
func openLogStore(cfg Config, logger *slog.Logger) (logStore, error) {
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
