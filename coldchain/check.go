package coldchain

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/dualchain/dualchain/ledger"
)

// Check verifies the whole state against its invariants and returns the
// first violation, wrapping ErrCorrupt: every node reachable from the root
// is stored and hashes to its key, the tree has the canonical shape (no
// inner node with an empty side and a leaf or empty other side), every
// leaf lies on its key's path and matches its account record, and nothing
// else is stored (no stale node, no account outside the tree). Its cost
// grows with the whole state: it is for tests and offline checks.
func (s *State) Check() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return ErrClosed
	}
	c := &checker{s: s}
	if _, err := c.walk(s.root, 0, ledger.Hash{}); err != nil {
		return err
	}
	nodes, accounts, err := s.countRecords()
	if err != nil {
		return err
	}
	if nodes != c.nodes || accounts != c.leaves {
		return fmt.Errorf("%w: %d nodes and %d accounts stored, tree has %d nodes and %d leaves",
			ErrCorrupt, nodes, accounts, c.nodes, c.leaves)
	}
	return nil
}

type checker struct {
	s             *State
	nodes, leaves int
}

// walk checks the subtree h at depth whose keys start with the first
// depth bits of prefix, and returns its kind.
func (c *checker) walk(h ledger.Hash, depth int, prefix ledger.Hash) (kind, error) {
	if h == emptyHash {
		return kindEmpty, nil
	}
	if depth > maxDepth {
		return kindUnknown, fmt.Errorf("%w: tree deeper than %d", ErrCorrupt, maxDepth)
	}
	n, err := c.s.dbNode(h)
	if err != nil {
		return kindUnknown, err
	}
	if n.hash() != h {
		return kindUnknown, fmt.Errorf("%w: node stored under %x hashes to %x", ErrCorrupt, h, n.hash())
	}
	c.nodes++
	if n.leaf {
		return kindLeaf, c.checkLeaf(n, depth, prefix)
	}
	return kindInner, c.walkInner(n, depth, prefix)
}

func (c *checker) walkInner(n node, depth int, prefix ledger.Hash) error {
	if depth >= maxDepth {
		return fmt.Errorf("%w: inner node at depth %d", ErrCorrupt, depth)
	}
	right := prefix
	right[depth/8] |= 0x80 >> (depth % 8)
	lk, err := c.walk(n.a, depth+1, prefix)
	if err != nil {
		return err
	}
	rk, err := c.walk(n.b, depth+1, right)
	if err != nil {
		return err
	}
	if (lk == kindEmpty && rk != kindInner) || (rk == kindEmpty && lk != kindInner) {
		return fmt.Errorf("%w: non-canonical inner node at depth %d", ErrCorrupt, depth)
	}
	return nil
}

func (c *checker) checkLeaf(n node, depth int, prefix ledger.Hash) error {
	c.leaves++
	for i := 0; i < depth; i++ {
		if bit(n.a, i) != bit(prefix, i) {
			return fmt.Errorf("%w: leaf %x off its path at depth %d", ErrCorrupt, n.a, i)
		}
	}
	return nil
}

// countRecords counts the stored nodes and accounts, and checks that each
// account is the leaf its key leads to.
func (s *State) countRecords() (nodes, accounts int, err error) {
	it, err := s.db.NewIter(&pebble.IterOptions{})
	if err != nil {
		return 0, 0, err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		switch {
		case len(k) == 33 && k[0] == nodePrefix:
			nodes++
		case len(k) == 33 && k[0] == accountPrefix:
			accounts++
			if err := s.checkAccount(ledger.Address(k[1:]), it.Value()); err != nil {
				return 0, 0, err
			}
		}
	}
	return nodes, accounts, it.Error()
}

func (s *State) checkAccount(addr ledger.Address, v []byte) error {
	a, ok := decodeAccount(v)
	if !ok || a.IsZero() {
		return fmt.Errorf("%w: account %s", ErrCorrupt, addr)
	}
	_, leaf, err := pathTo(s, s.root, keyOf(addr))
	if err != nil {
		return err
	}
	if leaf == nil || leaf.a != keyOf(addr) || leaf.b != a.valueHash() {
		return fmt.Errorf("%w: account %s does not match its leaf", ErrCorrupt, addr)
	}
	return nil
}
