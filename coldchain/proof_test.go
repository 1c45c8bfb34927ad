package coldchain

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

// provenState returns a state of n random accounts and its model.
func provenState(t *testing.T, n int) (*State, model) {
	t.Helper()
	s := openTest(t, TestConfig())
	r := rand.New(rand.NewPCG(21, 22))
	m := model{}
	var ws []AccountWrite
	for range n {
		w := AccountWrite{randAddr(r), Account{Balance: 1 + r.Uint64N(1e9), Nonce: r.Uint64N(100)}}
		ws = append(ws, w)
	}
	m.apply(ws)
	if _, err := s.Apply(ws, 1); err != nil {
		t.Fatal(err)
	}
	return s, m
}

// proofsOfEveryKind returns an inclusion proof, a non-inclusion proof
// ending at another leaf, and one ending at an empty subtree.
func proofsOfEveryKind(t *testing.T, s *State, m model) map[string]*Proof {
	t.Helper()
	out := map[string]*Proof{}
	for a := range m {
		p, err := s.Prove(a)
		if err != nil {
			t.Fatal(err)
		}
		out["inclusion"] = p
		break
	}
	r := rand.New(rand.NewPCG(23, 24))
	for len(out) < 3 {
		p, err := s.Prove(randAddr(r))
		if err != nil {
			t.Fatal(err)
		}
		if p.Leaf != nil {
			out["non-inclusion/leaf"] = p
		} else {
			out["non-inclusion/empty"] = p
		}
	}
	return out
}

func TestProveVerify(t *testing.T) {
	s, m := provenState(t, 2000)
	root := s.Root()
	for a, acct := range m {
		p, err := s.Prove(a)
		if err != nil {
			t.Fatalf("Prove(%s): %v", a, err)
		}
		if !p.Included() || *p.Account != ledger.ProofAccount(acct) {
			t.Fatalf("Prove(%s) account = %v, want %v", a, p.Account, acct)
		}
		if err := p.Verify(root); err != nil {
			t.Fatalf("Verify(Prove(%s)) = %v", a, err)
		}
	}
	r := rand.New(rand.NewPCG(25, 26))
	for range 2000 {
		a := randAddr(r)
		p, err := s.Prove(a)
		if err != nil || p.Included() {
			t.Fatalf("Prove(absent %s) = %v, %v; want a non-inclusion proof", a, p, err)
		}
		if err := p.Verify(root); err != nil {
			t.Fatalf("Verify(non-inclusion %s) = %v", a, err)
		}
	}
}

func TestProofEmptyAndSingleton(t *testing.T) {
	s := openTest(t, TestConfig())
	a, b := ledger.Address{1}, ledger.Address{2}
	for step, ws := range [][]AccountWrite{nil, {{a, Account{Balance: 5}}}} {
		if _, err := s.Apply(ws, uint64(step+1)); err != nil {
			t.Fatal(err)
		}
		for _, addr := range []ledger.Address{a, b} {
			p, err := s.Prove(addr)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Verify(s.Root()); err != nil {
				t.Fatalf("step %d: Verify(Prove(%s)) = %v", step, addr, err)
			}
		}
	}
}

func TestProofDeepKeys(t *testing.T) {
	// Two leaves as deep as they go: make a tree with a key pair that
	// differs only in the last bit, through the tree layer (addresses
	// cannot be chosen for their hashes).
	tr := newMemTree()
	var k ledger.Hash
	k2 := k
	k2[31] = 1
	v := ledger.Hash{7}
	tr.apply(t, []change{{key: k, vh: &v}, {key: k2, vh: &v}})
	sib, leaf, err := pathTo(tr.nodes, tr.root, k)
	if err != nil || leaf == nil || leaf.a != k || len(sib) != maxDepth {
		t.Fatalf("pathTo = %d siblings, %v, %v; want %d, the leaf", len(sib), leaf, err, maxDepth)
	}
	h := leafHash(k, v)
	for i := len(sib) - 1; i >= 0; i-- {
		if bit(k, i) == 0 {
			h = innerHash(h, sib[i])
		} else {
			h = innerHash(sib[i], h)
		}
	}
	if h != tr.root {
		t.Fatalf("folding the path from the deepest leaf = %x, want root %x", h, tr.root)
	}
}

func TestProofJSONRoundTrip(t *testing.T) {
	s, m := provenState(t, 300)
	for name, p := range proofsOfEveryKind(t, s, m) {
		data, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := ledger.ParseProof(data)
		if err != nil {
			t.Fatalf("%s: ParseProof(%s) = %v", name, data, err)
		}
		if err := q.Verify(s.Root()); err != nil {
			t.Fatalf("%s: Verify(decoded) = %v", name, err)
		}
		again, _ := json.Marshal(q)
		if string(again) != string(data) {
			t.Fatalf("%s: re-encoded\n%s\nwant\n%s", name, again, data)
		}
	}
}
