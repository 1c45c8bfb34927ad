package ledger

import (
	"bytes"
	"reflect"
	"testing"
)

// checkTxDecode decodes data with Tx's decoder and with the generic one
// alone, and fails unless they agree: both refuse it, or both give the
// same transaction.
func checkTxDecode(t *testing.T, data []byte) {
	t.Helper()
	var got, want Tx
	errGot := Unmarshal(data, &got)
	errWant := decMode.Unmarshal(data, (*txFields)(&want))
	if (errGot == nil) != (errWant == nil) {
		t.Fatalf("Unmarshal(%x) = %v, generic decoder %v", data, errGot, errWant)
	}
	if errGot == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("Unmarshal(%x) = %+v, generic decoder %+v", data, got, want)
	}
}

func TestTxDecodeMatchesGenericDecoder(t *testing.T) {
	tx := &Tx{ChainID: "dualchain-dev", Chain: Hot, Nonce: 300, Function: "transfer", Args: Bytes{1, 2, 3}, GasLimit: 70000,
		From: Address{1}, Contract: Address{2}, Sig: Signature{3}}
	canonical := tx.Encode()
	if _, ok := decodeCanonicalTx(canonical); !ok {
		t.Fatalf("decodeCanonicalTx(Encode()) refused the canonical encoding")
	}
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(canonical)) }
	tests := map[string][]byte{
		"canonical":        canonical,
		"no args":          (&Tx{ChainID: "c", Chain: Cold, Function: "f"}).Encode(),
		"trailing byte":    append(bytes.Clone(canonical), 0),
		"short":            canonical[:len(canonical)-1],
		"array of 8":       edit(func(b []byte) []byte { b[0] = 0x88; return b }),
		"long-form length": append([]byte{0x89, 0x78, 13}, canonical[2:]...),
		"invalid UTF-8":    (&Tx{ChainID: "\xff", Function: "f"}).Encode(),
		"chain 256":        (&txWithChain{Chain: 256}).encode(t),
		"indefinite array": append([]byte{0x9f}, append(canonical[1:], 0xff)...),
		"31-byte from": edit(func(b []byte) []byte {
			i := bytes.Index(b, append([]byte{0x58, 32}, tx.From[:]...))
			b[i+1] = 31
			return b
		}),
		"empty":              {},
		"null":               {0xf6},
		"map":                {0xa0},
		"nested non-minimal": edit(func(b []byte) []byte { return append(b[:len(b)-66], append([]byte{0x59, 0, 64}, tx.Sig[:]...)...) }),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) { checkTxDecode(t, data) })
	}
}

// txWithChain encodes a transaction whose chain does not fit a Chain.
type txWithChain struct {
	_        struct{} `cbor:",toarray"`
	ChainID  string
	Chain    uint64
	Nonce    uint64
	From     Address
	Contract Address
	Function string
	Args     Bytes
	GasLimit uint64
	Sig      Signature
}

func (x *txWithChain) encode(t *testing.T) []byte {
	x.ChainID, x.Function = "c", "f"
	b, err := encMode.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzTxDecode(f *testing.F) {
	f.Add((&Tx{ChainID: "dualchain-dev", Chain: Hot, Nonce: 7, Function: "transfer", Args: Bytes{1}, GasLimit: 9}).Encode())
	f.Add([]byte{0x89, 0x60, 0x01, 0x00, 0x40, 0x40, 0x60, 0x40, 0x00, 0x40})
	f.Fuzz(func(t *testing.T, data []byte) { checkTxDecode(t, data) })
}

// checkBlockDecode is checkTxDecode for blocks.
func checkBlockDecode(t *testing.T, data []byte) {
	t.Helper()
	var got, want Block
	errGot := Unmarshal(data, &got)
	errWant := decMode.Unmarshal(data, (*blockFields)(&want))
	if (errGot == nil) != (errWant == nil) {
		t.Fatalf("Unmarshal(%x) = %v, generic decoder %v", data, errGot, errWant)
	}
	if errGot == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("Unmarshal(%x) = %+v, generic decoder %+v", data, got, want)
	}
}

func TestBlockDecodeMatchesGenericDecoder(t *testing.T) {
	for _, n := range []uint64{0, 1, 24, 1 << 32, 1<<63 + 5} {
		for _, txs := range []int{0, 1, 4} {
			enc := codecBlock(n, txs).Encode()
			if _, ok := decodeCanonicalBlock(enc); !ok {
				t.Fatalf("decodeCanonicalBlock refused a canonical block (%d, %d txs)", n, txs)
			}
			checkBlockDecode(t, enc)
			checkBlockDecode(t, enc[:len(enc)-1])
			checkBlockDecode(t, append(bytes.Clone(enc), 0))
		}
	}
	enc := codecBlock(3, 2).Encode()
	i := bytes.Index(enc, []byte("transfer"))
	checkBlockDecode(t, append(append(bytes.Clone(enc[:i-1]), 0x78, 8), enc[i:]...)) // a long-form head in a tx
}

func FuzzBlockDecode(f *testing.F) {
	for _, txs := range []int{0, 1, 3} {
		f.Add(codecBlock(uint64(txs)*100, txs).Encode())
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkBlockDecode(t, data) })
}
