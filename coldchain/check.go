package coldchain

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/dualchain/dualchain/ledger"
)

// Check verifies the whole state against its invariants and returns the
// first violation, wrapping ErrCorrupt:
//   - every retained root's tree is stored: each page it reaches is there,
//     decodes canonically (every leaf on its key's path, no inner node
//     that should have collapsed) and hashes to what its parent holds;
//   - the tree in memory is the current root's, page for page, with
//     correct hashes, and the account records are exactly its leaves;
//   - nothing else is stored: every page is reached from a retained root,
//     and every page of an older retained tree that the current one lacks
//     is listed once, under the last retained root that holds it;
//   - keys whose first byte is an uppercase letter (chain.go's) are not
//     looked at; any other key is a violation.
//
// Its cost grows with the state and the retained roots: it is for tests
// and offline checks.
func (s *State) Check() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return ErrClosed
	}
	c := &checker{s: s, reached: map[string]ledger.Hash{}, current: map[string]ledger.Hash{}}
	if err := c.walkVersions(); err != nil {
		return err
	}
	if err := c.checkMemory(s.tree.root, s.tree.rootHash(), 0, ledger.Hash{}); err != nil {
		return err
	}
	if err := c.scan(); err != nil {
		return err
	}
	if c.pages != len(c.reached) || c.listed+len(c.current) != len(c.reached) {
		return fmt.Errorf("%w: %d pages stored, %d reached from %d roots; %d in the current tree, %d listed as garbage",
			ErrCorrupt, c.pages, len(c.reached), len(s.versions), len(c.current), c.listed)
	}
	return nil
}

type checker struct {
	s       *State
	reached map[string]ledger.Hash // pages reached from any retained root, and their hashes
	current map[string]ledger.Hash // pages of the current tree
	leaves  int                    // leaves of the tree in memory
	pages   int                    // pages stored
	listed  int                    // garbage entries
	byIndex map[uint64]int         // retained index → position in s.versions
}

func (c *checker) walkVersions() error {
	s := c.s
	if len(s.versions) == 0 {
		if s.applied != 0 || s.root != emptyHash || s.tree.root != 0 {
			return fmt.Errorf("%w: no retained root after index %d", ErrCorrupt, s.applied)
		}
	} else if cur := s.versions[len(s.versions)-1]; cur.index != s.applied || cur.root != s.root {
		return fmt.Errorf("%w: last retained root %d/%x, state is at %d/%x", ErrCorrupt, cur.index, cur.root, s.applied, s.root)
	}
	c.byIndex = make(map[uint64]int, len(s.versions))
	for i, v := range s.versions {
		if i > 0 && v.index <= s.versions[i-1].index {
			return fmt.Errorf("%w: retained roots out of order", ErrCorrupt)
		}
		c.byIndex[v.index] = i
		slot, err := s.rootSlot(v.index)
		if err != nil {
			return err
		}
		if slot.hash != v.root {
			return fmt.Errorf("%w: version %d hashes to %x, not %x", ErrCorrupt, v.index, slot.hash, v.root)
		}
		into := c.reached
		if i == len(s.versions)-1 {
			into = c.current
		}
		if err := c.walk(slot, 0, ledger.Hash{}, into); err != nil {
			return err
		}
	}
	for k, h := range c.current {
		if old, ok := c.reached[k]; ok && old != h {
			return fmt.Errorf("%w: page %x hashes to %x and %x", ErrCorrupt, k, old, h)
		}
		c.reached[k] = h
	}
	return nil
}

// walk adds the pages below n (at depth, position prefix) to into, reading
// and checking each page not in into yet.
func (c *checker) walk(n *pnode, depth int, prefix ledger.Hash, into map[string]ledger.Hash) error {
	switch n.tag {
	case slotInner:
		for b := range 2 {
			if err := c.walk(n.kid[b], depth+1, withBit(prefix, depth, b), into); err != nil {
				return err
			}
		}
	case slotPage:
		id := pageID{ver: n.ver, depth: depth, key: prefix}
		key := string(id.dbKey())
		if h, seen := into[key]; seen {
			if h != n.hash {
				return fmt.Errorf("%w: page %x hashes to %x, a parent says %x", ErrCorrupt, key, h, n.hash)
			}
			return nil
		}
		into[key] = n.hash
		pg, err := c.s.readPage(id, n.hash)
		if err != nil {
			return err
		}
		return c.walk(pg, depth, prefix, into)
	}
	return nil
}

// checkMemory checks the subtree r of the tree in memory, whose hash its
// parent holds as h: its hashes and shape, and that each of its pages is
// stored as the tree would write it.
func (c *checker) checkMemory(r nref, h ledger.Hash, depth int, prefix ledger.Hash) error {
	t := c.s.tree
	switch {
	case r == 0:
		if h != emptyHash {
			return fmt.Errorf("%w: empty subtree with hash %x in memory", ErrCorrupt, h)
		}
		return nil
	case r.isLeaf():
		l := t.leaf(r)
		c.leaves++
		if h != l.hash() || l.acct.IsZero() || prefixOf(l.key, depth) != prefix {
			return fmt.Errorf("%w: leaf %x in memory", ErrCorrupt, l.key)
		}
		return nil
	}
	n := t.inner(r)
	if depth >= maxDepth || h != n.hash() ||
		(n.kid[0] == 0 && !n.kid[1].isInner()) || (n.kid[1] == 0 && !n.kid[0].isInner()) {
		return fmt.Errorf("%w: inner node at depth %d in memory", ErrCorrupt, depth)
	}
	if depth%pageHeight == 0 {
		id := pageID{ver: n.ver, depth: depth, key: prefix}
		stored, _, err := c.s.get(id.dbKey())
		if err != nil {
			return err
		}
		if _, ok := c.current[string(id.dbKey())]; !ok || !bytes.Equal(stored, t.encodePage(nil, r)) {
			return fmt.Errorf("%w: page %x differs from the tree in memory", ErrCorrupt, id.dbKey())
		}
	}
	for b := range 2 {
		if err := c.checkMemory(n.kid[b], n.kidHash[b], depth+1, withBit(prefix, depth, b)); err != nil {
			return err
		}
	}
	return nil
}

// scan checks every stored key.
func (c *checker) scan() error {
	it, err := c.s.db.NewIter(&pebble.IterOptions{})
	if err != nil {
		return err
	}
	defer it.Close()
	accounts := 0
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if k[0] >= 'A' && k[0] <= 'Z' {
			continue // chain.go's
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		switch {
		case len(k) == 33 && k[0] == accountPrefix:
			accounts++
			err = c.checkAccount(ledger.Address(k[1:]), v)
		case k[0] == pagePrefix:
			c.pages++
			if _, ok := c.reached[string(k)]; !ok {
				err = fmt.Errorf("%w: page %x reached from no retained root", ErrCorrupt, k)
			}
		case len(k) == 9 && k[0] == versionPrefix:
			if _, ok := c.byIndex[binary.BigEndian.Uint64(k[1:])]; !ok {
				err = fmt.Errorf("%w: version record %x not retained", ErrCorrupt, k)
			}
		case len(k) == 9 && k[0] == garbagePrefix:
			err = c.checkGarbage(binary.BigEndian.Uint64(k[1:]), v)
		default:
			err = c.checkMeta(k, v)
		}
		if err != nil {
			return err
		}
	}
	if accounts != c.leaves {
		return fmt.Errorf("%w: %d accounts stored, %d leaves in the tree", ErrCorrupt, accounts, c.leaves)
	}
	return it.Error()
}

func (c *checker) checkAccount(addr ledger.Address, v []byte) error {
	a, ok := decodeAccount(v)
	if got, in := c.s.tree.account(keyOf(addr)); !ok || !in || got != a {
		return fmt.Errorf("%w: account %s does not match its leaf", ErrCorrupt, addr)
	}
	return nil
}

func (c *checker) checkMeta(k, v []byte) error {
	var want []byte
	switch string(k) {
	case string(metaRootKey):
		want = c.s.root[:]
	case string(metaAppliedKey):
		want = binary.BigEndian.AppendUint64(nil, c.s.applied)
	case string(metaFormatKey):
		want = []byte{storeFormat}
	default:
		return fmt.Errorf("%w: unknown key %x", ErrCorrupt, k)
	}
	if !bytes.Equal(v, want) {
		return fmt.Errorf("%w: %s is %x, want %x", ErrCorrupt, k, v, want)
	}
	return nil
}

// checkGarbage checks the pages listed under index: each is in that
// root's tree and not in the next retained root's, and none is listed
// twice (c.listed counts them; Check compares the total).
func (c *checker) checkGarbage(index uint64, list []byte) error {
	i, ok := c.byIndex[index]
	if !ok || i == len(c.s.versions)-1 || len(list) == 0 {
		return fmt.Errorf("%w: garbage record of index %d (retained: %v, last: %v)", ErrCorrupt, index, ok, i == len(c.s.versions)-1)
	}
	for len(list) > 0 {
		id, n, err := parsePageBody(list)
		if err != nil {
			return err
		}
		list = list[n:]
		c.listed++
		in, err := c.holds(c.s.versions[i].index, id)
		if err != nil {
			return err
		}
		inNext, err := c.holds(c.s.versions[i+1].index, id)
		if err != nil {
			return err
		}
		if _, cur := c.current[string(id.dbKey())]; !in || inNext || cur {
			return fmt.Errorf("%w: garbage page %x of index %d: in its tree %v, in the next %v", ErrCorrupt, id.dbKey(), index, in, inNext)
		}
	}
	return nil
}

// holds reports whether the tree of the retained root of index has the
// page id, walking down to its position.
func (c *checker) holds(index uint64, id pageID) (bool, error) {
	n, err := c.s.rootSlot(index)
	if err != nil {
		return false, err
	}
	prefix := ledger.Hash{}
	for depth := 0; ; {
		switch {
		case n.tag == slotPage && depth == id.depth:
			return n.ver == id.ver, nil
		case n.tag == slotPage:
			if n, err = c.s.readPage(pageID{ver: n.ver, depth: depth, key: prefix}, n.hash); err != nil {
				return false, err
			}
		case n.tag == slotInner && depth < id.depth:
			b := bit(id.key, depth)
			n, prefix, depth = n.kid[b], withBit(prefix, depth, b), depth+1
		default:
			return false, nil
		}
	}
}
