package coldchain

import "github.com/dualchain/dualchain/ledger"

// record is a key outside the account state (a block, the hot mirror, a
// bridge transfer) written in an Apply's batch: value, or, if fill is set,
// what fill makes of the new state root (a block's header holds it). A
// nil value deletes the key.
type record struct {
	key, value []byte
	fill       func(root ledger.Hash) []byte
}

// valueAt is the record's value once the batch's root is known.
func (r record) valueAt(root ledger.Hash) []byte {
	if r.fill != nil {
		return r.fill(root)
	}
	return r.value
}
