package coldchain

import (
	"errors"
	"maps"
	"math/rand/v2"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

// snapshot is the model of the state at one root.
type snapshot struct {
	root ledger.Hash
	m    model
}

// requireProofsAt fails unless ProveAt against snap.root proves, for
// every address in addrs, its account as of that root.
func requireProofsAt(t *testing.T, s *State, snap snapshot, addrs []ledger.Address) {
	t.Helper()
	for _, a := range addrs {
		p, err := s.ProveAt(a, snap.root)
		if err != nil {
			t.Fatalf("ProveAt(%s, %x) = %v", a, snap.root, err)
		}
		if err := p.Verify(snap.root); err != nil {
			t.Fatalf("Verify(ProveAt(%s, %x)) = %v", a, snap.root, err)
		}
		want, in := snap.m[a]
		if p.Included() != in || (in && *p.Account != ledger.ProofAccount(want)) {
			t.Fatalf("ProveAt(%s, %x) account = %v, want %v (present %v)", a, snap.root, p.Account, want, in)
		}
	}
}

// allAddrs returns every address in the snapshots, and some never used.
func allAddrs(r *rand.Rand, snaps []snapshot) []ledger.Address {
	seen := map[ledger.Address]bool{}
	var out []ledger.Address
	for _, sn := range snaps {
		for a := range sn.m {
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	for range 20 {
		out = append(out, randAddr(r))
	}
	return out
}

func TestProveAt(t *testing.T) {
	for _, keep := range []int{1, 2, 5} {
		t.Run("keep="+string(rune('0'+keep)), func(t *testing.T) {
			cfg := TestConfig()
			cfg.KeepVersions = keep
			s := openTest(t, cfg)
			r := rand.New(rand.NewPCG(51, uint64(keep)))
			m := model{}
			var snaps []snapshot
			for i := uint64(1); i <= 25; i++ {
				ws := randomWrites(r, m, 1+r.IntN(40))
				if i%7 == 0 {
					ws = nil // an Apply with no writes keeps the root
				}
				m.apply(ws)
				root, err := s.Apply(ws, 2*i) // indices need not be consecutive
				if err != nil {
					t.Fatal(err)
				}
				snaps = append(snaps, snapshot{root, maps.Clone(m)})
				kept := snaps[max(0, len(snaps)-keep):]
				addrs := allAddrs(r, kept)
				for _, sn := range kept {
					requireProofsAt(t, s, sn, addrs)
				}
				requireForgotten(t, s, snaps[:len(snaps)-len(kept)], kept)
				if err := s.Check(); err != nil {
					t.Fatalf("Check after %d: %v", i, err)
				}
			}
		})
	}
}

// requireForgotten fails unless ProveAt refuses the roots of gone (those
// that are not also a kept root) and a root that never was.
func requireForgotten(t *testing.T, s *State, gone, kept []snapshot) {
	t.Helper()
	isKept := map[ledger.Hash]bool{}
	for _, sn := range kept {
		isKept[sn.root] = true
	}
	roots := []ledger.Hash{{1, 2, 3}}
	for _, sn := range gone {
		if !isKept[sn.root] {
			roots = append(roots, sn.root)
		}
	}
	for _, root := range roots {
		if _, err := s.ProveAt(ledger.Address{1}, root); !errors.Is(err, ErrUnknownRoot) {
			t.Fatalf("ProveAt(root %x, not kept) = %v, want ErrUnknownRoot", root, err)
		}
	}
}

// TestProveAtAfterReopen: the retained roots survive a restart, and a
// smaller KeepVersions drops the extra ones at the next Apply.
func TestProveAtAfterReopen(t *testing.T) {
	cfg := TestConfig()
	cfg.KeepVersions = 6
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(53, 54))
	m := model{}
	var snaps []snapshot
	for i := uint64(1); i <= 8; i++ {
		ws := randomWrites(r, m, 30)
		m.apply(ws)
		root, err := s.Apply(ws, i)
		if err != nil {
			t.Fatal(err)
		}
		snaps = append(snaps, snapshot{root, maps.Clone(m)})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, cfg)
	addrs := allAddrs(r, snaps)
	for _, sn := range snaps[2:] {
		requireProofsAt(t, s, sn, addrs)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.KeepVersions = 2
	s = openTest(t, cfg)
	ws := randomWrites(r, m, 30)
	m.apply(ws)
	root, err := s.Apply(ws, 9)
	if err != nil {
		t.Fatal(err)
	}
	snaps = append(snaps, snapshot{root, maps.Clone(m)})
	for _, sn := range snaps[7:] {
		requireProofsAt(t, s, sn, addrs)
	}
	requireForgotten(t, s, snaps[:7], snaps[7:])
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

// TestProveAtRepeatedRoot: a root the state returns to (a change and its
// undoing) is proved from whichever retained tree has it.
func TestProveAtRepeatedRoot(t *testing.T) {
	s := openTest(t, TestConfig())
	a, b := ledger.Address{1}, ledger.Address{2}
	base := []AccountWrite{{a, Account{Balance: 10}}, {b, Account{Balance: 20}}}
	r1, err := s.Apply(base, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply([]AccountWrite{{a, Account{Balance: 11}}}, 2); err != nil {
		t.Fatal(err)
	}
	r3, err := s.Apply([]AccountWrite{{a, Account{Balance: 10}}}, 3)
	if err != nil || r3 != r1 {
		t.Fatalf("Apply(undo) = %x, %v; want the first root %x", r3, err, r1)
	}
	if _, err := s.Apply([]AccountWrite{{b, Account{}}}, 4); err != nil {
		t.Fatal(err)
	}
	requireProofsAt(t, s, snapshot{r1, model{a: {Balance: 10}, b: {Balance: 20}}}, []ledger.Address{a, b, {3}})
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}
