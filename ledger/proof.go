package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// The cold state's Merkle tree (coldchain keeps it; its DESIGN.md has the
// reasons) is a binary sparse Merkle tree over 256-bit keys in which every
// subtree holding a single leaf is replaced by that leaf:
//
//	empty subtree     →  32 zero bytes, at every depth
//	one leaf          →  SHA-256(0x00 ‖ key ‖ valueHash)
//	two or more       →  SHA-256(0x01 ‖ left ‖ right)
//
// A key is ColdTreeKey(address); bit i of the key (the most significant bit
// of its first byte is bit 0) sends it left (0) or right (1) at depth i.
// This file holds the hashing and the verifier of proofs against such a
// root, so that a client can check a proof with this package alone.

// ProofVersion is the version of the proof format this package writes and
// reads.
const ProofVersion = 1

// ColdTreeDepth is the number of bits of a cold tree key: no path is
// longer, and no proof has more siblings.
const ColdTreeDepth = 256

// Domain-separation prefixes of the cold tree's hashes: a leaf can never
// be read as an inner node, nor an inner node as a leaf.
const (
	ColdLeafPrefix  byte = 0x00
	ColdInnerPrefix byte = 0x01
)

// ColdTreeKey is the 256-bit tree key of a cold account: SHA-256 of its
// address. Hashing spreads keys evenly, so the tree's depth stays near
// log2(N) whatever addresses are chosen.
func ColdTreeKey(a Address) Hash { return sha256.Sum256(a[:]) }

// ColdLeafHash is SHA-256(0x00 ‖ key ‖ valueHash).
func ColdLeafHash(key, valueHash Hash) Hash { return nodeHash(ColdLeafPrefix, key, valueHash) }

// ColdInnerHash is SHA-256(0x01 ‖ left ‖ right).
func ColdInnerHash(left, right Hash) Hash { return nodeHash(ColdInnerPrefix, left, right) }

func nodeHash(prefix byte, a, b Hash) Hash {
	var buf [1 + 64]byte
	buf[0] = prefix
	copy(buf[1:], a[:])
	copy(buf[33:], b[:])
	return sha256.Sum256(buf[:])
}

// keyBit returns bit i of k, counting from the most significant bit of k[0].
func keyBit(k Hash, i int) int { return int(k[i/8]>>(7-uint(i%8))) & 1 }

// ProofAccount is a cold account as a proof carries it: balance and next
// nonce. The zero ProofAccount is no account.
type ProofAccount struct {
	Balance uint64
	Nonce   uint64
}

// ColdAccountSize is the size of an encoded cold account.
const ColdAccountSize = 16

// Encode returns the account's leaf value: balance ‖ nonce, each 8 bytes
// big-endian.
func (a ProofAccount) Encode() []byte {
	b := make([]byte, 0, ColdAccountSize)
	b = binary.BigEndian.AppendUint64(b, a.Balance)
	return binary.BigEndian.AppendUint64(b, a.Nonce)
}

// ValueHash is the hash a leaf holds for the account: SHA-256(Encode()).
func (a ProofAccount) ValueHash() Hash { return sha256.Sum256(a.Encode()) }

// Proof shows that an account is in the cold state with a given root
// (inclusion), or that no account of its address is (non-inclusion).
// Verify checks it with nothing but the proof and a trusted root; its JSON
// encoding (proof_json.go) is what the node serves and the CLI checks
// offline.
type Proof struct {
	// Root is the root the proof was made against. Verify refuses a
	// proof whose Root is not the trusted root.
	Root Hash
	// Address is the account the proof is about. A caller must check that
	// it is the address it asked about.
	Address Address
	// Account is the account's state, for an inclusion proof; nil for a
	// non-inclusion proof.
	Account *ProofAccount
	// Leaf is, for a non-inclusion proof, the other account's leaf the
	// path to Address ends at; nil if the path ends at an empty subtree.
	// Always nil in an inclusion proof.
	Leaf *ProofLeaf
	// Siblings are the hashes beside the path from the root down to the
	// account's leaf, or to where it would be: Siblings[i] is the sibling
	// at depth i+1. An empty sibling is 32 zero bytes.
	Siblings []Hash
}

// ProofLeaf is a leaf of the tree: a tree key (ColdTreeKey of an address)
// and the hash of its account's value.
type ProofLeaf struct {
	Key       Hash
	ValueHash Hash
}

// Included reports whether p is an inclusion proof.
func (p *Proof) Included() bool { return p.Account != nil }

// Verify checks p against a trusted root. It returns nil if p proves that
// Address holds Account (inclusion) or holds no account (non-inclusion) in
// the state whose root is root; an error wrapping ErrBadProof if p is
// malformed, or ErrProofMismatch if p does not lead to root.
func (p *Proof) Verify(root Hash) error {
	if p == nil {
		return fmt.Errorf("%w: no proof", ErrBadProof)
	}
	if p.Root != root {
		return fmt.Errorf("%w: proof is for root %s, not %s", ErrProofMismatch, p.Root, root)
	}
	start, err := p.start()
	if err != nil {
		return err
	}
	if foldPath(ColdTreeKey(p.Address), start, p.Siblings) != root {
		return fmt.Errorf("%w: %s", ErrProofMismatch, p.Address)
	}
	return nil
}

// foldPath hashes from h, the subtree at depth len(siblings) on key's
// path, up to the root.
func foldPath(key, h Hash, siblings []Hash) Hash {
	for i := len(siblings) - 1; i >= 0; i-- {
		if keyBit(key, i) == 0 {
			h = ColdInnerHash(h, siblings[i])
		} else {
			h = ColdInnerHash(siblings[i], h)
		}
	}
	return h
}

// start returns the hash at the bottom of the proof's path: the account's
// leaf, the other leaf, or the empty subtree.
func (p *Proof) start() (Hash, error) {
	if len(p.Siblings) > ColdTreeDepth {
		return Hash{}, fmt.Errorf("%w: %d siblings, at most %d", ErrBadProof, len(p.Siblings), ColdTreeDepth)
	}
	key := ColdTreeKey(p.Address)
	switch {
	case p.Account != nil && p.Leaf != nil:
		return Hash{}, fmt.Errorf("%w: both an account and another leaf", ErrBadProof)
	case p.Account != nil:
		if *p.Account == (ProofAccount{}) {
			return Hash{}, fmt.Errorf("%w: the zero account is no account", ErrBadProof)
		}
		return ColdLeafHash(key, p.Account.ValueHash()), nil
	case p.Leaf != nil:
		if p.Leaf.Key == key {
			return Hash{}, fmt.Errorf("%w: non-inclusion leaf is the account's own", ErrBadProof)
		}
		for i := range p.Siblings {
			if keyBit(p.Leaf.Key, i) != keyBit(key, i) {
				return Hash{}, fmt.Errorf("%w: non-inclusion leaf is off the account's path at depth %d", ErrBadProof, i)
			}
		}
		return ColdLeafHash(p.Leaf.Key, p.Leaf.ValueHash), nil
	}
	return Hash{}, nil
}
