package consensus

import (
	"fmt"
	"io"
	"sync/atomic"

	"github.com/hashicorp/raft"
)

// Entry is one committed log entry as the FSM sees it.
type Entry struct {
	Index uint64 // Raft index: strictly increasing, with gaps
	Term  uint64
	Data  []byte // as given to Replica.Apply; the FSM must not modify it
}

// FSM is the replicated state machine the node implements. Raft calls its
// methods from one goroutine, never concurrently with each other, except
// that a Snapshot's Persist runs concurrently with later Applies.
type FSM interface {
	// Apply applies a committed entry. Its error is returned to the
	// Replica.Apply call that proposed the entry, on the leader; the
	// entry stays committed either way.
	Apply(e Entry) error
	// Snapshot captures the state as of the last applied entry. It must be
	// quick; the copying belongs in Persist.
	Snapshot() (Snapshot, error)
	// Restore replaces the whole state with a snapshot's contents.
	Restore(r io.Reader) error
}

// Snapshot is a point-in-time copy of an FSM's state.
type Snapshot interface {
	// Persist writes the snapshot to w.
	Persist(w io.Writer) error
	// Release is called when Raft is done with the snapshot.
	Release()
}

// raftFSM adapts an FSM to raft.FSM, and records the index of the last
// entry the FSM has applied (Raft's own AppliedIndex moves when an entry is
// handed to the FSM's goroutine, before the FSM has applied it).
type raftFSM struct {
	fsm     FSM
	applied *atomic.Uint64
	snaps   raft.SnapshotStore
}

var _ raft.FSM = raftFSM{}

// Apply is only ever given LogCommand entries: raft keeps its no-op,
// barrier and configuration entries to itself (the FSM does not implement
// raft.ConfigurationStore).
func (f raftFSM) Apply(l *raft.Log) any {
	err := f.fsm.Apply(Entry{Index: l.Index, Term: l.Term, Data: l.Data})
	f.applied.Store(l.Index)
	return err
}

func (f raftFSM) Snapshot() (raft.FSMSnapshot, error) {
	s, err := f.fsm.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("consensus: snapshot: %w", err)
	}
	return raftSnapshot{s}, nil
}

func (f raftFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	if err := f.fsm.Restore(rc); err != nil {
		return fmt.Errorf("consensus: restore: %w", err)
	}
	// Raft restores the newest snapshot: at start, or the one a leader
	// just installed.
	if metas, err := f.snaps.List(); err == nil && len(metas) > 0 {
		f.applied.Store(metas[0].Index)
	}
	return nil
}

// raftSnapshot adapts a Snapshot to raft.FSMSnapshot.
type raftSnapshot struct{ s Snapshot }

func (s raftSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := s.s.Persist(sink); err != nil {
		sink.Cancel()
		return fmt.Errorf("consensus: persist snapshot %s: %w", sink.ID(), err)
	}
	return sink.Close()
}

func (s raftSnapshot) Release() { s.s.Release() }
