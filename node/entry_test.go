package node

import (
	"bytes"
	"fmt"
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
		name   string
		txs    []pendingTx
		traced []uint32 // the indexes of the txs given a trace
	}{
		{"empty", nil, nil},
		{"one transfer", txs(alice, bob, 0, 5), nil},
		{"a failed transfer among others", txs(alice, bob, 0, 1, 1<<62, 2), nil},
		{"one transfer traced", txs(alice, bob, 0, 5), []uint32{0}},
		{"some traced", txs(alice, bob, 0, 1, 1<<62, 2), []uint32{0, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := executeIn(t, d, hotchain.Meta{Height: 4}, tokenState(state{}), tt.txs)
			ex.traces = testTraces(tt.traced...)
			data, block, err := encodeBlockEntry(ex)
			if err != nil {
				t.Fatal(err)
			}
			c, _ := ex.commitment.MarshalBinary()
			var want []byte
			if len(tt.traced) == 0 { // an entry without traces is what it was before traces
				want, err = ledger.Marshal(entry{Kind: entryHotBlock, Block: ex.block.Encode(), Commitment: c})
			} else {
				want, err = ledger.Marshal(tracedEntry{Kind: entryHotBlock, Block: ex.block.Encode(), Commitment: c, Traces: ex.traces})
			}
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
			if _, ok := decodeBlockEntry(9, data); !ok {
				t.Fatal("decodeBlockEntry refused what encodeBlockEntry wrote")
			}
			if got.update.Block.Header.Hash() != ex.block.Header.Hash() || got.update.Commitment != ex.commitment {
				t.Fatalf("decodeEntry = block %+v, want %+v and the commitment", got.update.Block.Header, ex.block.Header)
			}
			if len(got.traces) != len(ex.traces) || (len(ex.traces) > 0 && !reflect.DeepEqual(got.traces, ex.traces)) {
				t.Fatalf("decodeEntry traces = %+v, want %+v", got.traces, ex.traces)
			}
		})
	}
}

// testTraces returns a trace for each index given, different for each.
func testTraces(indexes ...uint32) []hotchain.TxTrace {
	var out []hotchain.TxTrace
	for _, i := range indexes {
		t := ledger.Trace{Dropped: uint64(i)}
		for f := range 1 + i {
			t.Frames = append(t.Frames, ledger.Frame{Depth: min(f, 1), Function: fmt.Sprintf("f%d", f),
				MemBefore: 65536, MemAfter: 131072, GrowPages: 1, GrowGas: 7, Gas: 100 + uint64(i), Loads: uint64(f), Stores: 2})
		}
		out = append(out, hotchain.TxTrace{Index: i, Trace: t})
	}
	return out
}

// TestDecodeEntryBadTraces checks that an entry whose traces cannot be
// the block's fails to decode, by both decoders alike.
func TestDecodeEntryBadTraces(t *testing.T) {
	alice, bob := testKey(1), testKey(2)
	ex := executeIn(t, testDispatcher(t), hotchain.Meta{Height: 4}, tokenState(state{}), txs(alice, bob, 0, 1, 2))
	c, _ := ex.commitment.MarshalBinary()
	tests := []struct {
		name string
		e    tracedEntry
	}{
		{"no traces", tracedEntry{Traces: []hotchain.TxTrace{}}},
		{"index past the block", tracedEntry{Traces: testTraces(2)}},
		{"out of order", tracedEntry{Traces: append(testTraces(1), testTraces(0)...)}},
		{"too many frames", tracedEntry{Traces: []hotchain.TxTrace{{Trace: ledger.Trace{Frames: make([]ledger.Frame, ledger.MaxTraceFrames+1)}}}}},
		{"with a member", tracedEntry{Member: &memberInfo{ID: "n1"}, Traces: testTraces(0)}},
		{"a member entry", tracedEntry{Kind: entryMember, Member: &memberInfo{ID: "n1"}, Traces: testTraces(0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.e
			if e.Kind == 0 {
				e.Kind, e.Block, e.Commitment = entryHotBlock, ex.block.Encode(), c
			}
			data, err := ledger.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			checkDecodeEntry(t, data)
			if _, err := decodeEntry(3, data); err == nil {
				t.Fatalf("decodeEntry(%s) succeeded, want an error", tt.name)
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
	for _, p := range []struct {
		txs    []pendingTx
		traced []uint32
	}{{nil, nil}, {txs(alice, bob, 0, 5), nil}, {txs(alice, bob, 0, 1, 1<<62, 2), nil}, {txs(alice, bob, 0, 1, 1<<62, 2), []uint32{1, 2}}} {
		ex := executeIn(t, d, hotchain.Meta{Height: 4}, tokenState(state{}), p.txs)
		ex.traces = testTraces(p.traced...)
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
	if !bytes.Equal(got.block, want.block) || !reflect.DeepEqual(got.update, want.update) || !reflect.DeepEqual(got.traces, want.traces) ||
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
