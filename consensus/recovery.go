package consensus

import (
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/raft"
)

// ErrCompacted reports a log entry that is no longer in the log: a newer
// snapshot covers it. Start again from LatestSnapshot.
var ErrCompacted = errors.New("consensus: log entry compacted")

// LatestSnapshot opens the newest snapshot on this replica's disk and
// returns the index it was taken at and its contents, as FSM.Persist wrote
// them; the caller closes the reader. With no snapshot it returns index 0
// and a nil reader.
//
// With Entries it lets an FSM that lost its state (a wiped Redis) rebuild
// it without Raft's help: restore the snapshot, then apply every entry
// after it up to the last one applied. Raft keeps every entry after its
// latest snapshot in the log.
func (r *Replica) LatestSnapshot() (uint64, io.ReadCloser, error) {
	metas, err := r.snaps.List() // newest first
	if err != nil {
		return 0, nil, fmt.Errorf("consensus: list snapshots: %w", err)
	}
	if len(metas) == 0 {
		return 0, nil, nil
	}
	meta, rc, err := r.snaps.Open(metas[0].ID)
	if err != nil {
		return 0, nil, fmt.Errorf("consensus: open snapshot %s: %w", metas[0].ID, err)
	}
	return meta.Index, rc, nil
}

// Entries calls fn with every command entry from index from to index to,
// in order, as the FSM's Apply would have seen them; Raft's own entries are
// skipped. It fails with ErrCompacted if part of the range has been
// compacted away, and stops at fn's first error.
func (r *Replica) Entries(from, to uint64, fn func(Entry) error) error {
	var l raft.Log
	for i := from; i <= to && i != 0; i++ {
		if err := r.store.GetLog(i, &l); err != nil {
			if errors.Is(err, raft.ErrLogNotFound) {
				return fmt.Errorf("%w: entry %d", ErrCompacted, i)
			}
			return fmt.Errorf("consensus: read entry %d: %w", i, err)
		}
		if l.Type != raft.LogCommand {
			continue
		}
		if err := fn(Entry{Index: l.Index, Term: l.Term, Data: l.Data}); err != nil {
			return err
		}
	}
	return nil
}
