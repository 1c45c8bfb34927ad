package hotchain

import (
	"strconv"

	"github.com/dualchain/dualchain/ledger"
)

// The Redis key schema. DESIGN.md explains it; keep the two in step.
//
//	dc:meta          CBOR metaRecord: layout version, incarnation, genesis, applied
//	                 log index, head height and hash, 2048-byte commitment
//	dc:s:<key>       the value of state key <key> (raw bytes, as ledger defines
//	                 them); an absent or empty value is never stored
//	dc:b:<height>    CBOR blockRecord: header, receipts, write set; height in decimal
//	dc:t:<id>        CBOR ledger.TxRecord: tx, receipt, height, index; id is the
//	                 32 raw bytes of the tx id
const (
	keyPrefix   = "dc:"
	metaKey     = keyPrefix + "meta"
	statePrefix = keyPrefix + "s:"
	blockPrefix = keyPrefix + "b:"
	txPrefix    = keyPrefix + "t:"
)

// stateMatch is the SCAN pattern of all state keys, keyMatch of every key
// of the schema (Open deletes them all before a new incarnation). The
// prefixes have no glob metacharacters, so they need no escaping.
const (
	stateMatch = statePrefix + "*"
	keyMatch   = keyPrefix + "*"
)

func stateKey(k []byte) string { return statePrefix + string(k) }

func blockKey(height uint64) string {
	return blockPrefix + strconv.FormatUint(height, 10)
}

func txKey(id ledger.Hash) string { return txPrefix + string(id[:]) }

// keyArena builds many prefixed keys in one allocation.
type keyArena struct{ buf []byte }

func newKeyArena(size int) *keyArena { return &keyArena{buf: make([]byte, 0, size)} }

// key returns prefix+k as a slice of the arena. The arena never grows past
// the size it was made with, so earlier keys stay valid; if it would, key
// allocates on its own instead.
func (a *keyArena) key(prefix string, k []byte) []byte {
	n := len(prefix) + len(k)
	if len(a.buf)+n > cap(a.buf) {
		return append(append(make([]byte, 0, n), prefix...), k...)
	}
	start := len(a.buf)
	a.buf = append(append(a.buf, prefix...), k...)
	return a.buf[start:len(a.buf):len(a.buf)]
}
