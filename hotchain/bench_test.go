package hotchain

import (
	"context"
	"fmt"
	"testing"

	"github.com/dualchain/dualchain/internal/redistest"
)

// BenchmarkApply measures Store.Apply for blocks of n token transfers, each
// writing 3 distinct keys (sender nonce, sender balance, recipient balance)
// and one tx record. Building the blocks (execution, tx ids, commitment) is
// not timed.
//
//	go test -run '^$' -bench 'BenchmarkApply' -count 5 ./hotchain/
func BenchmarkApply(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B) Store
	}{
		{"memory", func(b *testing.B) Store { return NewMemoryStore() }},
		{"redis", func(b *testing.B) Store { return NewRedisStore(redistest.Shared(b)) }},
		{"pebble", openBenchPebble}, // on disk: every block is a synced write
	}
	for _, st := range stores {
		for _, n := range []int{1_000, 10_000} {
			b.Run(fmt.Sprintf("%s/%d", st.name, n), func(b *testing.B) {
				benchmarkApply(b, st.open(b), n)
			})
		}
	}
}

func benchmarkApply(b *testing.B, s Store, n int) {
	ctx := context.Background()
	defer s.Close()
	chain := newTestChain(1, 2*n, 1<<40)
	chain.sequential = true
	if _, err := s.Open(ctx, chain.gen); err != nil {
		b.Fatalf("Open() = %v", err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		u := chain.nextBlock(n)
		b.StartTimer()
		if ok, err := s.Apply(ctx, u); !ok || err != nil {
			b.Fatalf("Apply(block %d) = %v, %v", u.Block.Header.Height, ok, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "transfers/s")
}
