package hotchain

import (
	"bytes"
	"math"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

// TestEncodeRecordsMatchesLedger holds the hand-framed records to the
// encoding ledger.Marshal gives the same values, so that ledger.Unmarshal
// reads them and a change to the ledger types is caught here.
func TestEncodeRecordsMatchesLedger(t *testing.T) {
	chain := newTestChain(21, 50, 100)
	chain.failEvery = 4
	big := chain.nextBlock(2*encodeParallelMin + 3) // parallel path
	big.Block.Receipts[1].Events = []ledger.Event{{Name: "e", Data: []byte{1}}}
	tests := []struct {
		name  string
		block *ledger.Block
	}{
		{"transfers", chain.nextBlock(30).Block},
		{"parallel", big.Block},
		{"nil slices", &ledger.Block{Header: ledger.Header{Height: 7}}},
		{"empty slices", &ledger.Block{Header: ledger.Header{Height: math.MaxUint32 + 1}, Txs: []ledger.Tx{}, Receipts: []ledger.Receipt{}, Writes: []ledger.Write{}}},
		{"nil and empty values", &ledger.Block{Header: ledger.Header{Height: 1 << 16}, Writes: []ledger.Write{
			{Key: []byte("a")}, {Key: []byte("b"), Value: []byte{}}, {Key: bytes.Repeat([]byte("k"), 300), Value: bytes.Repeat([]byte("v"), 70000)},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.block
			block, txs := encodeRecords(b)
			want := mustMarshal(&blockRecord{Header: b.Header, Receipts: b.Receipts, Writes: b.Writes})
			if !bytes.Equal(block, want) {
				t.Errorf("encodeRecords(%s) block = %x, want %x", tt.name, head(block), head(want))
			}
			if len(txs) != len(b.Txs) {
				t.Fatalf("encodeRecords(%s) = %d tx records, want %d", tt.name, len(txs), len(b.Txs))
			}
			for i := range txs {
				want := mustMarshal(&ledger.TxRecord{Tx: b.Txs[i], Receipt: b.Receipts[i], Height: b.Header.Height, Index: uint32(i)})
				if !bytes.Equal(txs[i], want) {
					t.Fatalf("encodeRecords(%s) tx %d = %x, want %x", tt.name, i, head(txs[i]), head(want))
				}
			}
		})
	}
}

// head shortens long encodings in failure messages.
func head(b []byte) []byte { return b[:min(len(b), 64)] }

func TestCBORHead(t *testing.T) {
	tests := []struct {
		n    uint64
		want []byte
	}{
		{0, []byte{0x00}},
		{23, []byte{0x17}},
		{24, []byte{0x18, 24}},
		{255, []byte{0x18, 0xff}},
		{256, []byte{0x19, 1, 0}},
		{math.MaxUint16 + 1, []byte{0x1a, 0, 1, 0, 0}},
		{math.MaxUint32 + 1, []byte{0x1b, 0, 0, 0, 1, 0, 0, 0, 0}},
	}
	for _, tt := range tests {
		got := cborHead(nil, cborUint, tt.n)
		if !bytes.Equal(got, tt.want) {
			t.Errorf("cborHead(uint, %d) = %x, want %x", tt.n, got, tt.want)
		}
		if want := mustMarshal(tt.n); !bytes.Equal(got, want) {
			t.Errorf("cborHead(uint, %d) = %x, ledger.Marshal = %x", tt.n, got, want)
		}
	}
}

// BenchmarkEncodeRecords encodes the Redis records of a block of 1,000
// transfers: what every node does for every block it applies.
func BenchmarkEncodeRecords(b *testing.B) {
	chain := newTestChain(22, 1000, 100)
	block := chain.nextBlock(1000).Block
	b.ReportAllocs()
	for b.Loop() {
		encodeRecords(block)
	}
}
