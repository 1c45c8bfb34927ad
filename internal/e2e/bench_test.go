package e2e

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/internal/loadgen"
	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/dualchain/dualchain/ledger"
)

// benchSenders is how many funded accounts the cluster benchmark sends from.
const benchSenders = 4096

// BenchmarkClusterProcesses measures committed signed transfers per second
// through a three-node cluster of real node processes started by
// `dualchain cluster up` (each with its own redis-server, fsynced Raft log
// and block archive), sent to the leader from this process; and the p50
// and p99 latency of a batch from submission to commit. "saturated" keeps
// 8 batches of 1,000 in flight; "half-load" sends batches of 50 at a fixed
// 12,500 transfers/s however fast they commit.
func BenchmarkClusterProcesses(b *testing.B) {
	for _, m := range loadgen.Modes {
		b.Run(m.Name, func(b *testing.B) {
			c, keys, leader := benchProcessCluster(b)
			loadgen.Bench(b, m, leader, loadgen.Presign(keys, c.ChainID(), b.N))
		})
	}
}

// benchProcessCluster starts the cluster, funds benchSenders accounts from
// the faucet, and returns their keys and the leader's URL.
func benchProcessCluster(b *testing.B) (*localcluster.Cluster, []*ledger.Key, string) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := localcluster.Up(ctx, localcluster.Options{
		Binary: binary(b), Dir: filepath.Join(b.TempDir(), "cluster"), Nodes: 3, Store: localcluster.StoreRedis,
	})
	if err != nil {
		b.Fatalf("localcluster.Up = %v", err)
	}
	b.Cleanup(func() {
		if err := c.Down(context.Background()); err != nil {
			b.Errorf("Down = %v", err)
		}
	})
	id, err := c.Leader(ctx)
	if err != nil {
		b.Fatal(err)
	}
	n, _ := c.Node(id)
	faucet, err := ledger.LoadKeyFile(c.FaucetKey())
	if err != nil {
		b.Fatal(err)
	}
	keys := make([]*ledger.Key, benchSenders)
	funding := make([]*ledger.Tx, benchSenders)
	for i := range keys {
		if keys[i], err = ledger.NewKey(); err != nil {
			b.Fatal(err)
		}
		funding[i] = loadgen.Transfer(c.ChainID(), faucet, uint64(i), keys[i].Address, 100_000_000_000)
	}
	if _, err := loadgen.ClosedLoop(client.New(n.URL), funding, 1000, 1); err != nil {
		b.Fatalf("fund the senders: %v", err)
	}
	return c, keys, n.URL
}
