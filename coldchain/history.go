package coldchain

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"
	"github.com/dualchain/dualchain/ledger"
)

// The state keeps the trees of its last Config.KeepVersions applies, so
// that ProveAt can prove against any of their roots. A page is written
// once, under the applied index that made it, and is never changed; an
// Apply that replaces pages of the previous tree lists them under the
// previous index:
//
//	v <index>  →  root hash ‖ root slot (empty, a leaf, or the root page)
//	g <index>  →  page key bodies, concatenated: pages of the tree at index
//	              that the next retained tree does not hold
//
// When the oldest retained root falls out of the window, its "g" pages
// are deleted: no retained tree reaches them, because a page replaced
// once is never part of a later tree (a page is named by its writer's
// index). The database therefore holds exactly the pages of the retained
// trees (State.Check verifies it).

// version is a retained root: the applied index that made it, and its hash.
type version struct {
	index uint64
	root  ledger.Hash
}

func versionKey(i uint64) []byte { return binary.BigEndian.AppendUint64([]byte{versionPrefix}, i) }
func garbageKey(i uint64) []byte { return binary.BigEndian.AppendUint64([]byte{garbagePrefix}, i) }

// ProveAt returns a proof against root, which must be the current root or
// the root of one of the last Config.KeepVersions applies, that addr's
// account is in that state (inclusion: the proof carries the account as
// of that root) or that there was none (non-inclusion). Any other root is
// ErrUnknownRoot. Proofs against the current root are made from memory;
// older ones read about depth/4 pages from Pebble.
func (s *State) ProveAt(addr ledger.Address, root ledger.Hash) (*Proof, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return nil, ErrClosed
	}
	if root == s.root {
		return s.proveCurrent(addr), nil
	}
	i := slices.IndexFunc(s.versions, func(v version) bool { return v.root == root })
	if i < 0 {
		return nil, fmt.Errorf("%w: %x", ErrUnknownRoot, root)
	}
	slot, err := s.rootSlot(s.versions[i].index)
	if err != nil {
		return nil, err
	}
	p, err := provePages(s, slot, root, addr)
	if err != nil {
		return nil, fmt.Errorf("coldchain: prove %s at %x: %w", addr, root, err)
	}
	return p, nil
}

// provePages makes addr's proof by walking the stored pages down from a
// root slot.
func provePages(pr pageReader, slot *pnode, root ledger.Hash, addr ledger.Address) (*Proof, error) {
	key := keyOf(addr)
	siblings, leaf, err := pagePath(pr, slot, key)
	if err != nil {
		return nil, err
	}
	p := &Proof{Root: root, Address: addr, Siblings: siblings}
	if leaf != nil {
		p.Account, p.Leaf = proofEnd(leaf.key, leaf.acct, key)
	}
	return p, nil
}

// pagePath walks from a root slot towards key through the stored pages
// and returns the sibling hashes met on the way (root first) and the leaf
// the walk ends at (nil if it ends at an empty subtree).
func pagePath(pr pageReader, slot *pnode, key ledger.Hash) ([]ledger.Hash, *pnode, error) {
	var siblings []ledger.Hash
	n, depth, prefix := slot, 0, ledger.Hash{}
	for {
		switch n.tag {
		case slotEmpty:
			return siblings, nil, nil
		case slotLeaf:
			return siblings, n, nil
		case slotPage:
			pg, err := pr.readPage(pageID{ver: n.ver, depth: depth, key: prefix}, n.hash)
			if err != nil {
				return nil, nil, err
			}
			n = pg
		default:
			b := bit(key, depth)
			siblings = append(siblings, n.kid[1-b].hash)
			n, prefix, depth = n.kid[b], withBit(prefix, depth, b), depth+1
		}
	}
}

// loadVersions reads the retained roots.
func (s *State) loadVersions() error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{versionPrefix}, UpperBound: []byte{versionPrefix + 1}})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		k, v := it.Key(), it.Value()
		if len(k) != 9 || len(v) < 33 {
			_ = it.Close()
			return fmt.Errorf("%w: version record %x", ErrCorrupt, k)
		}
		s.versions = append(s.versions, version{index: binary.BigEndian.Uint64(k[1:]), root: ledger.Hash(v[:32])})
	}
	if err := it.Close(); err != nil {
		return err
	}
	if len(s.versions) == 0 {
		return fmt.Errorf("%w: no retained root", ErrCorrupt)
	}
	return nil
}

// rootSlot reads the root slot of the retained root of index.
func (s *State) rootSlot(index uint64) (*pnode, error) {
	v, ok, err := s.get(versionKey(index))
	if err != nil {
		return nil, err
	}
	if !ok || len(v) < 33 {
		return nil, fmt.Errorf("%w: version record %d", ErrCorrupt, index)
	}
	n, err := decodeRootSlot(v[32:])
	if err != nil {
		return nil, err
	}
	if n.hash != ledger.Hash(v[:32]) {
		return nil, fmt.Errorf("%w: version %d: root slot hashes to %x, not %x", ErrCorrupt, index, n.hash, v[:32])
	}
	return n, nil
}

// writeHistory adds the update's root to the retained ones, lists the
// pages it replaces under the previous root, and drops the roots past
// s.keep with the pages only they reach. It returns the retained roots.
func (s *State) writeHistory(b *pebble.Batch, u *treeUpdate, root ledger.Hash, index uint64) ([]version, error) {
	rec := s.tree.appendSlot(append(make([]byte, 0, 64), root[:]...), u.root.r, u.root.h, pageHeight)
	if err := b.Set(versionKey(index), rec, nil); err != nil {
		return nil, err
	}
	versions := append(slices.Clone(s.versions), version{index: index, root: root})
	drop := max(0, len(versions)-s.keep)
	var garbage []byte
	for _, id := range u.garbage {
		garbage = id.appendBody(garbage)
	}
	switch {
	case len(s.versions) == 0 && len(garbage) > 0:
		return nil, fmt.Errorf("%w: a tree with no retained root", ErrCorrupt)
	case len(s.versions) == 0:
	case drop >= len(s.versions): // the previous root goes now: so do its pages
		if err := deletePages(b, garbage); err != nil {
			return nil, err
		}
	case len(garbage) > 0:
		if err := b.Set(garbageKey(s.versions[len(s.versions)-1].index), garbage, nil); err != nil {
			return nil, err
		}
	}
	for i, o := range versions[:drop] {
		if i < len(s.versions)-1 { // the previous root's garbage is not stored
			if err := s.dropGarbage(b, o.index); err != nil {
				return nil, err
			}
		}
		if err := b.Delete(versionKey(o.index), nil); err != nil {
			return nil, err
		}
	}
	return versions[drop:], nil
}

// dropGarbage deletes the pages listed under index, and the list.
func (s *State) dropGarbage(b *pebble.Batch, index uint64) error {
	g, ok, err := s.get(garbageKey(index))
	if err != nil || !ok {
		return err
	}
	if err := deletePages(b, g); err != nil {
		return err
	}
	return b.Delete(garbageKey(index), nil)
}

// deletePages deletes the pages whose key bodies are concatenated in list.
func deletePages(b *pebble.Batch, list []byte) error {
	key := []byte{pagePrefix}
	for len(list) > 0 {
		id, n, err := parsePageBody(list)
		if err != nil {
			return err
		}
		if err := b.Delete(id.appendBody(key[:1]), nil); err != nil {
			return err
		}
		list = list[n:]
	}
	return nil
}
