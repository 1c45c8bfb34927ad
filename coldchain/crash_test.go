package coldchain

import (
	"maps"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// requireState fails the test unless s holds exactly m at index.
func requireState(t *testing.T, s *State, m model, index uint64) {
	t.Helper()
	if got, want := s.Root(), m.root(); got != want {
		t.Fatalf("Root = %x, want %x", got, want)
	}
	if got := s.AppliedIndex(); got != index {
		t.Fatalf("AppliedIndex = %d, want %d", got, index)
	}
	for a, want := range m {
		got, ok, err := s.Account(a)
		if err != nil || !ok || got != want {
			t.Fatalf("Account(%s) = %v, %v, %v; want %v", a, got, ok, err, want)
		}
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

// crashAndReopen opens the state a crash of fs would leave: the synced
// data, and a random part of what was not synced.
func crashAndReopen(t *testing.T, fs *vfs.MemFS, seed uint64, unsyncedPercent, keep int) *State {
	t.Helper()
	clone := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: unsyncedPercent, RNG: rand.New(rand.NewPCG(seed, seed))})
	return openTest(t, Config{Dir: "cold", FS: clone, KeepVersions: keep})
}

// TestCrashAfterApply: an Apply that returned survives a crash right
// after it, whatever part of the unsynced data the crash keeps, and so
// do the roots it retains (keep 2 drops a root in every Apply from the
// third on).
func TestCrashAfterApply(t *testing.T) {
	for _, keep := range []int{2, DefaultKeepVersions} {
		fs := vfs.NewCrashableMem()
		s := openTest(t, Config{Dir: "cold", FS: fs, KeepVersions: keep})
		r := rand.New(rand.NewPCG(31, 32))
		m := model{}
		var snaps []snapshot
		for i := uint64(1); i <= 5; i++ {
			ws := randomWrites(r, m, 100)
			root, err := s.Apply(ws, i)
			if err != nil {
				t.Fatal(err)
			}
			m.apply(ws)
			snaps = append(snaps, snapshot{root, maps.Clone(m)})
			kept := snaps[max(0, len(snaps)-keep):]
			for _, pct := range []int{0, 50, 100} {
				c := crashAndReopen(t, fs, i, pct, keep)
				requireState(t, c, m, i)
				for _, sn := range kept {
					requireProofsAt(t, c, sn, allAddrs(r, kept[len(kept)-1:]))
				}
				if err := c.Close(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// TestCrashBeforeCommit: a crash while an Apply's batch is built but not
// committed leaves the previous state whole, with the roots it retained
// (the Apply drops the oldest one).
func TestCrashBeforeCommit(t *testing.T) {
	fs := vfs.NewCrashableMem()
	cfg := Config{Dir: "cold", FS: fs, KeepVersions: 2}
	s := openTest(t, cfg)
	r := rand.New(rand.NewPCG(33, 34))
	m := model{}
	var snaps []snapshot
	for i := uint64(1); i <= 2; i++ {
		ws := randomWrites(r, m, 200)
		root, err := s.Apply(ws, i)
		if err != nil {
			t.Fatal(err)
		}
		m.apply(ws)
		snaps = append(snaps, snapshot{root, maps.Clone(m)})
	}
	var crashed []*vfs.MemFS
	s.beforeCommit = func() {
		for _, pct := range []int{0, 50, 100} {
			crashed = append(crashed, fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: pct, RNG: rand.New(rand.NewPCG(7, 7))}))
		}
	}
	next := randomWrites(r, m, 200)
	if _, err := s.Apply(next, 3); err != nil {
		t.Fatal(err)
	}
	addrs := allAddrs(r, snaps)
	for _, clone := range crashed {
		cfg.FS = clone
		c := openTest(t, cfg)
		requireState(t, c, m, 2)
		for _, sn := range snaps {
			requireProofsAt(t, c, sn, addrs)
		}
		// Raft replays the entry after the restart: it applies in full.
		if _, err := c.Apply(next, 3); err != nil {
			t.Fatal(err)
		}
		m2 := maps.Clone(m)
		m2.apply(next)
		requireState(t, c, m2, 3)
		if c.Root() != s.Root() {
			t.Fatalf("replayed root %x, want %x", c.Root(), s.Root())
		}
		requireProofsAt(t, c, snaps[1], addrs)
		requireForgotten(t, c, snaps[:1], []snapshot{snaps[1], {c.Root(), m2}})
		_ = c.Close()
	}
}

// TestCrashDropsUnsynced checks the crash filesystem itself: a write that
// was never synced is gone after a crash that keeps no unsynced data, so
// the tests above would notice an Apply that did not sync.
func TestCrashDropsUnsynced(t *testing.T) {
	fs := vfs.NewCrashableMem()
	s := openTest(t, Config{Dir: "cold", FS: fs})
	if _, err := s.Apply([]AccountWrite{{Address: [32]byte{1}, Account: Account{Balance: 1}}}, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Set(accountKey([32]byte{2}), Account{Balance: 2}.encode(), pebble.NoSync); err != nil {
		t.Fatal(err)
	}
	c := crashAndReopen(t, fs, 1, 0, 0)
	if _, ok, _ := c.Account([32]byte{2}); ok {
		t.Fatalf("an unsynced write survived the crash: the crash filesystem keeps everything")
	}
	if _, ok, _ := c.Account([32]byte{1}); !ok {
		t.Fatalf("the synced Apply was lost")
	}
}
