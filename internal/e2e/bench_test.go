package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/contracts/token"
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
	for _, mode := range []string{"saturated", "half-load"} {
		b.Run(mode, func(b *testing.B) {
			c, keys, leader := benchProcessCluster(b)
			cl := client.New(leader, client.WithMaxConns(64))
			txs := signTransfers(keys, c.ChainID(), b.N)
			b.ResetTimer()
			start := time.Now()
			var lat []time.Duration
			if mode == "saturated" {
				lat = sendClosedLoop(b, cl, txs, 1000, 8)
			} else {
				lat = sendOpenLoop(b, cl, txs, 50, 12_500)
			}
			b.ReportMetric(float64(len(txs))/time.Since(start).Seconds(), "transfers/s")
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
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
		funding[i] = signedTransfer(c.ChainID(), faucet, uint64(i), keys[i].Address, 100_000_000_000)
	}
	sendClosedLoop(b, client.New(n.URL), funding, 1000, 1)
	return c, keys, n.URL
}

// signTransfers signs n transfers round-robin over keys (tx i is sent by
// key i%len(keys) with nonce i/len(keys)), on both cores.
func signTransfers(keys []*ledger.Key, chainID string, n int) []*ledger.Tx {
	txs := make([]*ledger.Tx, n)
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := w; i < n; i += 2 {
				from, to := keys[i%len(keys)], keys[(i+1)%len(keys)]
				txs[i] = signedTransfer(chainID, from, uint64(i/len(keys)), to.Address, uint64(1+i%7))
			}
		})
	}
	wg.Wait()
	return txs
}

func signedTransfer(chainID string, from *ledger.Key, nonce uint64, to ledger.Address, amount uint64) *ledger.Tx {
	tx := &ledger.Tx{
		ChainID: chainID, Chain: ledger.Hot, Nonce: nonce, From: from.Address,
		Contract: token.Address, Function: token.FuncTransfer,
		Args: token.EncodeTransfer(to, amount), GasLimit: token.TransferGas,
	}
	tx.Sign(from.Private)
	return tx
}

// sendClosedLoop sends txs in batches with workers requests at a time and
// returns each batch's time from submission to commit.
func sendClosedLoop(tb testing.TB, c *client.Client, txs []*ledger.Tx, batch, workers int) []time.Duration {
	jobs := make(chan []*ledger.Tx)
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	errs := make(chan error, len(txs)/batch+1)
	for range workers {
		wg.Go(func() {
			for txs := range jobs {
				start := time.Now()
				if err := commitBatch(c, txs); err != nil {
					errs <- err
				}
				mu.Lock()
				lat = append(lat, time.Since(start))
				mu.Unlock()
			}
		})
	}
	for lo := 0; lo < len(txs); lo += batch {
		jobs <- txs[lo:min(lo+batch, len(txs))]
	}
	close(jobs)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		tb.Fatalf("%v (and %d more failed batches)", err, len(errs))
	}
	return lat
}

// sendOpenLoop sends txs in batches at rate transfers per second, each on
// its own goroutine, and returns each batch's time from submission to
// commit.
func sendOpenLoop(tb testing.TB, c *client.Client, txs []*ledger.Tx, batch int, rate float64) []time.Duration {
	every := time.Duration(float64(batch) / rate * float64(time.Second))
	lat := make([]time.Duration, (len(txs)+batch-1)/batch)
	errs := make(chan error, len(lat))
	var wg sync.WaitGroup
	next := time.Now()
	for i, lo := 0, 0; lo < len(txs); i, lo = i+1, lo+batch {
		time.Sleep(time.Until(next))
		next = next.Add(every)
		wg.Go(func() {
			start := time.Now()
			if err := commitBatch(c, txs[lo:min(lo+batch, len(txs))]); err != nil {
				errs <- err
			}
			lat[i] = time.Since(start)
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		tb.Fatalf("%v (and %d more failed batches)", err, len(errs))
	}
	return lat
}

// commitBatch submits txs with ?wait=commit and fails unless every one
// was committed.
func commitBatch(c *client.Client, txs []*ledger.Tx) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := c.SubmitWait(ctx, txs...)
	if err != nil {
		return err
	}
	for i, r := range res {
		if err := client.ResultError(r); err != nil || r.Status != "committed" {
			return fmt.Errorf("tx %d: status %s, %v", i, r.Status, err)
		}
	}
	return nil
}
