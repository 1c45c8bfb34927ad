package ledger_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

// proofTree is a cold state tree computed from its definition alone, with
// no store and no updates: the reference the verifier is tested against
// (coldchain's tests compare its stored tree with the same kind of model).
type proofTree struct {
	accounts map[ledger.Address]ledger.ProofAccount
	keys     []ledger.Hash // sorted
	vh       map[ledger.Hash]ledger.Hash
	memo     map[subtree]ledger.Hash
}

// subtree names the keys keys[i:j] at a depth.
type subtree struct{ i, j, depth int }

func newProofTree(accounts map[ledger.Address]ledger.ProofAccount) *proofTree {
	t := &proofTree{accounts: accounts, vh: map[ledger.Hash]ledger.Hash{}, memo: map[subtree]ledger.Hash{}}
	for a, acct := range accounts {
		// Spelled out rather than ColdTreeKey / ValueHash: the definitions.
		k := ledger.Hash(sha256.Sum256(a[:]))
		v := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, acct.Balance), acct.Nonce)
		t.keys = append(t.keys, k)
		t.vh[k] = sha256.Sum256(v)
	}
	slices.SortFunc(t.keys, func(a, b ledger.Hash) int { return bytes.Compare(a[:], b[:]) })
	return t
}

func proofBit(k ledger.Hash, i int) int { return int(k[i/8]>>(7-i%8)) & 1 }

// split returns the index of the first of keys[i:j] that goes right at
// depth.
func (t *proofTree) split(i, j, depth int) int {
	return i + sort.Search(j-i, func(k int) bool { return proofBit(t.keys[i+k], depth) == 1 })
}

// hash is the hash of the subtree holding keys[i:j] at depth.
func (t *proofTree) hash(i, j, depth int) ledger.Hash {
	switch j - i {
	case 0:
		return ledger.Hash{}
	case 1:
		return nodeHashOf(0x00, t.keys[i], t.vh[t.keys[i]])
	}
	if h, ok := t.memo[subtree{i, j, depth}]; ok {
		return h
	}
	m := t.split(i, j, depth)
	h := nodeHashOf(0x01, t.hash(i, m, depth+1), t.hash(m, j, depth+1))
	t.memo[subtree{i, j, depth}] = h
	return h
}

func nodeHashOf(prefix byte, a, b ledger.Hash) ledger.Hash {
	return sha256.Sum256(append(append([]byte{prefix}, a[:]...), b[:]...))
}

func (t *proofTree) root() ledger.Hash { return t.hash(0, len(t.keys), 0) }

// prove makes addr's proof by walking the key sets down its path.
func (t *proofTree) prove(addr ledger.Address) *ledger.Proof {
	key := ledger.Hash(sha256.Sum256(addr[:]))
	p := &ledger.Proof{Root: t.root(), Address: addr, Siblings: []ledger.Hash{}}
	i, j := 0, len(t.keys)
	for depth := 0; j-i > 1; depth++ {
		m := t.split(i, j, depth)
		if proofBit(key, depth) == 0 {
			p.Siblings = append(p.Siblings, t.hash(m, j, depth+1))
			j = m
		} else {
			p.Siblings = append(p.Siblings, t.hash(i, m, depth+1))
			i = m
		}
	}
	switch {
	case j-i == 1 && t.keys[i] == key:
		acct := t.accounts[addr]
		p.Account = &acct
	case j-i == 1:
		p.Leaf = &ledger.ProofLeaf{Key: t.keys[i], ValueHash: t.vh[t.keys[i]]}
	}
	return p
}

func proofAddr(r *rand.Rand) ledger.Address {
	var a ledger.Address
	for i := range a {
		a[i] = byte(r.Uint32())
	}
	return a
}

func randomProofTree(n int, seed uint64) *proofTree {
	r := rand.New(rand.NewPCG(seed, seed+1))
	accounts := map[ledger.Address]ledger.ProofAccount{}
	for range n {
		accounts[proofAddr(r)] = ledger.ProofAccount{Balance: 1 + r.Uint64N(1e9), Nonce: r.Uint64N(100)}
	}
	return newProofTree(accounts)
}

// proofsOfEveryKind returns an inclusion proof, a non-inclusion proof
// ending at another leaf, and one ending at an empty subtree.
func proofsOfEveryKind(t *testing.T, tr *proofTree) map[string]*ledger.Proof {
	t.Helper()
	out := map[string]*ledger.Proof{}
	for a := range tr.accounts {
		out["inclusion"] = tr.prove(a)
		break
	}
	r := rand.New(rand.NewPCG(23, 24))
	for i := 0; len(out) < 3; i++ {
		if i > 10000 {
			t.Fatalf("found only %d kinds of proof", len(out))
		}
		p := tr.prove(proofAddr(r))
		if p.Leaf != nil {
			out["non-inclusion/leaf"] = p
		} else {
			out["non-inclusion/empty"] = p
		}
	}
	return out
}

func TestProofVerify(t *testing.T) {
	tr := randomProofTree(2000, 1)
	root := tr.root()
	for a, acct := range tr.accounts {
		p := tr.prove(a)
		if !p.Included() || *p.Account != acct {
			t.Fatalf("prove(%s) account = %v, want %v", a, p.Account, acct)
		}
		if err := p.Verify(root); err != nil {
			t.Fatalf("Verify(prove(%s)) = %v", a, err)
		}
	}
	r := rand.New(rand.NewPCG(25, 26))
	kinds := map[bool]int{}
	for range 2000 {
		a := proofAddr(r)
		p := tr.prove(a)
		if p.Included() {
			t.Fatalf("prove(absent %s) is an inclusion proof", a)
		}
		kinds[p.Leaf != nil]++
		if err := p.Verify(root); err != nil {
			t.Fatalf("Verify(non-inclusion %s) = %v", a, err)
		}
	}
	if kinds[true] == 0 || kinds[false] == 0 {
		t.Fatalf("non-inclusion proofs ending at a leaf / empty: %d / %d, want both", kinds[true], kinds[false])
	}
}

func TestProofEmptyAndSingleton(t *testing.T) {
	a, b := ledger.Address{1}, ledger.Address{2}
	for _, accounts := range []map[ledger.Address]ledger.ProofAccount{{}, {a: {Balance: 5}}, {a: {Balance: 5}, b: {Nonce: 1}}} {
		tr := newProofTree(accounts)
		for _, addr := range []ledger.Address{a, b, {3}} {
			p := tr.prove(addr)
			if err := p.Verify(tr.root()); err != nil {
				t.Fatalf("%d accounts: Verify(prove(%s)) = %v", len(accounts), addr, err)
			}
			if _, in := accounts[addr]; p.Included() != in {
				t.Fatalf("%d accounts: prove(%s).Included() = %v, want %v", len(accounts), addr, p.Included(), in)
			}
		}
	}
}

func TestColdHashes(t *testing.T) {
	a := ledger.Address{7}
	acct := ledger.ProofAccount{Balance: 1000, Nonce: 3}
	wantValue := append(binary.BigEndian.AppendUint64(nil, 1000), binary.BigEndian.AppendUint64(nil, 3)...)
	if got := acct.Encode(); !bytes.Equal(got, wantValue) {
		t.Fatalf("Encode() = %x, want %x", got, wantValue)
	}
	k, vh := ledger.ColdTreeKey(a), acct.ValueHash()
	tests := []struct {
		name      string
		got, want ledger.Hash
	}{
		{"ColdTreeKey", k, sha256.Sum256(a[:])},
		{"ValueHash", vh, sha256.Sum256(wantValue)},
		{"ColdLeafHash", ledger.ColdLeafHash(k, vh), nodeHashOf(0x00, k, vh)},
		{"ColdInnerHash", ledger.ColdInnerHash(k, vh), nodeHashOf(0x01, k, vh)},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s = %x, want %x", tc.name, tc.got, tc.want)
		}
	}
}

// fold hashes from h, the subtree at depth len(siblings) on key's path,
// up to the root, from the tree's definition.
func fold(key, h ledger.Hash, siblings []ledger.Hash) ledger.Hash {
	for i := len(siblings) - 1; i >= 0; i-- {
		if proofBit(key, i) == 0 {
			h = nodeHashOf(0x01, h, siblings[i])
		} else {
			h = nodeHashOf(0x01, siblings[i], h)
		}
	}
	return h
}

// TestProofDeepest: a proof with the most siblings there can be verifies,
// and one with more is malformed.
func TestProofDeepest(t *testing.T) {
	a := ledger.Address{9}
	acct := ledger.ProofAccount{Balance: 1}
	p := &ledger.Proof{Address: a, Account: &acct, Siblings: make([]ledger.Hash, ledger.ColdTreeDepth)}
	for i := range p.Siblings {
		p.Siblings[i] = ledger.Hash{byte(i), 1}
	}
	h := fold(ledger.ColdTreeKey(a), nodeHashOf(0x00, ledger.ColdTreeKey(a), acct.ValueHash()), p.Siblings)
	p.Root = h
	if err := p.Verify(h); err != nil {
		t.Fatalf("Verify(%d siblings) = %v", ledger.ColdTreeDepth, err)
	}
	p.Siblings = append(p.Siblings, ledger.Hash{})
	if err := p.Verify(h); !errors.Is(err, ledger.ErrBadProof) {
		t.Fatalf("Verify(%d siblings) = %v, want ErrBadProof", len(p.Siblings), err)
	}
}

// TestProofLeafOffPath: a non-inclusion proof whose leaf is not on the
// address's path is malformed, even when its hashes are consistent (with
// a root made up for it).
func TestProofLeafOffPath(t *testing.T) {
	a := ledger.Address{5}
	key := ledger.ColdTreeKey(a)
	siblings := make([]ledger.Hash, 12)
	for i := range siblings {
		siblings[i] = ledger.Hash{byte(i + 1)}
	}
	for _, at := range []int{0, 5, 11, 12, 255} {
		other := key
		other[at/8] ^= 0x80 >> (at % 8) // differs from key first at bit at
		leaf := &ledger.ProofLeaf{Key: other, ValueHash: ledger.Hash{7}}
		root := fold(key, nodeHashOf(0x00, leaf.Key, leaf.ValueHash), siblings)
		p := &ledger.Proof{Root: root, Address: a, Leaf: leaf, Siblings: siblings}
		err := p.Verify(root)
		if onPath := at >= len(siblings); onPath != (err == nil) {
			t.Errorf("leaf differing at bit %d with %d siblings: Verify = %v, want error: %v", at, len(siblings), err, !onPath)
		}
		if err != nil && !errors.Is(err, ledger.ErrBadProof) {
			t.Errorf("leaf differing at bit %d: Verify = %v, want ErrBadProof", at, err)
		}
	}
}

func TestProofRejectsTampering(t *testing.T) {
	tr := randomProofTree(500, 3)
	root := tr.root()
	for name, p := range proofsOfEveryKind(t, tr) {
		t.Run(name, func(t *testing.T) {
			if err := p.Verify(root); err != nil {
				t.Fatalf("Verify(untouched) = %v", err)
			}
			for _, mutate := range byteMutations(p) {
				q := cloneProof(p)
				mutate(q)
				if err := q.Verify(root); err == nil {
					requireHonest(t, tr, p, q)
				}
			}
			for i := range root {
				bad := root
				bad[i] ^= 0x01
				if err := p.Verify(bad); err == nil {
					t.Fatalf("root byte %d flipped: Verify = nil", i)
				}
				q := cloneProof(p)
				q.Root = bad // both sides agree on the wrong root
				if err := q.Verify(bad); err == nil {
					t.Fatalf("root byte %d flipped in proof and trusted root: Verify = nil", i)
				}
			}
		})
	}
}

func cloneProof(p *ledger.Proof) *ledger.Proof {
	q := *p
	q.Siblings = append([]ledger.Hash(nil), p.Siblings...)
	if p.Account != nil {
		a := *p.Account
		q.Account = &a
	}
	if p.Leaf != nil {
		l := *p.Leaf
		q.Leaf = &l
	}
	return &q
}

// byteMutations returns one mutation per bit of every byte the proof
// carries (root, address, account, leaf, siblings), plus structural ones.
func byteMutations(p *ledger.Proof) []func(*ledger.Proof) {
	var out []func(*ledger.Proof)
	flips := func(field func(*ledger.Proof) []byte, n int) {
		for i := range n {
			for b := range 8 {
				out = append(out, func(q *ledger.Proof) { field(q)[i] ^= 1 << b })
			}
		}
	}
	flips(func(q *ledger.Proof) []byte { return q.Root[:] }, 32)
	flips(func(q *ledger.Proof) []byte { return q.Address[:] }, 32)
	for j := range p.Siblings {
		flips(func(q *ledger.Proof) []byte { return q.Siblings[j][:] }, 32)
	}
	if p.Leaf != nil {
		flips(func(q *ledger.Proof) []byte { return q.Leaf.Key[:] }, 32)
		flips(func(q *ledger.Proof) []byte { return q.Leaf.ValueHash[:] }, 32)
	}
	if p.Account != nil {
		for b := range 64 {
			out = append(out, func(q *ledger.Proof) { q.Account.Balance ^= 1 << b })
			out = append(out, func(q *ledger.Proof) { q.Account.Nonce ^= 1 << b })
		}
		out = append(out, func(q *ledger.Proof) { q.Account = nil })
	} else {
		out = append(out, func(q *ledger.Proof) { q.Account = &ledger.ProofAccount{Balance: 1} })
		out = append(out, func(q *ledger.Proof) {
			q.Leaf, q.Account, q.Siblings = nil, nil, append(q.Siblings, ledger.Hash{})
		})
	}
	if len(p.Siblings) > 0 {
		out = append(out, func(q *ledger.Proof) { q.Siblings = q.Siblings[1:] })
		out = append(out, func(q *ledger.Proof) { q.Siblings = q.Siblings[:len(q.Siblings)-1] })
	}
	out = append(out, func(q *ledger.Proof) { q.Siblings = append(q.Siblings, ledger.Hash{}) })
	return out
}

func TestProofJSONRoundTrip(t *testing.T) {
	tr := randomProofTree(300, 5)
	for name, p := range proofsOfEveryKind(t, tr) {
		data, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := ledger.ParseProof(data)
		if err != nil {
			t.Fatalf("%s: ParseProof(%s) = %v", name, data, err)
		}
		if err := q.Verify(tr.root()); err != nil {
			t.Fatalf("%s: Verify(decoded) = %v", name, err)
		}
		again, _ := json.Marshal(q)
		if string(again) != string(data) {
			t.Fatalf("%s: re-encoded\n%s\nwant\n%s", name, again, data)
		}
	}
}

// TestProofJSONText pins the format: one proof of each kind, written out.
func TestProofJSONText(t *testing.T) {
	h := func(b byte) ledger.Hash { return ledger.Hash{31: b} }
	hex := func(b byte) string { return fmt.Sprintf("%064x", b) }
	tests := []struct {
		p    ledger.Proof
		want string
	}{
		{ledger.Proof{Root: h(1), Address: ledger.Address(h(2)), Account: &ledger.ProofAccount{Balance: 1000, Nonce: 3}, Siblings: []ledger.Hash{h(4)}},
			`{"version":1,"root":"` + hex(1) + `","address":"dc` + hex(2) + `","account":{"balance":1000,"nonce":3},"siblings":["` + hex(4) + `"]}`},
		{ledger.Proof{Root: h(1), Address: ledger.Address(h(2)), Leaf: &ledger.ProofLeaf{Key: h(5), ValueHash: h(6)}, Siblings: []ledger.Hash{}},
			`{"version":1,"root":"` + hex(1) + `","address":"dc` + hex(2) + `","leaf":{"key":"` + hex(5) + `","value_hash":"` + hex(6) + `"},"siblings":[]}`},
		{ledger.Proof{Root: h(1), Address: ledger.Address(h(2))},
			`{"version":1,"root":"` + hex(1) + `","address":"dc` + hex(2) + `","siblings":[]}`},
	}
	for _, tc := range tests {
		got, err := json.Marshal(&tc.p)
		if err != nil || string(got) != tc.want {
			t.Errorf("Marshal = %s, %v; want %s", got, err, tc.want)
		}
	}
}

// TestProofJSONRejectsEveryByteChange: replacing any byte of a proof's JSON
// text makes it fail to decode or fail to verify.
func TestProofJSONRejectsEveryByteChange(t *testing.T) {
	tr := randomProofTree(300, 7)
	root := tr.root()
	for name, p := range proofsOfEveryKind(t, tr) {
		data, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		for i := range data {
			for _, c := range []byte{'0', '1', 'a', 'f', 'A', 'F', ' ', '"', '{', ']', 'x'} {
				if c == data[i] {
					continue
				}
				bad := append([]byte(nil), data...)
				bad[i] = c
				q, err := ledger.ParseProof(bad)
				if err == nil {
					err = q.Verify(root)
				}
				if err == nil {
					requireHonest(t, tr, p, q)
					continue
				}
				if !errors.Is(err, ledger.ErrBadProof) && !errors.Is(err, ledger.ErrProofMismatch) {
					t.Fatalf("%s: error %v wraps neither ErrBadProof nor ErrProofMismatch", name, err)
				}
			}
		}
	}
}

func TestProofMalformed(t *testing.T) {
	tests := []struct{ name, json string }{
		{"empty", ``},
		{"not object", `[]`},
		{"unknown member", `{"version":1,"root":"` + zeros + `","address":"dc` + zeros + `","siblings":[],"x":1}`},
		{"member twice", `{"version":1,"root":"` + zeros + `","root":"` + zeros + `","address":"dc` + zeros + `","siblings":[]}`},
		{"case", `{"Version":1,"root":"` + zeros + `","address":"dc` + zeros + `","siblings":[]}`},
		{"version 2", `{"version":2,"root":"` + zeros + `","address":"dc` + zeros + `","siblings":[]}`},
		{"no siblings", `{"version":1,"root":"` + zeros + `","address":"dc` + zeros + `"}`},
		{"null siblings", `{"version":1,"root":"` + zeros + `","address":"dc` + zeros + `","siblings":null}`},
		{"short root", `{"version":1,"root":"00","address":"dc` + zeros + `","siblings":[]}`},
		{"escaped hex", `{"version":1,"root":"\u0030` + zeros[1:] + `","address":"dc` + zeros + `","siblings":[]}`},
		{"negative", `{"version":1,"root":"` + zeros + `","address":"dc` + zeros + `","account":{"balance":-1,"nonce":0},"siblings":[]}`},
		{"float", `{"version":1,"root":"` + zeros + `","address":"dc` + zeros + `","account":{"balance":1.0,"nonce":0},"siblings":[]}`},
		{"trailing", `{"version":1,"root":"` + zeros + `","address":"dc` + zeros + `","siblings":[]} {}`},
	}
	for _, tc := range tests {
		if _, err := ledger.ParseProof([]byte(tc.json)); !errors.Is(err, ledger.ErrBadProof) {
			t.Errorf("ParseProof(%s) error = %v, want ErrBadProof", tc.name, err)
		}
	}
	var nilProof *ledger.Proof
	if err := nilProof.Verify(ledger.Hash{}); !errors.Is(err, ledger.ErrBadProof) {
		t.Errorf("nil Verify = %v, want ErrBadProof", err)
	}
	long := &ledger.Proof{Siblings: make([]ledger.Hash, ledger.ColdTreeDepth+1)}
	if err := long.Verify(ledger.Hash{}); !errors.Is(err, ledger.ErrBadProof) {
		t.Errorf("Verify(257 siblings) = %v, want ErrBadProof", err)
	}
	var p ledger.Proof
	if err := json.Unmarshal([]byte(`{"version":1}`), &p); !errors.Is(err, ledger.ErrBadProof) {
		t.Errorf("json.Unmarshal(incomplete) = %v, want ErrBadProof", err)
	}
}

const zeros = "0000000000000000000000000000000000000000000000000000000000000000"

func FuzzParseProof(f *testing.F) {
	f.Add([]byte(`{"version":1,"root":"` + zeros + `","address":"dc` + zeros + `","siblings":[]}`))
	f.Add([]byte(`{"version":1,"root":"` + zeros + `","address":"dc` + zeros + `","account":{"balance":1,"nonce":2},"siblings":["` + zeros + `"]}`))
	f.Add([]byte(`{"version":1,"root":"` + zeros + `","address":"dc` + zeros + `","leaf":{"key":"` + zeros + `","value_hash":"` + zeros + `"},"siblings":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ledger.ParseProof(data)
		if err != nil {
			if !errors.Is(err, ledger.ErrBadProof) {
				t.Fatalf("ParseProof error %v does not wrap ErrBadProof", err)
			}
			return
		}
		_ = p.Verify(p.Root) // must not panic
		enc, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("Marshal(decoded): %v", err)
		}
		q, err := ledger.ParseProof(enc)
		if err != nil {
			t.Fatalf("ParseProof(Marshal(p)) = %v", err)
		}
		again, _ := json.Marshal(q)
		if string(again) != string(enc) {
			t.Fatalf("round trip changed the proof:\n%s\n%s", enc, again)
		}
	})
}

// requireHonest fails the test unless q, a changed copy of p that
// verifies, is the tree's own proof for another absent address. That is
// the one change a proof survives: a non-inclusion proof also proves that
// any other address whose key shares the path's prefix (chance 2^-depth
// per changed address) is absent, which is true. Callers must check that
// a proof is about the address they asked for.
func requireHonest(t *testing.T, tr *proofTree, p, q *ledger.Proof) {
	t.Helper()
	if p.Included() || q.Address == p.Address {
		t.Fatalf("changed proof verifies:\n%+v\nwas\n%+v", q, p)
	}
	got, _ := json.Marshal(q)
	want, _ := json.Marshal(tr.prove(q.Address))
	if string(got) != string(want) {
		t.Fatalf("changed proof verifies but is not the proof of %s:\n%s\nwant\n%s", q.Address, got, want)
	}
	t.Logf("address changed to %s: still a true non-inclusion proof", q.Address)
}
