package coldchain

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/dualchain/dualchain/ledger"
)

// The state tree is a sparse Merkle tree over 256-bit keys in which every
// subtree holding a single leaf is replaced by that leaf (DESIGN.md):
//
//	empty subtree     →  32 zero bytes
//	one leaf          →  SHA-256(0x00 ‖ key ‖ valueHash)
//	two or more       →  SHA-256(0x01 ‖ left ‖ right)
//
// The shape depends only on the set of keys, so the root does not depend
// on the order of updates. An inner node sits at every key prefix that two
// or more keys share; a leaf sits at the first depth where its key differs
// from every other key's (about log2 N for N hashed keys).
//
// The current tree is kept whole in memory (this file), in two slabs of
// fixed-size records without pointers, so that the garbage collector never
// scans them: an Apply reads nothing from Pebble. Pebble holds the tree as
// pages (tree_page.go), which Open reads back and proofs against older
// roots walk (history.go).

// maxDepth is the number of key bits: no path is longer.
const maxDepth = ledger.ColdTreeDepth

// nref names a subtree of the in-memory tree: 0 is the empty subtree,
// leafBit|i the leaf tree.leaves.at(i), and i (> 0) the inner node
// tree.inners.at(i).
type nref uint32

const leafBit nref = 1 << 31

func (r nref) isLeaf() bool  { return r&leafBit != 0 }
func (r nref) isInner() bool { return r != 0 && r&leafBit == 0 }
func (r nref) index() uint32 { return uint32(r &^ leafBit) }

// innerNode is an inner node: its two subtrees (one may be empty, the
// other then holds two or more leaves) and their hashes. A node holds its
// children's hashes rather than its own, so that rehashing a node on a
// changed path reads nothing beside it.
type innerNode struct {
	kidHash [2]ledger.Hash
	kid     [2]nref
	// ver is, for a page root (a node at a depth that is a multiple of
	// pageHeight), the applied index that wrote its page.
	ver uint64
}

func (n *innerNode) hash() ledger.Hash { return innerHash(n.kidHash[0], n.kidHash[1]) }

// leafNode is a leaf: an account and its tree key. Its hash is in its
// parent.
type leafNode struct {
	key  ledger.Hash
	acct Account
}

func (l *leafNode) hash() ledger.Hash { return leafHash(l.key, l.acct.valueHash()) }

// tree is the current state tree. Slots of replaced nodes are released
// once the Apply that replaced them has committed, never before: an update
// builds its new nodes beside the old tree (copy on write), so a failed
// Apply leaves the tree as it was.
type tree struct {
	inners slab[innerNode]
	leaves slab[leafNode]
	root   nref
	rootH  ledger.Hash // the root's hash
}

func newTree() *tree { return &tree{} }

func (t *tree) inner(r nref) *innerNode { return t.inners.at(uint32(r)) }
func (t *tree) leaf(r nref) *leafNode   { return t.leaves.at(r.index()) }

func (t *tree) rootHash() ledger.Hash { return t.rootH }

// addLeaf stores l.
func (t *tree) addLeaf(l leafNode) nref { return leafBit | nref(t.leaves.alloc(l)) }

func (t *tree) newInner(n innerNode) nref { return nref(t.inners.alloc(n)) }

func (t *tree) free(r nref) {
	switch {
	case r.isLeaf():
		t.leaves.release(r.index())
	case r != 0:
		t.inners.release(uint32(r))
	}
}

// lookup walks from the root towards key and returns the sibling hashes
// met on the way (root first, if siblings is wanted) and the leaf the walk
// ends at (0 if it ends at an empty subtree).
func (t *tree) lookup(key ledger.Hash, siblings *[]ledger.Hash) nref {
	r := t.root
	for depth := 0; r.isInner(); depth++ {
		n := t.inner(r)
		b := bit(key, depth)
		if siblings != nil {
			*siblings = append(*siblings, n.kidHash[1-b])
		}
		r = n.kid[b]
	}
	return r
}

// account returns the account of key, and whether there is one.
func (t *tree) account(key ledger.Hash) (Account, bool) {
	r := t.lookup(key, nil)
	if r.isLeaf() && t.leaf(r).key == key {
		return t.leaf(r).acct, true
	}
	return Account{}, false
}

// sub is a subtree and its hash.
type sub struct {
	r nref
	h ledger.Hash
}

// change sets (acct non-zero) or deletes (acct zero) one key's account.
type change struct {
	key  ledger.Hash
	acct Account
}

// treeUpdate is one batch of changes to a tree, built beside it. It
// records the new nodes (to free if the batch is abandoned), the replaced
// ones (to free once it commits), the pages to write and the pages it
// replaces.
type treeUpdate struct {
	t        *tree
	ver      uint64 // the applied index, written into new page roots
	root     sub
	added    []nref
	replaced []nref
	dirty    []pagePos // new page roots, children before parents
	garbage  []pageID  // pages of the old tree that the new one replaces
}

// pagePos is a page root of the new tree: the node, its depth, and a key
// of its subtree (which carries its position, the first depth bits).
type pagePos struct {
	r     nref
	depth int
	key   ledger.Hash
	hash  ledger.Hash
}

// updateTree applies changes (sorted by key, no key twice) to t, beside
// the current tree: t is unchanged until commit.
func updateTree(t *tree, changes []change, ver uint64) (*treeUpdate, error) {
	u := &treeUpdate{t: t, ver: ver, root: sub{t.root, t.rootH}}
	if len(changes) == 0 {
		return u, nil
	}
	root, err := u.update(u.root, 0, changes)
	if err != nil {
		u.abort()
		return nil, err
	}
	u.root = root
	return u, nil
}

// commit makes the update the tree and frees the replaced nodes.
func (u *treeUpdate) commit() {
	for _, r := range u.replaced {
		u.t.free(r)
	}
	u.t.root, u.t.rootH = u.root.r, u.root.h
}

// abort frees the update's new nodes, leaving the tree as it was.
func (u *treeUpdate) abort() {
	for _, r := range u.added {
		u.t.free(r)
	}
}

// update applies ch, all under the subtree old at depth, and returns the
// subtree that replaces it.
func (u *treeUpdate) update(old sub, depth int, ch []change) (sub, error) {
	if !old.r.isInner() {
		return u.build(depth, u.entriesOf(ch, old))
	}
	n := u.t.inner(old.r) // never moves, and the update changes no old node
	if depth >= maxDepth {
		return sub{}, fmt.Errorf("%w: inner node at depth %d", ErrCorrupt, depth)
	}
	m := splitAt(len(ch), func(i int) ledger.Hash { return ch[i].key }, depth)
	kids := [2]sub{{n.kid[0], n.kidHash[0]}, {n.kid[1], n.kidHash[1]}}
	var err error
	if m > 0 {
		if kids[0], err = u.update(kids[0], depth+1, ch[:m]); err != nil {
			return sub{}, err
		}
	}
	if m < len(ch) {
		if kids[1], err = u.update(kids[1], depth+1, ch[m:]); err != nil {
			return sub{}, err
		}
	}
	if kids[0].r == n.kid[0] && kids[1].r == n.kid[1] {
		return old, nil
	}
	u.replaced = append(u.replaced, old.r)
	if depth%pageHeight == 0 {
		u.garbage = append(u.garbage, pageID{ver: n.ver, depth: depth, key: ch[0].key})
	}
	return u.join(depth, ch[0].key, kids), nil
}

// entry is a leaf of a subtree being rebuilt: an existing leaf or a new
// one.
type entry struct {
	key  ledger.Hash
	leaf sub
}

// entriesOf returns the leaves a subtree holds after ch, sorted by key:
// new leaves for the keys ch sets, and the subtree's old leaf (if r is
// one) unless ch changes or deletes its key. A change that sets a key to
// the account it has keeps the old leaf.
func (u *treeUpdate) entriesOf(ch []change, s sub) []entry {
	out := make([]entry, 0, len(ch)+1)
	var old *leafNode
	oldDone := !s.r.isLeaf()
	if !oldDone {
		old = u.t.leaf(s.r)
	}
	for _, c := range ch {
		if !oldDone {
			switch cmp := bytes.Compare(old.key[:], c.key[:]); {
			case cmp < 0:
				out = append(out, entry{old.key, s})
				oldDone = true
			case cmp == 0:
				oldDone = true
				if c.acct == old.acct {
					out = append(out, entry{old.key, s})
					continue
				}
				u.replaced = append(u.replaced, s.r)
			}
		}
		if !c.acct.IsZero() {
			l := leafNode(c)
			nr := u.t.addLeaf(l)
			u.added = append(u.added, nr)
			out = append(out, entry{c.key, sub{nr, l.hash()}})
		}
	}
	if !oldDone {
		out = append(out, entry{old.key, s})
	}
	return out
}

// build returns the subtree at depth holding exactly es (sorted, distinct
// keys sharing their first depth bits).
func (u *treeUpdate) build(depth int, es []entry) (sub, error) {
	switch len(es) {
	case 0:
		return sub{}, nil
	case 1:
		return es[0].leaf, nil
	}
	if depth >= maxDepth {
		return sub{}, fmt.Errorf("%w: two leaves with one key", ErrBadWrite)
	}
	m := splitAt(len(es), func(i int) ledger.Hash { return es[i].key }, depth)
	left, err := u.build(depth+1, es[:m])
	if err != nil {
		return sub{}, err
	}
	right, err := u.build(depth+1, es[m:])
	if err != nil {
		return sub{}, err
	}
	return u.join(depth, es[0].key, [2]sub{left, right}), nil
}

// join returns the subtree with the given children at depth (key is one
// of its keys): empty if both are empty, the leaf itself if the other side
// is empty, else a new inner node.
func (u *treeUpdate) join(depth int, key ledger.Hash, kids [2]sub) sub {
	switch {
	case kids[0].r == 0 && !kids[1].r.isInner():
		return kids[1]
	case kids[1].r == 0 && !kids[0].r.isInner():
		return kids[0]
	}
	n := innerNode{kidHash: [2]ledger.Hash{kids[0].h, kids[1].h}, kid: [2]nref{kids[0].r, kids[1].r}}
	if depth%pageHeight == 0 {
		n.ver = u.ver
	}
	s := sub{u.t.newInner(n), n.hash()}
	u.added = append(u.added, s.r)
	if depth%pageHeight == 0 {
		u.dirty = append(u.dirty, pagePos{r: s.r, depth: depth, key: key, hash: s.h})
	}
	return s
}

// splitAt returns the index of the first of n sorted keys whose bit at
// depth is 1: keys before it go left, keys from it go right.
func splitAt(n int, key func(int) ledger.Hash, depth int) int {
	return sort.Search(n, func(i int) bool { return bit(key(i), depth) == 1 })
}
