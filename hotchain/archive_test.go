package hotchain

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

// archivedBlock is a block at height with one receipt per tx id.
func archivedBlock(height uint64, ids ...byte) *ledger.Block {
	b := &ledger.Block{Header: ledger.Header{ChainID: "c", Height: height, Time: int64(height)}}
	for i, id := range ids {
		b.Txs = append(b.Txs, ledger.Tx{ChainID: "c", Nonce: uint64(i), Function: "f"})
		b.Receipts = append(b.Receipts, ledger.Receipt{TxID: ledger.Hash{id}, Status: ledger.StatusOK, GasUsed: uint64(id)})
	}
	return b
}

func TestArchive(t *testing.T) {
	dir := t.TempDir()
	a, err := OpenArchive(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	b1, b2 := archivedBlock(1, 10, 11), archivedBlock(2, 20)
	for _, b := range []*ledger.Block{b1, b2, b1} { // a replay puts b1 again
		if err := a.Put(b, nil); err != nil {
			t.Fatalf("Put(%d) = %v", b.Header.Height, err)
		}
	}
	// A block skipped as stale at height 2 never replaces the chain's.
	if err := a.Put(archivedBlock(2, 99), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Tx(ledger.Hash{99}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Tx of a second block at a height = %v, want %v", err, ErrNotFound)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	a, err = OpenArchive(dir, nil) // it survives a reopen
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	got, err := a.Block(2)
	if err != nil || got.Header.Height != 2 || len(got.Receipts) != 1 || got.Receipts[0].TxID != (ledger.Hash{20}) {
		t.Fatalf("Block(2) = %+v, %v; want the first block put at 2", got, err)
	}
	rec, err := a.Tx(ledger.Hash{11})
	if err != nil || rec.Height != 1 || rec.Index != 1 || rec.Receipt.GasUsed != 11 || rec.Tx.Nonce != 1 {
		t.Fatalf("Tx(11) = %+v, %v; want block 1 index 1", rec, err)
	}
	if _, err := a.Block(3); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Block(3) = %v, want %v", err, ErrNotFound)
	}
	if _, err := a.Tx(ledger.Hash{12}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Tx(12) = %v, want %v", err, ErrNotFound)
	}
}

// BenchmarkArchivePut measures archiving blocks of 1,000 transactions
// with random ids, one after another into one archive (its memtable
// grows as a node's does).
//
//	go test ./hotchain -run '^$' -bench '^BenchmarkArchivePut$' -benchmem -count 5
func BenchmarkArchivePut(b *testing.B) {
	a, err := OpenArchive(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	blocks := make([]*ledger.Block, 64)
	for i := range blocks {
		blk := &ledger.Block{Receipts: make([]ledger.Receipt, 1000)}
		for j := range blk.Receipts {
			for k := range blk.Receipts[j].TxID {
				blk.Receipts[j].TxID[k] = byte(rng.Uint32())
			}
		}
		blocks[i] = blk
	}
	enc := make([]byte, 300_000) // a block's bytes, stored as is
	height := uint64(0)
	for b.Loop() {
		height++
		blk := blocks[height%uint64(len(blocks))]
		blk.Header.Height = height
		for j := range blk.Receipts { // new ids: a tx is archived once
			blk.Receipts[j].TxID[31]++
		}
		if err := a.Put(blk, enc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "txs/s")
}
