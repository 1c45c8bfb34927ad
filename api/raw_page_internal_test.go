package api

import (
	"bytes"
	"errors"
	"testing"

	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
)

// TestRawBlocksPageCBOR holds the hand-written range page encoder to
// ledger.Marshal, and its size bound to what it writes.
func TestRawBlocksPageCBOR(t *testing.T) {
	full := benchPage(3, 4, 11)
	full.Next = 1 << 40
	tests := []struct {
		name string
		page *RawBlocksPage
	}{
		{"nil", &RawBlocksPage{}},
		{"empty", &RawBlocksPage{Blocks: []ledger.Block{}, Traces: []BlockTxTrace{}}},
		{"blocks, no traces", &RawBlocksPage{Blocks: full.Blocks, Next: 24}},
		{"blocks and traces", full},
		{"a trace of no frames", &RawBlocksPage{Traces: []BlockTxTrace{{Height: 1 << 33, Index: 1 << 20, Trace: ledger.Trace{Dropped: 9}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := ledger.Marshal(tt.page)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tt.page.appendCBOR([]byte{0xaa})
			if err != nil || got[0] != 0xaa || !bytes.Equal(got[1:], want) {
				t.Fatalf("appendCBOR = %x, %v; want %x", got[1:], err, want)
			}
			if len(want) > tt.page.encodedSize() {
				t.Errorf("encodedSize() = %d, encoding of %d bytes", tt.page.encodedSize(), len(want))
			}
		})
	}
}

// benchPage makes a page of blocks of txs token transfers each, every one
// traced with a trace of frames frames, as a node running its token in
// the VM with --vm-trace serves them.
func benchPage(blocks, txs, frames int) *RawBlocksPage {
	p := &RawBlocksPage{}
	for h := uint64(1); h <= uint64(blocks); h++ {
		b := ledger.Block{Header: ledger.Header{ChainID: "dualchain-bench", Height: h, Time: int64(h) * 1e9,
			Parent: ledger.Hash{byte(h)}, TxRoot: ledger.Hash{2}, ResultRoot: ledger.Hash{3}, Commitment: ledger.Hash{4}}}
		for i := range txs {
			b.Txs = append(b.Txs, benchTransfer(h, i))
			p.Traces = append(p.Traces, BlockTxTrace{Height: h, Index: uint32(i), Trace: benchTrace(h, i, frames)})
		}
		for i := range b.Txs {
			tx := &b.Txs[i]
			b.Receipts = append(b.Receipts, ledger.Receipt{TxID: tx.ID(), GasUsed: 2400 + uint64(i%7), Path: ledger.PathVM,
				Events: []ledger.Event{{Name: "Transfer", Data: append(tx.From[:], tx.Args...)}}})
			b.Writes = append(b.Writes, ledger.Write{Key: append([]byte("b/"), tx.From[:]...), Value: ledger.Bytes{byte(i), 1, 2, 3}})
		}
		p.Blocks = append(p.Blocks, b)
	}
	return p
}

func benchTransfer(h uint64, i int) ledger.Tx {
	from := ledger.Address{byte(h), byte(h >> 8), byte(i), byte(i >> 8), 7}
	to := ledger.Address{9, byte(i), byte(i >> 8), byte(h)}
	tx := ledger.Tx{ChainID: "dualchain-bench", Chain: ledger.Hot, Nonce: h*10_000 + uint64(i), From: from,
		Contract: token.Address, Function: token.FuncTransfer, Args: token.EncodeTransfer(to, 1+uint64(i)), GasLimit: 50_000}
	for j := range tx.Sig {
		tx.Sig[j] = byte(i + j)
	}
	return tx
}

// benchTrace is what a token transfer's trace looks like: the export,
// then nested helpers (frames in all).
func benchTrace(h uint64, i, frames int) ledger.Trace {
	names := []string{"transfer", "read_args", "balance_of", "load", "sub", "store", "balance_of", "load", "add", "store", "emit"}
	t := ledger.Trace{Frames: make([]ledger.Frame, frames)}
	for j := range t.Frames {
		t.Frames[j] = ledger.Frame{Depth: uint32(min(j, 1+j%3)), Function: names[j%len(names)],
			MemBefore: 1 << 17, MemAfter: 1 << 17, Gas: 100 + h + uint64(i+j), Loads: uint64(12 + j), Stores: uint64(j % 5)}
	}
	return t
}

// FuzzRawBlocksPage decodes outside input as a client does a CBOR range
// page: nothing panics (Views included), and a page that decodes encodes
// by hand as ledger.Marshal does, and decodes back to itself.
func FuzzRawBlocksPage(f *testing.F) {
	for _, p := range []*RawBlocksPage{{}, benchPage(1, 2, 3), benchPage(2, 1, 0)} {
		enc, _ := p.appendCBOR(nil)
		f.Add(enc)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p RawBlocksPage
		if ledger.Unmarshal(data, &p) != nil {
			return
		}
		if _, err := p.Views(); err != nil && !errors.Is(err, ErrBadPageTraces) {
			t.Fatalf("Views() = %v", err)
		}
		got, _ := p.appendCBOR(nil)
		want, err := ledger.Marshal(&p)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("appendCBOR = %x, Marshal = %x, %v", got, want, err)
		}
		var back RawBlocksPage
		if err := ledger.Unmarshal(got, &back); err != nil || !bytes.Equal(mustAppend(&back), got) {
			t.Fatalf("decoding appendCBOR's %x = %v", got, err)
		}
	})
}

func mustAppend(p *RawBlocksPage) []byte {
	b, _ := p.appendCBOR(nil)
	return b
}
