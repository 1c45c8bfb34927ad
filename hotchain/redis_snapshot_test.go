package hotchain

import (
	"errors"
	"testing"
)

// TestRedisSnapshotMetaMoved: an Apply during Snapshot (which the FSM never
// does) makes Snapshot fail with ErrConflict, not return a state of no
// index.
func TestRedisSnapshotMetaMoved(t *testing.T) {
	f, _ := newRedisFixture(t)
	f.apply(t, f.chain.nextBlock(4))
	u := f.chain.nextBlock(4)
	s := f.s.(*RedisStore)
	s.afterScan = func() { f.apply(t, u) }
	if _, err := s.Snapshot(f.ctx); !errors.Is(err, ErrConflict) {
		t.Errorf("Snapshot() with an Apply during the scan = %v, want %v", err, ErrConflict)
	}
}

// TestRedisRestoreCrash: a Restore that stops after deleting the meta key
// (a crash, a lost connection) leaves a store that Open starts afresh from
// exactly the genesis state, and that a second Restore fills.
func TestRedisRestoreCrash(t *testing.T) {
	f, _ := newRedisFixture(t)
	f.apply(t, f.chain.nextBlock(6))
	snap := mustSnapshot(t, f)
	f.apply(t, f.chain.nextBlock(6))
	s := f.s.(*RedisStore)
	if err := s.dropMeta(f.ctx, snap); err != nil {
		t.Fatalf("dropMeta() = %v", err)
	}
	if _, err := s.Get(f.ctx, [][]byte{snap.Writes[0].Key}); !errors.Is(err, ErrWiped) {
		t.Errorf("Get() after a crashed Restore = %v, want %v", err, ErrWiped)
	}
	if m, err := f.handle().Open(f.ctx, f.chain.gen); err != nil || m.Index != 0 || m.Height != 0 {
		t.Fatalf("Open() after a crashed Restore = index %d height %d, %v, want 0 0", m.Index, m.Height, err)
	}
	if n := len(f.dump()); n != len(f.chain.genesis())+1 {
		t.Errorf("records after Open() = %d, want %d (genesis state and meta)", n, len(f.chain.genesis())+1)
	}
	if _, err := s.Restore(f.ctx, snap); err != nil {
		t.Fatalf("Restore() again = %v", err)
	}
	assertState(t, f.ctx, s, stateOf(snap))
}
