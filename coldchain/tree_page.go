package coldchain

import (
	"encoding/binary"
	"fmt"

	"github.com/dualchain/dualchain/ledger"
)

// Pebble holds the tree in pages: a page is the part of the tree between
// two depths that are multiples of pageHeight, below one inner node (the
// page's root). It is stored under the applied index that wrote it and its
// position:
//
//	p <index: 8 bytes> <depth: 1 byte> <position: the first depth bits, in ⌈depth/8⌉ bytes>
//
// and holds its root's subtree down to pageHeight levels, in preorder:
//
//	empty   0x00
//	leaf    0x01 ‖ key ‖ balance ‖ nonce        (32 + 8 + 8 bytes; a leaf lies in its page)
//	inner   0x02 ‖ left ‖ right                 (above the page's bottom)
//	page    0x03 ‖ hash ‖ index                 (an inner node at the bottom: the root of a page below)
//
// A page stores no hash of its own nodes: they are computed when it is
// read, and checked against the hash its parent holds for it. A page
// changes (and is written anew, under a new index) exactly when its root's
// hash changes, so a key names one content forever: pages are written once
// and deleted once, when no retained root reaches them (history.go).

// pageHeight is the number of tree levels in a page. Four levels (16
// children at most, as in Diem's Jellyfish tree) make a 10K-account Apply
// in a 1M-account tree write about 20K pages instead of 100K nodes.
const pageHeight = 4

// Slot tags of the page encoding.
const (
	slotEmpty byte = iota
	slotLeaf
	slotInner
	slotPage
)

const leafSlotSize = 1 + 32 + ledger.ColdAccountSize

// pageID names a stored page: the applied index that wrote it, and its
// position (the first depth bits of key).
type pageID struct {
	ver   uint64
	depth int
	key   ledger.Hash
}

// appendBody appends the page's key without its 'p'.
func (id pageID) appendBody(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, id.ver)
	b = append(b, byte(id.depth))
	n := (id.depth + 7) / 8
	b = append(b, id.key[:n]...)
	if id.depth%8 != 0 {
		b[len(b)-1] &= 0xff << (8 - id.depth%8)
	}
	return b
}

func (id pageID) dbKey() []byte { return id.appendBody([]byte{pagePrefix}) }

// parsePageBody reads a key body written by appendBody at the start of b
// and returns its length.
func parsePageBody(b []byte) (pageID, int, error) {
	if len(b) < 9 {
		return pageID{}, 0, fmt.Errorf("%w: page key of %d bytes", ErrCorrupt, len(b))
	}
	id := pageID{ver: binary.BigEndian.Uint64(b), depth: int(b[8])}
	n := 9 + (id.depth+7)/8
	if id.depth%pageHeight != 0 || id.depth >= maxDepth || len(b) < n {
		return pageID{}, 0, fmt.Errorf("%w: page key %x", ErrCorrupt, b)
	}
	copy(id.key[:], b[9:n])
	if id.appendBody(nil)[n-1] != b[n-1] {
		return pageID{}, 0, fmt.Errorf("%w: page key %x has bits past its depth", ErrCorrupt, b)
	}
	return id, n, nil
}

// encodePage encodes the page whose root is the inner node r.
func (t *tree) encodePage(b []byte, r nref) []byte {
	return t.appendSlot(b, r, ledger.Hash{}, 0)
}

// appendSlot appends the subtree r (whose hash is h), rel levels below
// its page's root.
func (t *tree) appendSlot(b []byte, r nref, h ledger.Hash, rel int) []byte {
	switch {
	case r == 0:
		return append(b, slotEmpty)
	case r.isLeaf():
		l := t.leaf(r)
		b = append(append(b, slotLeaf), l.key[:]...)
		b = binary.BigEndian.AppendUint64(b, l.acct.Balance)
		return binary.BigEndian.AppendUint64(b, l.acct.Nonce)
	case rel == pageHeight:
		b = append(append(b, slotPage), h[:]...)
		return binary.BigEndian.AppendUint64(b, t.inner(r).ver)
	}
	n := t.inner(r)
	b = t.appendSlot(append(b, slotInner), n.kid[0], n.kidHash[0], rel+1)
	return t.appendSlot(b, n.kid[1], n.kidHash[1], rel+1)
}

// pnode is a decoded slot: a subtree of one page, with its hash.
type pnode struct {
	tag  byte
	hash ledger.Hash
	key  ledger.Hash // slotLeaf
	acct Account     // slotLeaf
	kid  [2]*pnode   // slotInner
	ver  uint64      // slotPage: the index that wrote the page below
}

// pageDecoder reads one page (or a root slot) and checks it: the shape is
// canonical, every leaf lies on its key's path, and the encoding is
// exactly the one the tree writes.
type pageDecoder struct {
	data []byte
	pos  int
}

// decodePage decodes the page id, whose root must be an inner node.
func decodePage(data []byte, id pageID) (*pnode, error) {
	d := &pageDecoder{data: data}
	n, err := d.slot(id.depth, prefixOf(id.key, id.depth), 0)
	if err == nil && n.tag != slotInner {
		err = fmt.Errorf("page root is not an inner node")
	}
	if err == nil && d.pos != len(data) {
		err = fmt.Errorf("%d bytes after the page", len(data)-d.pos)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: page %x: %v", ErrCorrupt, id.dbKey(), err)
	}
	return n, nil
}

// decodeRootSlot decodes a tree's root as a version record holds it: empty,
// a leaf, or the root page.
func decodeRootSlot(data []byte) (*pnode, error) {
	d := &pageDecoder{data: data}
	n, err := d.slot(0, ledger.Hash{}, pageHeight)
	if err == nil && d.pos != len(data) {
		err = fmt.Errorf("%d bytes after the root", len(data)-d.pos)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: root slot: %v", ErrCorrupt, err)
	}
	return n, nil
}

func (d *pageDecoder) take(n int) ([]byte, error) {
	if len(d.data)-d.pos < n {
		return nil, fmt.Errorf("truncated")
	}
	b := d.data[d.pos : d.pos+n]
	d.pos += n
	return b, nil
}

// slot decodes the subtree at depth whose position is prefix, rel levels
// below its page's root.
func (d *pageDecoder) slot(depth int, prefix ledger.Hash, rel int) (*pnode, error) {
	tag, err := d.take(1)
	if err != nil {
		return nil, err
	}
	n := &pnode{tag: tag[0]}
	switch {
	case n.tag == slotEmpty:
		return n, nil
	case n.tag == slotLeaf:
		return n, d.leaf(n, depth, prefix)
	case n.tag == slotInner && rel < pageHeight:
		return n, d.inner(n, depth, prefix, rel)
	case n.tag == slotPage && rel == pageHeight && depth < maxDepth:
		b, err := d.take(32 + 8)
		if err != nil {
			return nil, err
		}
		copy(n.hash[:], b)
		n.ver = binary.BigEndian.Uint64(b[32:])
		return n, nil
	}
	return nil, fmt.Errorf("tag %d at depth %d (%d below the page root)", n.tag, depth, rel)
}

func (d *pageDecoder) leaf(n *pnode, depth int, prefix ledger.Hash) error {
	b, err := d.take(leafSlotSize - 1)
	if err != nil {
		return err
	}
	copy(n.key[:], b)
	n.acct, _ = decodeAccount(b[32:])
	if n.acct.IsZero() {
		return fmt.Errorf("leaf %x holds the zero account", n.key)
	}
	if prefixOf(n.key, depth) != prefix {
		return fmt.Errorf("leaf %x off its path at depth %d", n.key, depth)
	}
	n.hash = leafHash(n.key, n.acct.valueHash())
	return nil
}

func (d *pageDecoder) inner(n *pnode, depth int, prefix ledger.Hash, rel int) error {
	if depth >= maxDepth {
		return fmt.Errorf("inner node at depth %d", depth)
	}
	for b := range 2 {
		kid, err := d.slot(depth+1, withBit(prefix, depth, b), rel+1)
		if err != nil {
			return err
		}
		n.kid[b] = kid
	}
	deep := func(k *pnode) bool { return k.tag == slotInner || k.tag == slotPage }
	if (n.kid[0].tag == slotEmpty && !deep(n.kid[1])) || (n.kid[1].tag == slotEmpty && !deep(n.kid[0])) {
		return fmt.Errorf("non-canonical inner node at depth %d", depth)
	}
	n.hash = innerHash(n.kid[0].hash, n.kid[1].hash)
	return nil
}

// prefixOf returns key's first depth bits, the rest zero.
func prefixOf(key ledger.Hash, depth int) ledger.Hash {
	var p ledger.Hash
	copy(p[:depth/8], key[:depth/8])
	if depth%8 != 0 {
		p[depth/8] = key[depth/8] & (0xff << (8 - depth%8))
	}
	return p
}

// withBit returns prefix with bit i set to b.
func withBit(prefix ledger.Hash, i, b int) ledger.Hash {
	if b == 1 {
		prefix[i/8] |= 0x80 >> (i % 8)
	}
	return prefix
}

// pageReader reads the stored page id and checks that it hashes to want.
type pageReader interface {
	readPage(id pageID, want ledger.Hash) (*pnode, error)
}

func (s *State) readPage(id pageID, want ledger.Hash) (*pnode, error) {
	data, ok, err := s.get(id.dbKey())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: page %x missing", ErrCorrupt, id.dbKey())
	}
	n, err := decodePage(data, id)
	if err != nil {
		return nil, err
	}
	if n.hash != want {
		return nil, fmt.Errorf("%w: page %x hashes to %x, its parent says %x", ErrCorrupt, id.dbKey(), n.hash, want)
	}
	return n, nil
}

// load adds the decoded subtree n at depth (position prefix) to t, reading
// the pages below it, and returns it.
func (t *tree) load(pr pageReader, n *pnode, depth int, prefix ledger.Hash) (nref, error) {
	switch n.tag {
	case slotEmpty:
		return 0, nil
	case slotLeaf:
		return t.addLeaf(leafNode{key: n.key, acct: n.acct}), nil
	case slotPage:
		pg, err := pr.readPage(pageID{ver: n.ver, depth: depth, key: prefix}, n.hash)
		if err != nil {
			return 0, err
		}
		r, err := t.load(pr, pg, depth, prefix)
		if err != nil {
			return 0, err
		}
		t.inner(r).ver = n.ver
		return r, nil
	}
	var kids [2]nref
	for b := range 2 {
		r, err := t.load(pr, n.kid[b], depth+1, withBit(prefix, depth, b))
		if err != nil {
			return 0, err
		}
		kids[b] = r
	}
	return t.newInner(innerNode{kidHash: [2]ledger.Hash{n.kid[0].hash, n.kid[1].hash}, kid: kids}), nil
}
