package coldchain

import (
	"fmt"
	"math/rand/v2"
	"slices"
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
	acct := Account{Balance: 7}
	tr.apply(t, []change{{key: k, acct: acct}, {key: k2, acct: acct}})
	var sib []ledger.Hash
	leaf := tr.t.lookup(k, &sib)
	if !leaf.isLeaf() || tr.t.leaf(leaf).key != k || len(sib) != maxDepth {
		t.Fatalf("lookup = %d siblings, leaf %v; want %d, the leaf", len(sib), leaf, maxDepth)
	}
	h := leafHash(k, acct.valueHash())
	for i := len(sib) - 1; i >= 0; i-- {
		if bit(k, i) == 0 {
			h = innerHash(h, sib[i])
		} else {
			h = innerHash(sib[i], h)
		}
	}
	if h != tr.t.rootHash() {
		t.Fatalf("folding the path from the deepest leaf = %x, want root %x", h, tr.t.rootHash())
	}
	// The same path through the tree's pages.
	pages := memPages{}
	pages.add(tr.t, tr.t.root, 0, ledger.Hash{})
	slot, err := decodeRootSlot(tr.t.appendSlot(nil, tr.t.root, tr.t.rootHash(), pageHeight))
	if err != nil {
		t.Fatal(err)
	}
	psib, pleaf, err := pagePath(pages, slot, k)
	if err != nil || pleaf == nil || pleaf.key != k || !slices.Equal(psib, sib) {
		t.Fatalf("pagePath = %d siblings, %v, %v; want the %d of lookup and the leaf", len(psib), pleaf, err, len(sib))
	}
}

// memPages holds a tree's pages in memory: a pageReader for tests.
type memPages map[string][]byte

// add stores the pages of the subtree r at depth.
func (m memPages) add(t *tree, r nref, depth int, prefix ledger.Hash) {
	if !r.isInner() {
		return
	}
	if depth%pageHeight == 0 {
		m[string(pageID{ver: t.inner(r).ver, depth: depth, key: prefix}.dbKey())] = t.encodePage(nil, r)
	}
	for b := range 2 {
		m.add(t, t.inner(r).kid[b], depth+1, withBit(prefix, depth, b))
	}
}

func (m memPages) readPage(id pageID, want ledger.Hash) (*pnode, error) {
	data, ok := m[string(id.dbKey())]
	if !ok {
		return nil, fmt.Errorf("%w: page %x missing", ErrCorrupt, id.dbKey())
	}
	n, err := decodePage(data, id)
	if err == nil && n.hash != want {
		err = fmt.Errorf("%w: page %x hashes to %x, want %x", ErrCorrupt, id.dbKey(), n.hash, want)
	}
	return n, err
}
