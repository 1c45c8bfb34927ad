package node

import (
	"fmt"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

// BenchmarkFold folds the write sets of a checkpoint interval into dirty
// (blocks of 5,000 writes over 12,000 keys, as under load) and starts the
// next interval, as every node does for every block and cold block.
func BenchmarkFold(b *testing.B) {
	const keys, perBlock, blocks = 12_000, 5_000, 8
	sets := make([][]ledger.Write, blocks)
	for j := range sets {
		sets[j] = make([]ledger.Write, perBlock)
		for i := range sets[j] {
			k := (j*perBlock + i) % keys
			sets[j][i] = ledger.Write{Key: fmt.Appendf(nil, "s%063d", k), Value: []byte{byte(j)}}
		}
	}
	s := &stateMachine{}
	b.ReportAllocs()
	for b.Loop() {
		for _, w := range sets {
			s.fold(w)
		}
		s.nextInterval()
	}
}

// BenchmarkWriteSet builds the sorted write set of a block that changed
// 5,000 of 12,000 keys read, as the producer does for every block.
func BenchmarkWriteSet(b *testing.B) {
	o := &overlay{base: make(map[string][]byte), writes: make(map[string][]byte)}
	for k := range 12_000 {
		o.base[fmt.Sprintf("s%063d", k*7919%12_000)] = []byte{1}
	}
	for k := range 5_000 {
		o.writes[fmt.Sprintf("s%063d", k*7919%12_000)] = []byte{2}
	}
	b.ReportAllocs()
	for b.Loop() {
		writeSet(o)
	}
}
