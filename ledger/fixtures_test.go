package ledger_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"

	"github.com/dualchain/dualchain/ledger"
)

// Fixtures shared by the ledger tests: deterministic keys and transactions,
// and a small hand-written CBOR encoder so the tests can build encodings the
// package itself would never produce.

const testChainID = "test-chain"

// testKey returns the key whose seed is 32 copies of i.
func testKey(i byte) *ledger.Key {
	return ledger.KeyFromSeed(bytes.Repeat([]byte{i}, 32))
}

// unsignedTx returns a transfer from k with every field set to a non-zero
// value, so a test that mutates a field always changes something.
func unsignedTx(k *ledger.Key, nonce uint64) *ledger.Tx {
	return &ledger.Tx{
		ChainID:  testChainID,
		Chain:    ledger.Hot,
		Nonce:    nonce,
		From:     k.Address,
		Contract: ledger.ContractAddress("token"),
		Function: "transfer",
		Args:     ledger.Bytes{0x82, 0x01, 0x02},
		GasLimit: 100_000,
	}
}

// signedTx returns unsignedTx signed by k.
func signedTx(k *ledger.Key, nonce uint64) *ledger.Tx {
	tx := unsignedTx(k, nonce)
	tx.Sign(k.Private)
	return tx
}

// signedTxs returns n transactions signed by n/8+1 different keys.
func signedTxs(n int) []*ledger.Tx {
	txs := make([]*ledger.Tx, n)
	for i := range txs {
		txs[i] = signedTx(testKey(byte(i%8+1)), uint64(i))
	}
	return txs
}

// cborHead encodes a CBOR item head (major type and argument) in its
// shortest form.
func cborHead(major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return []byte{m | byte(n)}
	case n <= 0xff:
		return []byte{m | 24, byte(n)}
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16([]byte{m | 25}, uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32([]byte{m | 26}, uint32(n))
	}
	return binary.BigEndian.AppendUint64([]byte{m | 27}, n)
}

func cborUint(n uint64) []byte  { return cborHead(0, n) }
func cborBytes(b []byte) []byte { return append(cborHead(2, uint64(len(b))), b...) }
func cborText(s string) []byte  { return append(cborHead(3, uint64(len(s))), s...) }

func cborArray(items ...[]byte) []byte {
	return append(cborHead(4, uint64(len(items))), bytes.Join(items, nil)...)
}

// txFields returns the canonical encoding of each of tx's nine fields, in
// order, so a test can replace one of them.
func txFields(tx *ledger.Tx) [][]byte {
	return [][]byte{
		cborText(tx.ChainID),
		cborUint(uint64(tx.Chain)),
		cborUint(tx.Nonce),
		cborBytes(tx.From[:]),
		cborBytes(tx.Contract[:]),
		cborText(tx.Function),
		cborBytes(tx.Args),
		cborUint(tx.GasLimit),
		cborBytes(tx.Sig[:]),
	}
}

// withField returns a copy of fields with field i replaced by enc.
func withField(fields [][]byte, i int, enc []byte) [][]byte {
	out := append([][]byte(nil), fields...)
	out[i] = enc
	return out
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// mustHex32 decodes 64 hex digits; it panics on a typo in a test constant.
func mustHex32(s string) [32]byte {
	var out [32]byte
	if n, err := hex.Decode(out[:], []byte(s)); err != nil || n != 32 {
		panic("bad hex constant " + s)
	}
	return out
}

// errMatches reports whether err is what a table wants: nil for nil,
// otherwise errors.Is.
func errMatches(err, want error) bool {
	if want == nil {
		return err == nil
	}
	return errors.Is(err, want)
}
