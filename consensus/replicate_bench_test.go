package consensus_test

import (
	"io"
	"sync/atomic"
	"testing"

	"github.com/dualchain/dualchain/consensus"
)

// countFSM counts entries and keeps nothing, so the benchmark measures
// replication, not the state machine.
type countFSM struct{ n atomic.Uint64 }

func (f *countFSM) Apply(consensus.Entry) error { f.n.Add(1); return nil }
func (f *countFSM) Snapshot() (consensus.Snapshot, error) {
	return countSnapshot{}, nil
}
func (f *countFSM) Restore(r io.Reader) error { _, err := io.Copy(io.Discard, r); return err }

type countSnapshot struct{}

func (countSnapshot) Persist(w io.Writer) error { _, err := w.Write([]byte("count")); return err }
func (countSnapshot) Release()                  {}

// BenchmarkReplicate commits 200 KB entries on a 3-replica group on
// loopback, every log write fsynced, from 16 concurrent proposers on the
// leader (Raft batches what is queued). An entry counts once it is
// committed and applied on the leader.
//
//	go test ./consensus -run '^$' -bench BenchmarkReplicate -benchtime 2000x -count 5
func BenchmarkReplicate(b *testing.B) {
	const entrySize = 200 << 10
	for _, kind := range []consensus.StoreKind{consensus.StoreWAL, consensus.StoreBolt} {
		b.Run(string(kind), func(b *testing.B) {
			cfg := consensus.LoopbackConfig()
			cfg.BindAddr = "127.0.0.1:0"
			cfg.LogStore = kind
			c := newCluster(b, 3, cfg, func() consensus.FSM { return new(countFSM) }, nil)
			ctx := b.Context()
			leader := c.reps[c.waitLeader(ctx)]
			entry := make([]byte, entrySize)
			b.SetBytes(entrySize)
			b.SetParallelism(8) // 8 × GOMAXPROCS proposers
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := leader.Apply(ctx, entry); err != nil {
						b.Errorf("Apply = %v, want nil", err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
