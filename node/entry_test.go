package node

import (
	"bytes"
	"testing"

	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/ledger"
)

// TestEncodeBlockEntry holds the hand-written hot block entry to what
// ledger.Marshal makes of the entry struct, and checks that it decodes
// back to the block and commitment.
func TestEncodeBlockEntry(t *testing.T) {
	alice, bob := testKey(1), testKey(2)
	d := testDispatcher(t)
	tests := []struct {
		name string
		txs  []pendingTx
	}{
		{"empty", nil},
		{"one transfer", txs(alice, bob, 0, 5)},
		{"a failed transfer among others", txs(alice, bob, 0, 1, 1<<62, 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := executeIn(t, d, hotchain.Meta{Height: 4}, tokenState(state{}), tt.txs)
			data, block, err := encodeBlockEntry(ex)
			if err != nil {
				t.Fatal(err)
			}
			c, _ := ex.commitment.MarshalBinary()
			want, err := ledger.Marshal(entry{Kind: entryHotBlock, Block: ex.block.Encode(), Commitment: c})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data, want) {
				t.Fatalf("encodeBlockEntry = %x, want %x", data, want)
			}
			if !bytes.Equal(block, ex.block.Encode()) {
				t.Fatalf("encodeBlockEntry block = %x, want %x", block, ex.block.Encode())
			}
			got, err := decodeEntry(9, data)
			if err != nil {
				t.Fatalf("decodeEntry = %v", err)
			}
			if got.update.Block.Header.Hash() != ex.block.Header.Hash() || got.update.Commitment != ex.commitment {
				t.Fatalf("decodeEntry = block %+v, want %+v and the commitment", got.update.Block.Header, ex.block.Header)
			}
		})
	}
}
