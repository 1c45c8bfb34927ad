package node

import (
	"testing"

	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/internal/loadgen"
)

// BenchmarkEncodeBlockEntry measures encoding the log entry of a block of
// 1,000 native transfers, as the leader does for every block it proposes.
//
//	go test ./node -run '^$' -bench '^BenchmarkEncodeBlockEntry$' -benchmem -count 5
func BenchmarkEncodeBlockEntry(b *testing.B) {
	keys := benchGenesisKeys(1000)
	txs := loadgen.Presign(keys, "test", 1000)
	pending := make([]pendingTx, len(txs))
	for i, tx := range txs {
		pending[i] = pendingTx{tx: tx, id: tx.ID()}
	}
	base := tokenState(state{})
	d := testDispatcher(b)
	d.mode = ExecNative
	ex := executeIn(b, d, hotchain.Meta{}, base, pending)
	for b.Loop() {
		if _, _, err := encodeBlockEntry(ex); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeBlockEntry measures reading the log entry of a block of
// 1,000 native transfers, as a follower does for every block it applies:
// decodeEntry against the generic decoder alone.
//
//	go test ./node -run '^$' -bench '^BenchmarkDecodeBlockEntry$' -benchmem -count 5
func BenchmarkDecodeBlockEntry(b *testing.B) {
	keys := benchGenesisKeys(1000)
	txs := loadgen.Presign(keys, "test", 1000)
	pending := make([]pendingTx, len(txs))
	for i, tx := range txs {
		pending[i] = pendingTx{tx: tx, id: tx.ID()}
	}
	d := testDispatcher(b)
	d.mode = ExecNative
	ex := executeIn(b, d, hotchain.Meta{}, tokenState(state{}), pending)
	data, _, err := encodeBlockEntry(ex)
	if err != nil {
		b.Fatal(err)
	}
	for _, bb := range []struct {
		name   string
		decode func(uint64, []byte) (decodedEntry, error)
	}{{"generic", decodeEntryGeneric}, {"decodeEntry", decodeEntry}} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bb.decode(1, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
