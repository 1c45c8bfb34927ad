package coldchain

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

// memNodes is an in-memory node store, to test the tree alone.
type memNodes map[ledger.Hash][]byte

func (m memNodes) node(h ledger.Hash, _ int) (node, error) {
	v, ok := m[h]
	if !ok {
		return node{}, fmt.Errorf("%w: node %x missing", ErrCorrupt, h)
	}
	return decodeNode(v)
}

// memTree is a tree over memNodes, with the map of what it should hold.
type memTree struct {
	nodes memNodes
	root  ledger.Hash
	want  map[ledger.Hash]ledger.Hash // key → valueHash
}

func newMemTree() *memTree {
	return &memTree{nodes: memNodes{}, want: map[ledger.Hash]ledger.Hash{}}
}

func (t *memTree) apply(tb testing.TB, changes []change) {
	tb.Helper()
	slices.SortFunc(changes, func(a, b change) int { return bytes.Compare(a.key[:], b.key[:]) })
	root, puts, deletes, err := updateTree(t.nodes, t.root, changes)
	if err != nil {
		tb.Fatalf("updateTree: %v", err)
	}
	for _, h := range deletes {
		delete(t.nodes, h)
	}
	for h, v := range puts {
		t.nodes[h] = v.enc
	}
	t.root = root
	for _, c := range changes {
		if c.vh == nil {
			delete(t.want, c.key)
		} else {
			t.want[c.key] = *c.vh
		}
	}
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

// reachable counts the nodes reachable from root.
func reachable(tb testing.TB, nodes memNodes, root ledger.Hash) int {
	if root == emptyHash {
		return 0
	}
	n, err := nodes.node(root, 0)
	if err != nil {
		tb.Fatalf("reachable: %v", err)
	}
	if n.leaf {
		return 1
	}
	return 1 + reachable(tb, nodes, n.a) + reachable(tb, nodes, n.b)
}

func randHash(r *rand.Rand) ledger.Hash {
	var h ledger.Hash
	for i := range h {
		h[i] = byte(r.Uint32())
	}
	return h
}

// randomChanges returns n changes on distinct keys: new keys, updates and
// deletes of present keys, and deletes of absent keys.
func randomChanges(r *rand.Rand, present map[ledger.Hash]ledger.Hash, n int) []change {
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
			vh := randHash(r)
			c.vh = &vh
		case op == 2:
			c.key = randHash(r) // delete absent
		default:
			c.key = randHash(r) // insert
			vh := randHash(r)
			c.vh = &vh
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
		if got, want := tr.root, naiveRoot(tr.want); got != want {
			t.Fatalf("round %d: root = %x, want %x", round, got, want)
		}
		if got, want := len(tr.nodes), reachable(t, tr.nodes, tr.root); got != want {
			t.Fatalf("round %d: %d nodes stored, %d reachable", round, got, want)
		}
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
		if got, want := tr.root, naiveRoot(tr.want); got != want {
			t.Fatalf("%d keys left: root = %x, want %x", len(tr.want), got, want)
		}
	}
	if tr.root != emptyHash || len(tr.nodes) != 0 {
		t.Fatalf("after deleting all: root %x, %d nodes; want empty", tr.root, len(tr.nodes))
	}
}

// TestTreeOrderIndependent: one set of keys reached by different batches
// in different orders gives one root.
func TestTreeOrderIndependent(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	final := map[ledger.Hash]ledger.Hash{}
	var all []change
	for range 1000 {
		k, v := randHash(r), randHash(r)
		final[k] = v
		all = append(all, change{key: k, vh: &v})
	}
	want := naiveRoot(final)
	for trial := range 5 {
		tr := newMemTree()
		// Noise first: keys inserted then deleted later.
		noise := randomChanges(r, nil, 300)
		tr.apply(t, noise)
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
		if tr.root != want {
			t.Fatalf("trial %d: root = %x, want %x", trial, tr.root, want)
		}
		if got, want := len(tr.nodes), reachable(t, tr.nodes, tr.root); got != want {
			t.Fatalf("trial %d: %d nodes stored, %d reachable", trial, got, want)
		}
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
		v := ledger.Hash{byte(i + 1)}
		ch = append(ch, change{key: k, vh: &v})
	}
	for i, c := range ch { // one at a time, then delete one at a time
		tr.apply(t, []change{c})
		if got, want := tr.root, naiveRoot(tr.want); got != want {
			t.Fatalf("insert %d: root = %x, want %x", i, got, want)
		}
	}
	for i, c := range ch {
		tr.apply(t, []change{{key: c.key}})
		if got, want := tr.root, naiveRoot(tr.want); got != want {
			t.Fatalf("delete %d: root = %x, want %x", i, got, want)
		}
	}
	if len(tr.nodes) != 0 {
		t.Fatalf("%d nodes left after deleting every key", len(tr.nodes))
	}
}

func TestTreeNoOpChanges(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	tr := newMemTree()
	tr.apply(t, randomChanges(r, nil, 100))
	before, nodes := tr.root, len(tr.nodes)
	var same []change
	for k, v := range tr.want {
		same = append(same, change{key: k, vh: &v})
	}
	same = append(same, change{key: randHash(r)}) // delete absent
	tr.apply(t, same)
	if tr.root != before || len(tr.nodes) != nodes {
		t.Fatalf("rewriting the same values: root %x (%d nodes), want %x (%d nodes)", tr.root, len(tr.nodes), before, nodes)
	}
}
