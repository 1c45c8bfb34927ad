package coldchain

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

// memTree is a tree alone (no Pebble), with the map of what it should
// hold.
type memTree struct {
	t    *tree
	ver  uint64
	want map[ledger.Hash]Account // key → account
}

func newMemTree() *memTree {
	return &memTree{t: newTree(), want: map[ledger.Hash]Account{}}
}

func (m *memTree) apply(tb testing.TB, changes []change) *treeUpdate {
	tb.Helper()
	slices.SortFunc(changes, func(a, b change) int { return bytes.Compare(a.key[:], b.key[:]) })
	m.ver++
	u, err := updateTree(m.t, changes, m.ver)
	if err != nil {
		tb.Fatalf("updateTree: %v", err)
	}
	u.commit()
	for _, c := range changes {
		if c.acct.IsZero() {
			delete(m.want, c.key)
		} else {
			m.want[c.key] = c.acct
		}
	}
	return u
}

// naiveRoot computes the root of a key → valueHash map from the tree's
// definition alone, with no store and no updates.
func naiveRoot(m map[ledger.Hash]ledger.Hash) ledger.Hash {
	keys := make([]ledger.Hash, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b ledger.Hash) int { return bytes.Compare(a[:], b[:]) })
	var sub func(keys []ledger.Hash, depth int) ledger.Hash
	sub = func(keys []ledger.Hash, depth int) ledger.Hash {
		switch len(keys) {
		case 0:
			return ledger.Hash{}
		case 1:
			return leafHash(keys[0], m[keys[0]])
		}
		var left, right []ledger.Hash
		for _, k := range keys {
			if k[depth/8]&(0x80>>(depth%8)) == 0 {
				left = append(left, k)
			} else {
				right = append(right, k)
			}
		}
		return innerHash(sub(left, depth+1), sub(right, depth+1))
	}
	return sub(keys, 0)
}

func (m *memTree) naiveRoot() ledger.Hash {
	vh := map[ledger.Hash]ledger.Hash{}
	for k, a := range m.want {
		vh[k] = a.valueHash()
	}
	return naiveRoot(vh)
}

// requireTree fails unless the tree holds exactly m.want, with the root
// computed naively, and its slabs hold exactly the reachable nodes.
func (m *memTree) requireTree(tb testing.TB, what string) {
	tb.Helper()
	if got, want := m.t.rootHash(), m.naiveRoot(); got != want {
		tb.Fatalf("%s: root = %x, want %x", what, got, want)
	}
	inners, leaves := reachable(m.t, m.t.root)
	if live := m.t.inners.live(); live != inners {
		tb.Fatalf("%s: %d inner nodes allocated, %d reachable", what, live, inners)
	}
	if live := m.t.leaves.live(); live != leaves || leaves != len(m.want) {
		tb.Fatalf("%s: %d leaves allocated, %d reachable, want %d", what, live, leaves, len(m.want))
	}
	for k, want := range m.want {
		if got, ok := m.t.account(k); !ok || got != want {
			tb.Fatalf("%s: account(%x) = %v, %v; want %v", what, k, got, ok, want)
		}
	}
}

// reachable counts the inner nodes and leaves reachable from r.
func reachable(t *tree, r nref) (inners, leaves int) {
	switch {
	case r == 0:
		return 0, 0
	case r.isLeaf():
		return 0, 1
	}
	li, ll := reachable(t, t.inner(r).kid[0])
	ri, rl := reachable(t, t.inner(r).kid[1])
	return 1 + li + ri, ll + rl
}

func randHash(r *rand.Rand) ledger.Hash {
	var h ledger.Hash
	for i := range h {
		h[i] = byte(r.Uint32())
	}
	return h
}

func randAccount(r *rand.Rand) Account {
	return Account{Balance: 1 + r.Uint64N(1000), Nonce: r.Uint64N(5)}
}

// randomChanges returns n changes on distinct keys: new keys, updates and
// deletes of present keys, and deletes of absent keys.
func randomChanges(r *rand.Rand, present map[ledger.Hash]Account, n int) []change {
	var existing []ledger.Hash
	for k := range present {
		existing = append(existing, k)
	}
	slices.SortFunc(existing, func(a, b ledger.Hash) int { return bytes.Compare(a[:], b[:]) })
	seen := map[ledger.Hash]bool{}
	var out []change
	for len(out) < n {
		var c change
		switch op := r.IntN(4); {
		case op == 0 && len(existing) > 0:
			c.key = existing[r.IntN(len(existing))] // delete present
		case op == 1 && len(existing) > 0:
			c.key = existing[r.IntN(len(existing))] // update present
			c.acct = randAccount(r)
		case op == 2:
			c.key = randHash(r) // delete absent
		default:
			c.key = randHash(r) // insert
			c.acct = randAccount(r)
		}
		if !seen[c.key] {
			seen[c.key] = true
			out = append(out, c)
		}
	}
	return out
}

func TestTreeDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tr := newMemTree()
	for round := range 300 {
		size := 1 + r.IntN(40)
		if round%50 == 0 {
			size = 500
		}
		tr.apply(t, randomChanges(r, tr.want, size))
		tr.requireTree(t, "round")
	}
	if len(tr.want) < 500 {
		t.Fatalf("only %d keys at the end: the test exercised too little", len(tr.want))
	}
}

func TestTreeDeleteAll(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	tr := newMemTree()
	tr.apply(t, randomChanges(r, tr.want, 200))
	var del []change
	for k := range tr.want {
		del = append(del, change{key: k})
	}
	r.Shuffle(len(del), func(i, j int) { del[i], del[j] = del[j], del[i] })
	for len(del) > 0 {
		n := min(len(del), 1+r.IntN(7))
		tr.apply(t, del[:n])
		del = del[n:]
		tr.requireTree(t, "deleting")
	}
	if tr.t.root != 0 || tr.t.rootHash() != emptyHash {
		t.Fatalf("after deleting all: root %x; want empty", tr.t.rootHash())
	}
}

// TestTreeOrderIndependent: one set of keys reached by different batches
// in different orders gives one root.
func TestTreeOrderIndependent(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	final := map[ledger.Hash]ledger.Hash{}
	var all []change
	for range 1000 {
		c := change{key: randHash(r), acct: randAccount(r)}
		final[c.key] = c.acct.valueHash()
		all = append(all, c)
	}
	want := naiveRoot(final)
	for trial := range 5 {
		tr := newMemTree()
		// Noise first: keys inserted then deleted later.
		noise := randomChanges(r, nil, 300)
		tr.apply(t, slices.Clone(noise))
		order := slices.Clone(all)
		r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for len(order) > 0 {
			n := min(len(order), 1+r.IntN(200))
			tr.apply(t, slices.Clone(order[:n]))
			order = order[n:]
		}
		var del []change
		for _, c := range noise {
			if _, keep := final[c.key]; !keep {
				del = append(del, change{key: c.key})
			}
		}
		tr.apply(t, del)
		if got := tr.t.rootHash(); got != want {
			t.Fatalf("trial %d: root = %x, want %x", trial, got, want)
		}
		tr.requireTree(t, "trial")
	}
}

// TestTreeDeepKeys: keys that differ only in their last bits make the
// deepest paths.
func TestTreeDeepKeys(t *testing.T) {
	var base ledger.Hash
	for i := range base {
		base[i] = 0xa5
	}
	tr := newMemTree()
	var ch []change
	for i := range 8 {
		k := base
		k[31] ^= byte(i)
		ch = append(ch, change{key: k, acct: Account{Balance: uint64(i + 1)}})
	}
	for _, c := range ch { // one at a time, then delete one at a time
		tr.apply(t, []change{c})
		tr.requireTree(t, "insert")
	}
	for _, c := range ch {
		tr.apply(t, []change{{key: c.key}})
		tr.requireTree(t, "delete")
	}
	if tr.t.inners.live() != 0 {
		t.Fatalf("inner nodes left after deleting every key")
	}
}

func TestTreeNoOpChanges(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	tr := newMemTree()
	tr.apply(t, randomChanges(r, nil, 100))
	before := tr.t.rootHash()
	var same []change
	for k, a := range tr.want {
		same = append(same, change{key: k, acct: a})
	}
	same = append(same, change{key: randHash(r)}) // delete absent
	u := tr.apply(t, same)
	if tr.t.rootHash() != before || len(u.added) != 0 || len(u.replaced) != 0 || len(u.dirty) != 0 || len(u.garbage) != 0 {
		t.Fatalf("rewriting the same values: root %x (was %x), %d nodes added, %d replaced, %d pages written, %d dropped; want none",
			tr.t.rootHash(), before, len(u.added), len(u.replaced), len(u.dirty), len(u.garbage))
	}
}

// TestTreeAbort: an update that is abandoned leaves the tree as it was.
func TestTreeAbort(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	tr := newMemTree()
	tr.apply(t, randomChanges(r, nil, 300))
	before := tr.t.rootHash()
	for range 20 {
		ch := randomChanges(r, tr.want, 50)
		slices.SortFunc(ch, func(a, b change) int { return bytes.Compare(a.key[:], b.key[:]) })
		u, err := updateTree(tr.t, ch, 99)
		if err != nil {
			t.Fatal(err)
		}
		if u.root.r == tr.t.root {
			t.Fatalf("50 random changes left the root as it was")
		}
		u.abort()
		if tr.t.rootHash() != before {
			t.Fatalf("root after abort = %x, want %x", tr.t.rootHash(), before)
		}
		tr.requireTree(t, "after abort")
	}
}

// TestTreePages: the pages an update writes are the page roots of the
// new tree on changed paths, and the pages it drops are those of the old
// tree that are gone; encoding a page and decoding it gives its hash.
func TestTreePages(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	tr := newMemTree()
	live := map[string]bool{} // page keys of the tree
	for round := range 40 {
		u := tr.apply(t, randomChanges(r, tr.want, 1+r.IntN(80)))
		for _, g := range u.garbage {
			if !live[string(g.dbKey())] {
				t.Fatalf("round %d: dropped page %x is not in the tree", round, g.dbKey())
			}
			delete(live, string(g.dbKey()))
		}
		for _, p := range u.dirty {
			id := pageID{ver: u.ver, depth: p.depth, key: p.key}
			live[string(id.dbKey())] = true
			n, err := decodePage(tr.t.encodePage(nil, p.r), id)
			if err != nil || n.hash != p.hash {
				t.Fatalf("round %d: decode(encode(page)) = %v, %v; want hash %x", round, n, err, p.hash)
			}
		}
		want := map[string]bool{}
		pageRoots(tr.t, tr.t.root, 0, ledger.Hash{}, want)
		if !mapsEqual(live, want) {
			t.Fatalf("round %d: pages written and dropped leave %d pages, the tree has %d", round, len(live), len(want))
		}
	}
}

// pageRoots adds the page key of every page root below r to out.
func pageRoots(t *tree, r nref, depth int, prefix ledger.Hash, out map[string]bool) {
	if !r.isInner() {
		return
	}
	if depth%pageHeight == 0 {
		out[string(pageID{ver: t.inner(r).ver, depth: depth, key: prefix}.dbKey())] = true
	}
	for b := range 2 {
		pageRoots(t, t.inner(r).kid[b], depth+1, withBit(prefix, depth, b), out)
	}
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}
