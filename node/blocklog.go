package node

import (
	"errors"
	"fmt"
	"os"

	"github.com/hashicorp/raft"
	raftwal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
)

// blockLog is the ordered, durable log of committed entries. Until the
// consensus package replicates it with Raft, a node is its own leader and an
// entry is committed once it is on this node's disk.
type blockLog interface {
	// Append stores data as the next entry and returns its index once the
	// entry is durable.
	Append(data []byte) (uint64, error)
	// Read returns the entry at index.
	Read(index uint64) ([]byte, error)
	// LastIndex is the index of the newest entry, 0 if none.
	LastIndex() (uint64, error)
	Close() error
}

// walLog keeps the log in hashicorp/raft-wal: segment files with checksums,
// fsynced on every append, and a torn tail truncated on open. It is the log
// store the Raft-replicated log will use, so the on-disk format stays.
type walLog struct {
	w    *raftwal.WAL
	meta *metadb.BoltMetaDB // raft-wal's Close leaves it open; we close it
	last uint64
}

func openWALLog(dir string) (*walLog, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("node: block log: %w", err)
	}
	meta := &metadb.BoltMetaDB{}
	w, err := raftwal.Open(dir, raftwal.WithMetaStore(meta))
	if err != nil {
		meta.Close()
		return nil, fmt.Errorf("node: open block log %s: %w", dir, err)
	}
	last, err := w.LastIndex()
	if err != nil {
		w.Close()
		meta.Close()
		return nil, fmt.Errorf("node: block log last index: %w", err)
	}
	return &walLog{w: w, meta: meta, last: last}, nil
}

func (l *walLog) Append(data []byte) (uint64, error) {
	e := &raft.Log{Index: l.last + 1, Term: 1, Type: raft.LogCommand, Data: data}
	if err := l.w.StoreLogs([]*raft.Log{e}); err != nil {
		return 0, fmt.Errorf("node: append entry %d: %w", e.Index, err)
	}
	l.last = e.Index
	return e.Index, nil
}

func (l *walLog) Read(index uint64) ([]byte, error) {
	var e raft.Log
	if err := l.w.GetLog(index, &e); err != nil {
		if errors.Is(err, raft.ErrLogNotFound) {
			return nil, fmt.Errorf("node: entry %d: %w", index, ErrNotFound)
		}
		return nil, fmt.Errorf("node: read entry %d: %w", index, err)
	}
	return e.Data, nil
}

func (l *walLog) LastIndex() (uint64, error) { return l.last, nil }

func (l *walLog) Close() error {
	return errors.Join(l.w.Close(), l.meta.Close())
}
