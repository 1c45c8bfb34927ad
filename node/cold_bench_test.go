package node

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/internal/loadgen"
	"github.com/dualchain/dualchain/ledger"
)

// BenchmarkColdTransfers measures committed signed cold transfers per
// second through a dev node's HTTP API: every cold block is one synced
// Pebble batch on this machine's disk. benchAccounts senders are funded on
// the cold chain first (a settle each, checkpointed); then pre-signed
// batches of 1,000 go in with ?wait=commit from 8 workers.
func BenchmarkColdTransfers(b *testing.B) {
	cfg := benchConfig(b.TempDir())
	cfg.Dev = false
	keys := benchGenesis(b, cfg.DataDir, benchAccounts)
	n := startNode(b, cfg)
	be := backend{n.Node}
	ctx := context.Background()

	settles := make([]*ledger.Tx, len(keys))
	for i, k := range keys {
		settles[i] = bridgeTx(k, ledger.Hot, 0, 1<<30)
	}
	c := client.New("http://"+n.Addr().String(), client.WithMaxConns(16))
	if _, err := loadgen.ClosedLoop(c, settles, 1000, 4); err != nil {
		b.Fatal(err)
	}
	last := settles[len(settles)-1].ID()
	deadline := time.Now().Add(30 * time.Second)
	for st, err := be.BridgeTransfer(ctx, last); err != nil || !st.Done(); st, err = be.BridgeTransfer(ctx, last) {
		if time.Now().After(deadline) {
			b.Fatalf("settles not checkpointed: %+v %v", st, err)
		}
		time.Sleep(10 * time.Millisecond)
	}

	txs := make([]*ledger.Tx, b.N)
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := w; i < b.N; i += 2 {
				from, to := keys[i%len(keys)], keys[(i+1)%len(keys)]
				txs[i] = coldTransfer(from, uint64(i/len(keys)), to.Address, uint64(1+i%7))
			}
		})
	}
	wg.Wait()
	b.ResetTimer()
	start := time.Now()
	if _, err := loadgen.ClosedLoop(c, txs, 1000, 8); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(len(txs))/elapsed.Seconds(), "transfers/s")
	b.ReportMetric(float64(n.cold.chain.Head().Height), "cold-blocks")
}
