package apitest

import (
	"github.com/dualchain/dualchain/ledger"
)

// The cold state's Merkle tree, computed naively from a map of accounts
// (ledger/proof.go describes the tree): enough for the few accounts of a
// test, and an independent check of the proofs the node serves.

// coldLeaf is one account as a leaf of the tree.
type coldLeaf struct {
	key, valueHash ledger.Hash
}

func coldLeaves(accts map[ledger.Address]ledger.ProofAccount) []coldLeaf {
	ls := make([]coldLeaf, 0, len(accts))
	for a, v := range accts {
		ls = append(ls, coldLeaf{ledger.ColdTreeKey(a), v.ValueHash()})
	}
	return ls
}

// coldRoot returns the root of the tree of accts.
func coldRoot(accts map[ledger.Address]ledger.ProofAccount) ledger.Hash {
	return subtreeHash(coldLeaves(accts), 0)
}

// subtreeHash hashes the subtree at depth holding ls.
func subtreeHash(ls []coldLeaf, depth int) ledger.Hash {
	switch len(ls) {
	case 0:
		return ledger.Hash{}
	case 1:
		return ledger.ColdLeafHash(ls[0].key, ls[0].valueHash)
	}
	left, right := split(ls, depth)
	return ledger.ColdInnerHash(subtreeHash(left, depth+1), subtreeHash(right, depth+1))
}

// split parts ls by their key's bit at depth.
func split(ls []coldLeaf, depth int) (left, right []coldLeaf) {
	for _, l := range ls {
		if bit(l.key, depth) == 0 {
			left = append(left, l)
		} else {
			right = append(right, l)
		}
	}
	return left, right
}

func bit(k ledger.Hash, i int) int { return int(k[i/8]>>(7-uint(i%8))) & 1 }

// proveCold proves addr's account (or its absence) in the tree of accts.
func proveCold(accts map[ledger.Address]ledger.ProofAccount, addr ledger.Address) *ledger.Proof {
	p := &ledger.Proof{Root: coldRoot(accts), Address: addr, Siblings: []ledger.Hash{}}
	key := ledger.ColdTreeKey(addr)
	ls := coldLeaves(accts)
	for depth := 0; len(ls) > 1; depth++ {
		left, right := split(ls, depth)
		if bit(key, depth) == 0 {
			ls = left
			p.Siblings = append(p.Siblings, subtreeHash(right, depth+1))
		} else {
			ls = right
			p.Siblings = append(p.Siblings, subtreeHash(left, depth+1))
		}
	}
	switch {
	case len(ls) == 0:
	case ls[0].key == key:
		a := accts[addr]
		p.Account = &a
	default:
		p.Leaf = &ledger.ProofLeaf{Key: ls[0].key, ValueHash: ls[0].valueHash}
	}
	return p
}
