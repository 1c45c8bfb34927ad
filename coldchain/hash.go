package coldchain

import (
	"encoding/binary"

	"github.com/dualchain/dualchain/ledger"
)

// The tree's hashing is defined in package ledger, beside the proof
// verifier that clients run (ledger/proof.go); these are its short names
// here.

// emptyHash is the hash of an empty subtree, at every depth: 32 zero
// bytes. No node hashes to it (that would be a SHA-256 preimage of zero).
var emptyHash ledger.Hash

// keyOf is the 256-bit tree key of an account: SHA-256 of its address.
func keyOf(a ledger.Address) ledger.Hash { return ledger.ColdTreeKey(a) }

// leafHash is SHA-256(0x00 ‖ key ‖ valueHash).
func leafHash(key, vh ledger.Hash) ledger.Hash { return ledger.ColdLeafHash(key, vh) }

// innerHash is SHA-256(0x01 ‖ left ‖ right).
func innerHash(left, right ledger.Hash) ledger.Hash { return ledger.ColdInnerHash(left, right) }

// bit returns bit i of k, counting from the most significant bit of k[0]:
// 0 sends a key left at depth i, 1 right.
func bit(k ledger.Hash, i int) int {
	return int(k[i/8]>>(7-uint(i%8))) & 1
}

// Account is a cold account: its balance and next nonce. The zero Account
// is no account: writing it deletes the account from the state and the
// tree.
type Account struct {
	Balance uint64 `json:"balance"`
	Nonce   uint64 `json:"nonce"`
}

// IsZero reports whether a is the zero Account (no account).
func (a Account) IsZero() bool { return a == Account{} }

// encode returns the account's leaf value: balance ‖ nonce, each 8 bytes
// big-endian.
func (a Account) encode() []byte { return ledger.ProofAccount(a).Encode() }

// valueHash is the hash a leaf holds for the account.
func (a Account) valueHash() ledger.Hash { return ledger.ProofAccount(a).ValueHash() }

func decodeAccount(b []byte) (Account, bool) {
	if len(b) != ledger.ColdAccountSize {
		return Account{}, false
	}
	return Account{
		Balance: binary.BigEndian.Uint64(b),
		Nonce:   binary.BigEndian.Uint64(b[8:]),
	}, true
}
