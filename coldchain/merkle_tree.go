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
// on the order of updates, and a leaf sits at the first depth where its key
// differs from every other key's (about log2 N for N hashed keys). Nodes
// are stored by hash; a stored node is its hash's preimage.

// maxDepth is the number of key bits: no path is longer.
const maxDepth = 256

// nodeSize is the size of an encoded node: prefix ‖ 32 bytes ‖ 32 bytes.
const nodeSize = 1 + 64

// node is a tree node: a leaf (key, valueHash) or an inner node (left,
// right). Its encoding, prefix ‖ a ‖ b, is the preimage of its hash.
type node struct {
	leaf bool
	a, b ledger.Hash // leaf: key, valueHash; inner: left, right
}

func (n node) encode() []byte {
	out := make([]byte, nodeSize)
	out[0] = innerPrefix
	if n.leaf {
		out[0] = leafPrefix
	}
	copy(out[1:], n.a[:])
	copy(out[33:], n.b[:])
	return out
}

func decodeNode(data []byte) (node, error) {
	if len(data) != nodeSize || data[0] > innerPrefix {
		return node{}, fmt.Errorf("%w: tree node of %d bytes", ErrCorrupt, len(data))
	}
	n := node{leaf: data[0] == leafPrefix}
	copy(n.a[:], data[1:33])
	copy(n.b[:], data[33:])
	return n, nil
}

func (n node) hash() ledger.Hash {
	if n.leaf {
		return leafHash(n.a, n.b)
	}
	return innerHash(n.a, n.b)
}

// nodeReader reads a stored node by hash; a missing node is ErrCorrupt.
// depth is where the node sits, a hint for caching.
type nodeReader interface {
	node(h ledger.Hash, depth int) (node, error)
}

// newNode is a node of the new tree on a changed path, with its depth.
type newNode struct {
	enc   []byte
	depth int
}

// change sets (valueHash non-nil) or deletes one key.
type change struct {
	key ledger.Hash
	vh  *ledger.Hash // nil deletes the key
}

// kind is what is known of a subtree: kindUnknown for an unchanged
// subtree that was not read.
type kind uint8

const (
	kindUnknown kind = iota
	kindEmpty
	kindLeaf
	kindInner
)

type ref struct {
	h ledger.Hash
	k kind
}

// treeUpdate applies one batch of changes to a tree. Its cost grows with
// the changes: it reads and rewrites only the nodes on their paths, and
// each node once however many changes pass through it.
type treeUpdate struct {
	r       nodeReader
	puts    map[ledger.Hash]newNode // nodes of the new tree on changed paths
	visited []ledger.Hash           // old nodes on changed paths
}

// updateTree applies changes (sorted by key, no key twice) to the tree
// at root. It returns the new root, the nodes to store, and the old nodes
// to delete: those on changed paths that the new tree does not hold.
func updateTree(r nodeReader, root ledger.Hash, changes []change) (ledger.Hash, map[ledger.Hash]newNode, []ledger.Hash, error) {
	u := &treeUpdate{r: r, puts: make(map[ledger.Hash]newNode)}
	if len(changes) == 0 {
		return root, u.puts, nil, nil
	}
	res, err := u.update(root, 0, changes)
	if err != nil {
		return ledger.Hash{}, nil, nil, err
	}
	deletes := u.visited[:0]
	for _, h := range u.visited {
		if _, kept := u.puts[h]; !kept {
			deletes = append(deletes, h)
		}
	}
	return res.h, u.puts, deletes, nil
}

// update applies ch, all under the subtree h at depth, and returns the
// subtree that replaces it.
func (u *treeUpdate) update(h ledger.Hash, depth int, ch []change) (ref, error) {
	if h == emptyHash {
		return u.build(depth, entriesOf(ch, nil))
	}
	n, err := u.r.node(h, depth)
	if err != nil {
		return ref{}, err
	}
	u.visited = append(u.visited, h)
	if n.leaf {
		return u.build(depth, entriesOf(ch, &n))
	}
	if depth >= maxDepth {
		return ref{}, fmt.Errorf("%w: inner node at depth %d", ErrCorrupt, depth)
	}
	m := splitAt(len(ch), func(i int) ledger.Hash { return ch[i].key }, depth)
	left, right := ref{h: n.a}, ref{h: n.b}
	if m > 0 {
		if left, err = u.update(n.a, depth+1, ch[:m]); err != nil {
			return ref{}, err
		}
	}
	if m < len(ch) {
		if right, err = u.update(n.b, depth+1, ch[m:]); err != nil {
			return ref{}, err
		}
	}
	return u.join(depth, left, right)
}

// entry is a leaf of a subtree being rebuilt.
type entry struct{ key, vh ledger.Hash }

// entriesOf returns the leaves a subtree holds after ch: the keys ch sets,
// and the subtree's old leaf (if any) unless ch sets or deletes its key.
// The result is sorted by key.
func entriesOf(ch []change, old *node) []entry {
	out := make([]entry, 0, len(ch)+1)
	oldDone := old == nil
	for _, c := range ch {
		if !oldDone {
			switch cmp := bytes.Compare(old.a[:], c.key[:]); {
			case cmp < 0:
				out = append(out, entry{old.a, old.b})
				oldDone = true
			case cmp == 0:
				oldDone = true
			}
		}
		if c.vh != nil {
			out = append(out, entry{c.key, *c.vh})
		}
	}
	if !oldDone {
		out = append(out, entry{old.a, old.b})
	}
	return out
}

// build returns the subtree at depth holding exactly es (sorted, distinct
// keys sharing their first depth bits).
func (u *treeUpdate) build(depth int, es []entry) (ref, error) {
	switch len(es) {
	case 0:
		return ref{h: emptyHash, k: kindEmpty}, nil
	case 1:
		return u.put(node{leaf: true, a: es[0].key, b: es[0].vh}, kindLeaf, depth), nil
	}
	if depth >= maxDepth {
		return ref{}, fmt.Errorf("%w: two leaves with one key", ErrBadWrite)
	}
	m := splitAt(len(es), func(i int) ledger.Hash { return es[i].key }, depth)
	left, err := u.build(depth+1, es[:m])
	if err != nil {
		return ref{}, err
	}
	right, err := u.build(depth+1, es[m:])
	if err != nil {
		return ref{}, err
	}
	return u.join(depth, left, right)
}

// join returns the subtree with children l and r: empty if both are empty,
// the leaf itself if the other side is empty, else a new inner node.
func (u *treeUpdate) join(depth int, l, r ref) (ref, error) {
	if l.h == emptyHash && r.h == emptyHash {
		return ref{h: emptyHash, k: kindEmpty}, nil
	}
	for _, pair := range [2][2]*ref{{&l, &r}, {&r, &l}} {
		side, other := pair[0], pair[1]
		if other.h != emptyHash {
			continue
		}
		k, err := u.kindOf(*side, depth+1)
		if err != nil {
			return ref{}, err
		}
		if k == kindLeaf {
			return ref{h: side.h, k: kindLeaf}, nil
		}
	}
	return u.put(node{a: l.h, b: r.h}, kindInner, depth), nil
}

func (u *treeUpdate) kindOf(r ref, depth int) (kind, error) {
	if r.k != kindUnknown {
		return r.k, nil
	}
	n, err := u.r.node(r.h, depth)
	if err != nil {
		return kindUnknown, err
	}
	if n.leaf {
		return kindLeaf, nil
	}
	return kindInner, nil
}

func (u *treeUpdate) put(n node, k kind, depth int) ref {
	h := n.hash()
	u.puts[h] = newNode{enc: n.encode(), depth: depth}
	return ref{h: h, k: k}
}

// splitAt returns the index of the first of n sorted keys whose bit at
// depth is 1: keys before it go left, keys from it go right.
func splitAt(n int, key func(int) ledger.Hash, depth int) int {
	return sort.Search(n, func(i int) bool { return bit(key(i), depth) == 1 })
}

// pathTo walks from root towards key and returns the sibling hashes met on
// the way (root first) and the leaf the walk ends at, or nil if it ends at
// an empty subtree.
func pathTo(r nodeReader, root, key ledger.Hash) ([]ledger.Hash, *node, error) {
	var siblings []ledger.Hash
	h := root
	for depth := 0; h != emptyHash; depth++ {
		n, err := r.node(h, depth)
		if err != nil {
			return nil, nil, err
		}
		if n.leaf {
			return siblings, &n, nil
		}
		if depth >= maxDepth {
			return nil, nil, fmt.Errorf("%w: inner node at depth %d", ErrCorrupt, depth)
		}
		if bit(key, depth) == 0 {
			siblings, h = append(siblings, n.b), n.a
		} else {
			siblings, h = append(siblings, n.a), n.b
		}
	}
	return siblings, nil, nil
}
