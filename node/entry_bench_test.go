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
