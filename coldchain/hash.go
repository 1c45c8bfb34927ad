package coldchain

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/dualchain/dualchain/ledger"
)

// Domain-separation prefixes of the tree's hashes: a leaf can never be
// read as an inner node, nor an inner node as a leaf.
const (
	leafPrefix  byte = 0x00
	innerPrefix byte = 0x01
)

// emptyHash is the hash of an empty subtree, at every depth: 32 zero
// bytes. No node hashes to it (that would be a SHA-256 preimage of zero).
var emptyHash ledger.Hash

// keyOf is the 256-bit tree key of an account: SHA-256 of its address.
// Hashing spreads keys evenly, so the tree's depth stays near log2(N)
// whatever addresses are chosen.
func keyOf(a ledger.Address) ledger.Hash {
	return sha256.Sum256(a[:])
}

// valueHash hashes a leaf's value (an encoded account).
func valueHash(value []byte) ledger.Hash {
	return sha256.Sum256(value)
}

// leafHash is SHA-256(0x00 ‖ key ‖ valueHash).
func leafHash(key, vh ledger.Hash) ledger.Hash {
	var b [1 + 64]byte
	b[0] = leafPrefix
	copy(b[1:], key[:])
	copy(b[33:], vh[:])
	return sha256.Sum256(b[:])
}

// innerHash is SHA-256(0x01 ‖ left ‖ right).
func innerHash(left, right ledger.Hash) ledger.Hash {
	var b [1 + 64]byte
	b[0] = innerPrefix
	copy(b[1:], left[:])
	copy(b[33:], right[:])
	return sha256.Sum256(b[:])
}

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

// accountValueSize is the size of an encoded account.
const accountValueSize = 16

// encode returns the account's leaf value: balance ‖ nonce, each 8 bytes
// big-endian.
func (a Account) encode() []byte {
	b := make([]byte, 0, accountValueSize)
	b = binary.BigEndian.AppendUint64(b, a.Balance)
	return binary.BigEndian.AppendUint64(b, a.Nonce)
}

func decodeAccount(b []byte) (Account, bool) {
	if len(b) != accountValueSize {
		return Account{}, false
	}
	return Account{
		Balance: binary.BigEndian.Uint64(b),
		Nonce:   binary.BigEndian.Uint64(b[8:]),
	}, true
}
