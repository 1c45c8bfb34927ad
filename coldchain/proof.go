package coldchain

import (
	"github.com/dualchain/dualchain/ledger"
)

// Proof is a proof that an account is, or is not, in the state with a
// given root. The type, its verifier and its JSON form live in package
// ledger, so that a client checks proofs without this package.
type Proof = ledger.Proof

// proveCurrent makes addr's proof from the tree in memory.
func (s *State) proveCurrent(addr ledger.Address) *Proof {
	key := keyOf(addr)
	p := &Proof{Root: s.root, Address: addr}
	r := s.tree.lookup(key, &p.Siblings)
	if r.isLeaf() {
		l := s.tree.leaf(r)
		p.Account, p.Leaf = proofEnd(l.key, l.acct, key)
	}
	return p
}

// proofEnd returns what a proof for key carries when its path ends at the
// leaf (leafKey, acct): the account if the leaf is key's, else the leaf.
func proofEnd(leafKey ledger.Hash, acct Account, key ledger.Hash) (*ledger.ProofAccount, *ledger.ProofLeaf) {
	if leafKey == key {
		pa := ledger.ProofAccount(acct)
		return &pa, nil
	}
	return nil, &ledger.ProofLeaf{Key: leafKey, ValueHash: acct.valueHash()}
}
