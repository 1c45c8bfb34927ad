package coldchain

import (
	"fmt"

	"github.com/dualchain/dualchain/ledger"
)

// ProofVersion is the version of the proof format this package writes and
// reads.
const ProofVersion = 1

// Proof shows that an account is in the state with a given root
// (inclusion), or that no account of its address is (non-inclusion).
// Verify checks it with nothing but the proof and a trusted root; its JSON
// encoding, served by the node and checked offline by the CLI, is
// described in DESIGN.md.
type Proof struct {
	// Root is the root the proof was made against. Verify refuses a
	// proof whose Root is not the trusted root.
	Root ledger.Hash
	// Address is the account the proof is about.
	Address ledger.Address
	// Account is the account's state, for an inclusion proof; nil for a
	// non-inclusion proof.
	Account *Account
	// Leaf is, for a non-inclusion proof, the other account's leaf the
	// path to Address ends at; nil if the path ends at an empty subtree.
	// Always nil in an inclusion proof.
	Leaf *ProofLeaf
	// Siblings are the hashes beside the path from the root down to the
	// account's leaf, or to where it would be: Siblings[i] is the sibling
	// at depth i+1. An empty sibling is 32 zero bytes.
	Siblings []ledger.Hash
}

// ProofLeaf is a leaf of the tree: a tree key (SHA-256 of an address) and
// the hash of its account's value.
type ProofLeaf struct {
	Key       ledger.Hash
	ValueHash ledger.Hash
}

// Included reports whether p is an inclusion proof.
func (p *Proof) Included() bool { return p.Account != nil }

// Verify checks p against a trusted root. It returns nil if p proves that
// Address holds Account (inclusion) or holds no account (non-inclusion) in
// the state whose root is root; an error wrapping ErrBadProof if p is
// malformed, or ErrProofMismatch if p does not lead to root.
func (p *Proof) Verify(root ledger.Hash) error {
	if p == nil {
		return fmt.Errorf("%w: no proof", ErrBadProof)
	}
	if p.Root != root {
		return fmt.Errorf("%w: proof is for root %x, not %x", ErrProofMismatch, p.Root, root)
	}
	start, err := p.start()
	if err != nil {
		return err
	}
	if foldPath(keyOf(p.Address), start, p.Siblings) != root {
		return fmt.Errorf("%w: %s", ErrProofMismatch, p.Address)
	}
	return nil
}

// foldPath hashes from h, the subtree at depth len(siblings) on key's
// path, up to the root.
func foldPath(key, h ledger.Hash, siblings []ledger.Hash) ledger.Hash {
	for i := len(siblings) - 1; i >= 0; i-- {
		if bit(key, i) == 0 {
			h = innerHash(h, siblings[i])
		} else {
			h = innerHash(siblings[i], h)
		}
	}
	return h
}

// start returns the hash at the bottom of the proof's path: the account's
// leaf, the other leaf, or the empty subtree.
func (p *Proof) start() (ledger.Hash, error) {
	if len(p.Siblings) > maxDepth {
		return ledger.Hash{}, fmt.Errorf("%w: %d siblings, at most %d", ErrBadProof, len(p.Siblings), maxDepth)
	}
	key := keyOf(p.Address)
	switch {
	case p.Account != nil && p.Leaf != nil:
		return ledger.Hash{}, fmt.Errorf("%w: both an account and another leaf", ErrBadProof)
	case p.Account != nil:
		if p.Account.IsZero() {
			return ledger.Hash{}, fmt.Errorf("%w: the zero account is no account", ErrBadProof)
		}
		return leafHash(key, valueHash(p.Account.encode())), nil
	case p.Leaf != nil:
		if p.Leaf.Key == key {
			return ledger.Hash{}, fmt.Errorf("%w: non-inclusion leaf is the account's own", ErrBadProof)
		}
		for i := range p.Siblings {
			if bit(p.Leaf.Key, i) != bit(key, i) {
				return ledger.Hash{}, fmt.Errorf("%w: non-inclusion leaf is off the account's path at depth %d", ErrBadProof, i)
			}
		}
		return leafHash(p.Leaf.Key, p.Leaf.ValueHash), nil
	}
	return emptyHash, nil
}

// newProof makes the proof for addr against root.
func newProof(r nodeReader, root ledger.Hash, addr ledger.Address, acct Account, found bool) (*Proof, error) {
	key := keyOf(addr)
	siblings, leaf, err := pathTo(r, root, key)
	if err != nil {
		return nil, err
	}
	p := &Proof{Root: root, Address: addr, Siblings: siblings}
	switch {
	case found:
		if leaf == nil || leaf.a != key || leaf.b != valueHash(acct.encode()) {
			return nil, fmt.Errorf("%w: account %s is not in the tree as stored", ErrCorrupt, addr)
		}
		p.Account = &acct
	case leaf != nil:
		if leaf.a == key {
			return nil, fmt.Errorf("%w: tree holds account %s the state lacks", ErrCorrupt, addr)
		}
		p.Leaf = &ProofLeaf{Key: leaf.a, ValueHash: leaf.b}
	}
	return p, nil
}
