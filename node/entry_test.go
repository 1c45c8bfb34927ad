package node

import (
	"bytes"
	"reflect"
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

// TestDecodeEntryMatchesGeneric holds decodeEntry, which reads block
// entries by hand, to the generic decoder alone: on block, member and cold
// entries, and on block entries cut short, lengthened or with a byte
// changed, both must fail or both return the same.
func TestDecodeEntryMatchesGeneric(t *testing.T) {
	for i, data := range entrySeeds(t) {
		checkDecodeEntry(t, data)
		for cut := range len(data) {
			checkDecodeEntry(t, data[:cut])
		}
		checkDecodeEntry(t, append(bytes.Clone(data), 0))
		for pos := range len(data) {
			if pos > 300 && pos < len(data)-2100 && pos%97 != 0 {
				continue // the middle of a block: a sample is enough
			}
			for _, x := range []byte{0x01, 0x20, 0x80, 0xff} {
				mutated := bytes.Clone(data)
				mutated[pos] ^= x
				checkDecodeEntry(t, mutated)
			}
		}
		if t.Failed() {
			t.Fatalf("seed %d failed", i)
		}
	}
}

// entrySeeds returns encoded entries of every kind.
func entrySeeds(t testing.TB) [][]byte {
	alice, bob := testKey(1), testKey(2)
	d := testDispatcher(t)
	var seeds [][]byte
	for _, p := range [][]pendingTx{nil, txs(alice, bob, 0, 5), txs(alice, bob, 0, 1, 1<<62, 2)} {
		ex := executeIn(t, d, hotchain.Meta{Height: 4}, tokenState(state{}), p)
		data, _, err := encodeBlockEntry(ex)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, data)
	}
	member, err := encodeMemberEntry(memberInfo{ID: "n1", URL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	cold, err := ledger.Marshal(entry{Kind: entryColdBlock, Cold: &coldEntry{Time: 5}})
	if err != nil {
		t.Fatal(err)
	}
	return append(seeds, member, cold)
}

func checkDecodeEntry(t testing.TB, data []byte) {
	t.Helper()
	got, err := decodeEntry(3, data)
	want, wantErr := decodeEntryGeneric(3, data)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("decodeEntry(%x) error = %v, generic decoder's = %v", data, err, wantErr)
	}
	if !bytes.Equal(got.block, want.block) || !reflect.DeepEqual(got.update, want.update) ||
		!reflect.DeepEqual(got.member, want.member) || !reflect.DeepEqual(got.cold, want.cold) {
		t.Fatalf("decodeEntry(%x) = %+v, generic decoder's = %+v", data, got, want)
	}
}

func FuzzDecodeEntry(f *testing.F) {
	for _, s := range entrySeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkDecodeEntry(t, data) })
}
