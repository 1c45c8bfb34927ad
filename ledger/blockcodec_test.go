package ledger

import (
	"bytes"
	"crypto/sha256"
	"math"
	"strings"
	"testing"
)

// codecBlock is a block whose fields take the values where canonical
// encodings change shape: integer widths, negative times, empty and nil
// slices, long strings.
func codecBlock(n uint64, txs int) *Block {
	b := &Block{Header: Header{
		ChainID: strings.Repeat("c", int(n%65)), Height: n, Time: -int64(n) - 1,
		Parent: Hash{1}, TxRoot: Hash{2}, ResultRoot: Hash{3}, Commitment: Hash{4},
	}}
	if n%2 == 0 {
		b.Header.Time = int64(n >> 1)
	}
	for i := range txs {
		tx := Tx{ChainID: "dualchain-dev", Chain: Hot, Nonce: n + uint64(i), Function: "transfer",
			Args: bytes.Repeat([]byte{byte(i)}, i*7), GasLimit: n, Sig: Signature{byte(i)}}
		r := Receipt{TxID: tx.ID(), Status: Status(i % 7), GasUsed: n * uint64(i), Path: Path(1 + i%2)}
		switch i % 3 {
		case 1:
			r.Error, r.Result = strings.Repeat("é", i*13), Bytes{}
		case 2:
			r.Events = []Event{{Name: "Transfer", Data: make(Bytes, i*11)}, {Name: ""}}
			r.Result = Bytes{1, 2, 3}
		}
		b.Txs, b.Receipts = append(b.Txs, tx), append(b.Receipts, r)
		b.Writes = append(b.Writes, Write{Key: []byte{byte(i)}, Value: bytes.Repeat([]byte{7}, i*30)})
	}
	if txs > 0 {
		b.Writes = append(b.Writes, Write{Key: Bytes{}, Value: nil})
	}
	return b
}

// TestBlockCodecMatchesGenericEncoder holds the hand-written block,
// header and receipt encoders, and the roots and hash built on them, to
// the generic encoder in ledger's mode.
func TestBlockCodecMatchesGenericEncoder(t *testing.T) {
	for _, n := range []uint64{0, 1, 23, 24, 255, 256, 65535, 65536, 1<<32 - 1, 1 << 32, math.MaxUint64} {
		for _, txs := range []int{0, 1, 5, 30} {
			checkBlockCodec(t, codecBlock(n, txs))
		}
	}
	b := codecBlock(3, 2)
	b.Header.Time = math.MinInt64
	checkBlockCodec(t, b)
	b.Header.Time = math.MaxInt64
	b.Header.ChainID = strings.Repeat("x", 300) // past the header hash's stack buffer
	checkBlockCodec(t, b)
}

func checkBlockCodec(t *testing.T, b *Block) {
	t.Helper()
	want, err := encMode.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Encode(); !bytes.Equal(got, want) {
		t.Fatalf("Encode() = %x, want %x", got, want)
	}
	h, err := encMode.Marshal(&b.Header)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := b.Header.Hash(), Hash(sha256.Sum256(append([]byte(headerTag), h...))); got != want {
		t.Fatalf("Header.Hash() = %s, want %s", got, want)
	}
	results, err := encMode.Marshal(struct {
		_        struct{} `cbor:",toarray"`
		Receipts []Receipt
		Writes   []Write
	}{Receipts: b.Receipts, Writes: b.Writes})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := b.resultRoot(), Hash(sha256.Sum256(results)); got != want {
		t.Fatalf("resultRoot() = %s, want %s", got, want)
	}
	for i := range b.Receipts {
		want, _ := encMode.Marshal(&b.Receipts[i])
		if got := b.Receipts[i].AppendCBOR(nil); !bytes.Equal(got, want) {
			t.Fatalf("receipt %d AppendCBOR = %x, want %x", i, got, want)
		}
	}
	if len(want) > b.EncodedSize() {
		t.Fatalf("EncodedSize() = %d, encoding has %d bytes", b.EncodedSize(), len(want))
	}
	back, err := DecodeBlock(want)
	if err == nil && !bytes.Equal(back.Encode(), want) {
		t.Fatalf("DecodeBlock(Encode()).Encode() = %x, want %x", back.Encode(), want)
	}
}

func FuzzBlockCodec(f *testing.F) {
	f.Add(uint64(5), "dualchain-dev", int64(-9), "boom", []byte{1, 2}, "Transfer", uint16(3), uint8(2))
	f.Fuzz(func(t *testing.T, n uint64, chainID string, time int64, errText string, data []byte, event string, status uint16, txs uint8) {
		b := codecBlock(n, int(txs%8))
		b.Header.ChainID, b.Header.Time = chainID, time
		for i := range b.Receipts {
			b.Receipts[i].Status, b.Receipts[i].Error = Status(status), errText
			b.Receipts[i].Events = append(b.Receipts[i].Events, Event{Name: event, Data: data})
			b.Receipts[i].Result = data
		}
		checkBlockCodec(t, b)
	})
}
