package hotchain

import (
	"context"
	"slices"

	"github.com/dualchain/dualchain/ledger"
)

// Snapshot implements Store: a copy of the state under the read lock.
func (s *MemoryStore) Snapshot(ctx context.Context) (*Snapshot, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := checkIncarnation(s.meta, s.opened); err != nil {
		return nil, snapshotErr(err)
	}
	snap := &Snapshot{Meta: *s.meta, Writes: make([]ledger.Write, 0, len(s.state))}
	snap.Meta.Incarnation = ""
	for k, v := range s.state {
		snap.Writes = append(snap.Writes, ledger.Write{Key: []byte(k), Value: slices.Clone(v)})
	}
	sortWrites(snap.Writes)
	return snap, nil
}

// Restore implements Store: it replaces everything under the lock.
func (s *MemoryStore) Restore(ctx context.Context, snap *Snapshot) (Meta, error) {
	if err := checkRestore(snap); err != nil {
		return Meta{}, restoreErr(snap, err)
	}
	m, err := restoredMeta(snap)
	if err != nil {
		return Meta{}, restoreErr(snap, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := checkRestoreGenesis(snap, s.opened, s.chain, s.meta); err != nil {
		return Meta{}, restoreErr(snap, err)
	}
	s.clear()
	for _, w := range snap.Writes {
		s.state[string(w.Key)] = slices.Clone(w.Value)
	}
	s.meta = &m
	s.opened, s.chain = m.Incarnation, m.Genesis
	return m, nil
}
