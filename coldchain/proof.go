package coldchain

import (
	"fmt"

	"github.com/dualchain/dualchain/ledger"
)

// Proof is a proof that an account is, or is not, in the state with a
// given root. The type, its verifier and its JSON form live in package
// ledger, so that a client checks proofs without this package.
type Proof = ledger.Proof

// newProof makes the proof for addr against root; acct and found are
// addr's account as of root.
func newProof(r nodeReader, root ledger.Hash, addr ledger.Address, acct Account, found bool) (*Proof, error) {
	key := keyOf(addr)
	siblings, leaf, err := pathTo(r, root, key)
	if err != nil {
		return nil, err
	}
	p := &Proof{Root: root, Address: addr, Siblings: siblings}
	switch {
	case found:
		if leaf == nil || leaf.a != key || leaf.b != acct.valueHash() {
			return nil, fmt.Errorf("%w: account %s is not in the tree as stored", ErrCorrupt, addr)
		}
		pa := ledger.ProofAccount(acct)
		p.Account = &pa
	case leaf != nil:
		if leaf.a == key {
			return nil, fmt.Errorf("%w: tree holds account %s the state lacks", ErrCorrupt, addr)
		}
		p.Leaf = &ledger.ProofLeaf{Key: leaf.a, ValueHash: leaf.b}
	}
	return p, nil
}
