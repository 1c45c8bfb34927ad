package consensustest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/dualchain/dualchain/consensus"
)

// MemoryFSM is a consensus.FSM that records every entry it is given, in
// order, with its index. Its snapshot is every entry so far, so a restored
// MemoryFSM holds the same entries as the one the snapshot came from.
type MemoryFSM struct {
	mu       sync.Mutex
	entries  []consensus.Entry
	changed  chan struct{} // closed and replaced on every change
	restores int
}

var _ consensus.FSM = (*MemoryFSM)(nil)

// NewMemoryFSM returns an empty MemoryFSM.
func NewMemoryFSM() *MemoryFSM {
	return &MemoryFSM{changed: make(chan struct{})}
}

// notify wakes every waiter; f.mu is held.
func (f *MemoryFSM) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// Apply records e. It copies e.Data, which belongs to Raft.
func (f *MemoryFSM) Apply(e consensus.Entry) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	e.Data = slices.Clone(e.Data)
	f.entries = append(f.entries, e)
	f.notify()
	return nil
}

// Snapshot captures the entries so far.
func (f *MemoryFSM) Snapshot() (consensus.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return memorySnapshot(slices.Clone(f.entries)), nil
}

// Restore replaces the entries with a snapshot's.
func (f *MemoryFSM) Restore(r io.Reader) error {
	var entries []consensus.Entry
	if err := json.NewDecoder(r).Decode(&entries); err != nil {
		return fmt.Errorf("consensustest: decode snapshot: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries = entries
	f.restores++
	f.notify()
	return nil
}

// Entries returns a copy of the entries so far.
func (f *MemoryFSM) Entries() []consensus.Entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.entries)
}

// Restores counts the snapshots restored into f.
func (f *MemoryFSM) Restores() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.restores
}

// WaitLen waits until f holds at least n entries, or ctx ends.
func (f *MemoryFSM) WaitLen(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		have, changed := len(f.entries), f.changed
		f.mu.Unlock()
		if have >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("consensustest: %d of %d entries: %w", have, n, ctx.Err())
		}
	}
}

type memorySnapshot []consensus.Entry

func (s memorySnapshot) Persist(w io.Writer) error {
	return json.NewEncoder(w).Encode([]consensus.Entry(s))
}
func (s memorySnapshot) Release() {}
