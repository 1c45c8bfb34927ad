package hotchain

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
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

// chainOf returns blocks 1..n linked by parent hash from genesis.
func chainOf(n int, genesis ledger.Hash) []*ledger.Block {
	out := make([]*ledger.Block, n)
	parent := genesis
	for i := range out {
		b := archivedBlock(uint64(i+1), byte(i+1))
		b.Header.Parent = parent
		parent = b.Header.Hash()
		out[i] = b
	}
	return out
}

// A gap is filled top down: each PutBackfilled archives a block and moves
// the gap to its parent in one step, so what a reopened archive holds
// says where to resume.
func TestArchiveBackfill(t *testing.T) {
	dir := t.TempDir()
	a, err := OpenArchive(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	blocks := chainOf(6, ledger.Hash{0xee})
	for _, b := range blocks[:2] { // 1 and 2 held; 3..5 missing; 6 applied after the snapshot at 5
		if err := a.Put(b, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Put(blocks[5], nil); err != nil {
		t.Fatal(err)
	}
	top := Backfill{Top: 5, Hash: blocks[4].Header.Hash()}
	if err := a.SetBackfill(top); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		height, below uint64
		has           bool
	}{{0, 0, false}, {1, 0, true}, {2, 1, true}, {3, 2, false}, {5, 2, false}, {6, 2, true}, {7, 6, false}} {
		if got, err := a.HeldBelow(tt.height); err != nil || got != tt.below {
			t.Errorf("HeldBelow(%d) = %d, %v; want %d", tt.height, got, err, tt.below)
		}
		if got, err := a.Has(tt.height); err != nil || got != tt.has {
			t.Errorf("Has(%d) = %v, %v; want %v", tt.height, got, err, tt.has)
		}
	}
	if err := a.PutBackfilled(blocks[3], nil, top); err == nil {
		t.Fatal("PutBackfilled(block 4, gap from 5) = nil, want an error: it is not the gap's top")
	}
	raw := blocks[4].Encode()
	if err := a.PutBackfilled(blocks[4], raw, top); err != nil {
		t.Fatalf("PutBackfilled(5) = %v", err)
	}
	if err := a.Close(); err != nil { // a crash here resumes from the moved gap
		t.Fatal(err)
	}
	if a, err = OpenArchive(dir, nil); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	gaps, err := a.Backfills()
	if want := []Backfill{{Top: 4, Hash: blocks[3].Header.Hash()}}; err != nil || !slices.Equal(gaps, want) {
		t.Fatalf("Backfills() after block 5 = %v, %v; want %v", gaps, err, want)
	}
	if got, err := a.RawBlock(5); err != nil || !bytes.Equal(got, raw) {
		t.Fatalf("RawBlock(5) = %x, %v; want the bytes put", got, err)
	}
	if rec, err := a.Tx(ledger.Hash{5}); err != nil || rec.Height != 5 {
		t.Fatalf("Tx of backfilled block 5 = %+v, %v; want it indexed", rec, err)
	}
	if err := a.PutBackfilled(blocks[4], raw, Backfill{Top: 5}); err == nil {
		t.Fatal("PutBackfilled of a held block = nil, want an error")
	}
	if _, err := a.RawBlock(4); !errors.Is(err, ErrNotFound) {
		t.Fatalf("RawBlock(4) = %v, want %v", err, ErrNotFound)
	}
	if err := a.ClearBackfill(4); err != nil {
		t.Fatal(err)
	}
	if gaps, err := a.Backfills(); err != nil || len(gaps) != 0 {
		t.Fatalf("Backfills() after clearing = %v, %v; want none", gaps, err)
	}
}

// Several gaps come out highest first; the gap at height 1 ends with the
// block: nothing is left to fetch below it.
func TestArchiveBackfills(t *testing.T) {
	a, err := OpenArchive(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	blocks := chainOf(3, ledger.Hash{0xee})
	if err := a.SetBackfill(Backfill{}); err == nil {
		t.Fatal("SetBackfill(top 0) = nil, want an error")
	}
	for _, m := range []Backfill{{Top: 1, Hash: blocks[0].Header.Hash()}, {Top: 300, Hash: ledger.Hash{3}}, {Top: 20, Hash: ledger.Hash{2}}} {
		if err := a.SetBackfill(m); err != nil {
			t.Fatal(err)
		}
	}
	gaps, err := a.Backfills()
	if want := []Backfill{{Top: 300, Hash: ledger.Hash{3}}, {Top: 20, Hash: ledger.Hash{2}}, {Top: 1, Hash: blocks[0].Header.Hash()}}; err != nil || !slices.Equal(gaps, want) {
		t.Fatalf("Backfills() = %v, %v; want %v", gaps, err, want)
	}
	if err := a.PutBackfilled(blocks[0], blocks[0].Encode(), gaps[2]); err != nil {
		t.Fatal(err)
	}
	if gaps, err = a.Backfills(); err != nil || len(gaps) != 2 {
		t.Fatalf("Backfills() after block 1 = %v, %v; want the two above", gaps, err)
	}
}
