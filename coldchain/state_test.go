package coldchain

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/dualchain/dualchain/ledger"
)

func openTest(t testing.TB, cfg Config) *State {
	t.Helper()
	s, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func randAddr(r *rand.Rand) ledger.Address { return ledger.Address(randHash(r)) }

// model is the expected state: address → account.
type model map[ledger.Address]Account

func (m model) root() ledger.Hash {
	leaves := map[ledger.Hash]ledger.Hash{}
	for a, acct := range m {
		leaves[keyOf(a)] = acct.valueHash()
	}
	return naiveRoot(leaves)
}

func (m model) apply(ws []AccountWrite) {
	for _, w := range ws {
		if w.Account.IsZero() {
			delete(m, w.Address)
		} else {
			m[w.Address] = w.Account
		}
	}
}

// randomWrites returns n writes to distinct addresses: new accounts,
// updates, deletions (the zero account) of present and absent accounts.
func randomWrites(r *rand.Rand, m model, n int) []AccountWrite {
	var present []ledger.Address
	for a := range m {
		present = append(present, a)
	}
	seen := map[ledger.Address]bool{}
	var ws []AccountWrite
	for len(ws) < n {
		w := AccountWrite{Address: randAddr(r)}
		if len(present) > 0 && r.IntN(2) == 0 {
			w.Address = present[r.IntN(len(present))]
		}
		if r.IntN(4) != 0 {
			w.Account = Account{Balance: r.Uint64N(1000), Nonce: r.Uint64N(5)}
		}
		if !seen[w.Address] {
			seen[w.Address] = true
			ws = append(ws, w)
		}
	}
	return ws
}

func TestStateDifferential(t *testing.T) {
	s := openTest(t, TestConfig())
	r := rand.New(rand.NewPCG(11, 12))
	m := model{}
	for i := uint64(1); i <= 60; i++ {
		ws := randomWrites(r, m, 1+r.IntN(60))
		root, err := s.Apply(ws, i)
		if err != nil {
			t.Fatalf("Apply(%d): %v", i, err)
		}
		m.apply(ws)
		if want := m.root(); root != want || s.Root() != want {
			t.Fatalf("Apply(%d) = %x (Root %x), want %x", i, root, s.Root(), want)
		}
		if i%10 == 0 {
			if err := s.Check(); err != nil {
				t.Fatalf("Check after %d: %v", i, err)
			}
		}
	}
	for a, want := range m {
		got, ok, err := s.Account(a)
		if err != nil || !ok || got != want {
			t.Fatalf("Account(%s) = %v, %v, %v; want %v, true, nil", a, got, ok, err, want)
		}
	}
}

func TestApplyIdempotent(t *testing.T) {
	s := openTest(t, TestConfig())
	a := ledger.Address{1}
	root5, err := s.Apply([]AccountWrite{{a, Account{Balance: 10}}}, 5)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	for _, idx := range []uint64{5, 4, 0} {
		got, err := s.Apply([]AccountWrite{{a, Account{Balance: 99}}}, idx)
		if err != nil || got != root5 {
			t.Fatalf("Apply(index %d) = %x, %v; want %x, nil", idx, got, err, root5)
		}
	}
	if acct, _, _ := s.Account(a); acct.Balance != 10 || s.AppliedIndex() != 5 {
		t.Fatalf("after replays: balance %d, index %d; want 10, 5", acct.Balance, s.AppliedIndex())
	}
}

func TestApplyRejectsDuplicate(t *testing.T) {
	s := openTest(t, TestConfig())
	a := ledger.Address{1}
	_, err := s.Apply([]AccountWrite{{a, Account{Balance: 1}}, {a, Account{Balance: 2}}}, 1)
	if !errors.Is(err, ErrBadWrite) {
		t.Fatalf("Apply(duplicate) error = %v, want ErrBadWrite", err)
	}
	if s.AppliedIndex() != 0 || s.Root() != emptyHash {
		t.Fatalf("a rejected Apply changed the state")
	}
}

func TestZeroAccountDeletes(t *testing.T) {
	s := openTest(t, TestConfig())
	a, b := ledger.Address{1}, ledger.Address{2}
	if _, err := s.Apply([]AccountWrite{{a, Account{Balance: 1}}, {b, Account{Nonce: 3}}}, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply([]AccountWrite{{a, Account{}}}, 2); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Account(a); ok {
		t.Fatalf("Account(a) found after writing the zero account")
	}
	if got, ok, _ := s.Account(b); !ok || got.Nonce != 3 {
		t.Fatalf("Account(b) = %v, %v; want nonce 3 (a zero balance with a nonce is an account)", got, ok)
	}
	if want := (model{b: {Nonce: 3}}).root(); s.Root() != want {
		t.Fatalf("Root = %x, want %x", s.Root(), want)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestReopen(t *testing.T) {
	cfg := TestConfig()
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(13, 14))
	m := model{}
	ws := randomWrites(r, m, 200)
	m.apply(ws)
	root, err := s.Apply(ws, 7)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(ws, 8); !errors.Is(err, ErrClosed) {
		t.Fatalf("Apply after Close: %v, want ErrClosed", err)
	}
	s2 := openTest(t, cfg)
	if s2.Root() != root || s2.AppliedIndex() != 7 {
		t.Fatalf("reopened: root %x index %d; want %x 7", s2.Root(), s2.AppliedIndex(), root)
	}
	if err := s2.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{}, {Dir: "x", CacheSize: -1}, {Dir: "x", KeepVersions: -1}} {
		if _, err := Open(c); !errors.Is(err, ErrBadConfig) {
			t.Errorf("Open(%+v) error = %v, want ErrBadConfig", c, err)
		}
	}
	if err := DefaultConfig("d").Validate(); err != nil {
		t.Errorf("DefaultConfig.Validate() = %v", err)
	}
}

// TestCheckFindsCorruption: Check notices a page no root reaches, a
// missing page, a changed page, an unknown key, a missing account record,
// and an account record that is not its leaf's.
func TestCheckFindsCorruption(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(t *testing.T, s *State)
	}{
		{"stale page", func(t *testing.T, s *State) {
			mustSet(t, s, pageID{ver: 1, depth: 8, key: ledger.Hash{9}}.dbKey(), []byte{slotInner})
		}},
		{"root page missing", func(t *testing.T, s *State) { mustDelete(t, s, rootPageKey(t, s)) }},
		{"root page changed", func(t *testing.T, s *State) {
			v, _, _ := s.get(rootPageKey(t, s))
			v[len(v)-1] ^= 1
			mustSet(t, s, rootPageKey(t, s), v)
		}},
		{"unknown lowercase key", func(t *testing.T, s *State) { mustSet(t, s, []byte("zzz"), []byte{1}) }},
		{"account missing", func(t *testing.T, s *State) { mustDelete(t, s, accountKey(anyAddress(t, s))) }},
		{"account changed", func(t *testing.T, s *State) {
			mustSet(t, s, accountKey(anyAddress(t, s)), Account{Balance: 1 << 60}.encode())
		}},
		{"garbage list dropped", func(t *testing.T, s *State) { mustDelete(t, s, garbageKey(s.versions[0].index)) }},
		{"version record dropped", func(t *testing.T, s *State) { mustDelete(t, s, versionKey(s.versions[0].index)) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, TestConfig())
			r := rand.New(rand.NewPCG(15, 16))
			m := model{}
			for i := uint64(1); i <= 3; i++ {
				ws := randomWrites(r, m, 50)
				m.apply(ws)
				if _, err := s.Apply(ws, i); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Check(); err != nil {
				t.Fatalf("Check before corruption = %v", err)
			}
			tc.corrupt(t, s)
			if err := s.Check(); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Check = %v, want ErrCorrupt", err)
			}
		})
	}
}

// TestCheckIgnoresChainRecords: keys whose first byte is uppercase are
// chain.go's, and Check does not look at them.
func TestCheckIgnoresChainRecords(t *testing.T) {
	s := openTest(t, TestConfig())
	if _, err := s.apply(randomWrites(rand.New(rand.NewPCG(1, 1)), model{}, 20), []record{{key: []byte("Bblock"), value: []byte{1}}}, 1); err != nil {
		t.Fatal(err)
	}
	mustSet(t, s, []byte("Zanything"), []byte{2})
	if err := s.Check(); err != nil {
		t.Fatalf("Check with chain records = %v", err)
	}
	if v, ok, _ := s.get([]byte("Bblock")); !ok || !bytes.Equal(v, []byte{1}) {
		t.Fatalf("record written by apply = %x, %v; want 01", v, ok)
	}
}

func mustSet(t *testing.T, s *State, k, v []byte) {
	t.Helper()
	if err := s.db.Set(k, v, nil); err != nil {
		t.Fatal(err)
	}
}

func mustDelete(t *testing.T, s *State, k []byte) {
	t.Helper()
	if err := s.db.Delete(k, nil); err != nil {
		t.Fatal(err)
	}
}

func rootPageKey(t *testing.T, s *State) []byte {
	t.Helper()
	if !s.tree.root.isInner() {
		t.Fatalf("the tree has no root page")
	}
	return pageID{ver: s.tree.inner(s.tree.root).ver}.dbKey()
}

func anyAddress(t *testing.T, s *State) ledger.Address {
	t.Helper()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{accountPrefix}, UpperBound: []byte{accountPrefix + 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	if !it.First() {
		t.Fatalf("no account stored")
	}
	return ledger.Address(it.Key()[1:])
}

// TestProveDuringApply: proofs made while Apply runs are consistent: each
// verifies against the root it names.
func TestProveDuringApply(t *testing.T) {
	s := openTest(t, TestConfig())
	r := rand.New(rand.NewPCG(17, 18))
	m := model{}
	ws := randomWrites(r, m, 300)
	m.apply(ws)
	if _, err := s.Apply(ws, 1); err != nil {
		t.Fatal(err)
	}
	addrs := make([]ledger.Address, 0, len(m))
	for a := range m {
		addrs = append(addrs, a)
	}
	done := make(chan error, 1)
	go func() {
		defer close(done)
		for i := uint64(2); i < 40; i++ {
			if _, err := s.Apply(randomWrites(rand.New(rand.NewPCG(i, i)), nil, 50), i); err != nil {
				done <- err
				return
			}
		}
	}()
	for i := 0; ; i++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			return
		default:
		}
		p, err := s.Prove(addrs[i%len(addrs)])
		if err != nil {
			t.Fatalf("Prove: %v", err)
		}
		if err := p.Verify(p.Root); err != nil {
			t.Fatalf("Verify(own root) = %v", err)
		}
	}
}
