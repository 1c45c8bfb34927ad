package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/consensus"
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/internal/redistest"
	"github.com/dualchain/dualchain/ledger"
)

// benchAccounts is how many funded senders the end-to-end benchmark uses.
const benchAccounts = 4096

// benchGenesis writes a genesis funding n deterministic accounts and
// returns their keys.
func benchGenesis(tb testing.TB, dir string, n int) []*ledger.Key {
	tb.Helper()
	keys := benchGenesisKeys(n)
	g := &ledger.Genesis{ChainID: DefaultConfig().ChainID, Time: time.Unix(0, 0).UTC()}
	for _, k := range keys {
		g.Alloc = append(g.Alloc, ledger.Allocation{Address: k.Address, Amount: 1 << 40})
	}
	if err := ledger.WriteGenesisFile(filepath.Join(dir, GenesisFile), g); err != nil {
		tb.Fatal(err)
	}
	return keys
}

// presign signs n transfers round-robin over keys: tx i is sent by key
// i%len(keys) with nonce i/len(keys), so consecutive batches keep every
// sender's nonces close together.
func presign(keys []*ledger.Key, n int) []*ledger.Tx {
	txs := make([]*ledger.Tx, n)
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := w; i < n; i += 2 {
				from, to := keys[i%len(keys)], keys[(i+1)%len(keys)]
				txs[i] = transfer(from, uint64(i/len(keys)), to.Address, uint64(1+i%7)) // amounts vary so balances change
			}
		})
	}
	wg.Wait()
	return txs
}

// BenchmarkEndToEnd measures committed signed transfers per second
// through a single dev node's HTTP API: pre-signed batches of 1,000
// submitted as CBOR with ?wait=commit by a bounded pool of workers over
// keep-alive connections. Its rows are the study's table: the native
// function and the VM (every transfer metered in a clean module state),
// against the embedded in-memory store and real Redis.
func BenchmarkEndToEnd(b *testing.B) {
	for _, store := range []string{"memory", "redis"} {
		for _, exec := range []string{ExecNative, ExecVM} {
			b.Run(store+"/"+exec, func(b *testing.B) {
				cfg := benchConfig(b.TempDir())
				cfg.Dev = false
				cfg.Exec = exec
				cfg.BlockInterval = 5 * time.Millisecond
				cfg.Store = store
				if store == "redis" {
					cfg.RedisURL = redistest.Start(b).URL()
				}
				endToEnd(b, cfg)
			})
		}
	}
}

// benchConfig is TestConfig with Raft's loopback settings: snapshots as
// rare as a real node's, on the default log segment size.
func benchConfig(dir string) Config {
	cfg := TestConfig(dir)
	cfg.Raft = consensus.LoopbackConfig()
	cfg.Exec = ExecNative
	return cfg
}

// BenchmarkCluster measures committed signed transfers per second through
// a three-node cluster on real TCP, in this process, each node with its own
// redis-server and its Raft log fsynced; the transactions go to the leader
// (signatures checked once, there). Each batch's time from submission to
// commit is reported as p50 and p99. "saturated" keeps 8 batches of 1,000
// in flight; "half-load" sends batches of 50 at a fixed 12,500 transfers/s
// (half the 25,000/s target) however fast they commit.
func BenchmarkCluster(b *testing.B) {
	b.Run("saturated", func(b *testing.B) {
		c, keys := benchCluster(b)
		cl := client.New(c.nodes[c.leader()].URL(), client.WithMaxConns(16))
		txs := presign(keys, b.N)
		b.ResetTimer()
		start := time.Now()
		lat := submitAll(b, cl, txs, 1000, 8)
		b.ReportMetric(float64(len(txs))/time.Since(start).Seconds(), "transfers/s")
		b.StopTimer()
		reportLatency(b, lat)
	})
	b.Run("half-load", func(b *testing.B) {
		c, keys := benchCluster(b)
		cl := client.New(c.nodes[c.leader()].URL(), client.WithMaxConns(64))
		txs := presign(keys, b.N)
		b.ResetTimer()
		start := time.Now()
		lat := submitAtRate(b, cl, txs, 50, 12_500)
		b.ReportMetric(float64(len(txs))/time.Since(start).Seconds(), "transfers/s")
		b.StopTimer()
		reportLatency(b, lat)
	})
}

// benchCluster starts three nodes on Redis with a genesis funding
// benchAccounts keys.
func benchCluster(b *testing.B) (*testCluster, []*ledger.Key) {
	var keys []*ledger.Key
	c := startCluster(b, 3, func(cfg *Config) {
		*cfg = withDirAndAddrs(benchConfig(cfg.DataDir), *cfg)
		cfg.Store, cfg.RedisURL = "redis", redistest.Start(b).URL()
		if keys == nil {
			if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
				b.Fatal(err)
			}
			keys = benchGenesis(b, cfg.DataDir, benchAccounts)
		}
	})
	return c, keys
}

// submitAtRate submits txs in batches at rate transfers per second, each
// batch on its own goroutine (an open loop: a slow commit does not slow
// the sending), and returns each batch's time from submission to commit.
func submitAtRate(tb testing.TB, c *client.Client, txs []*ledger.Tx, batch int, rate float64) []time.Duration {
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
			if err := submitBatch(c, txs[lo:min(lo+batch, len(txs))]); err != nil {
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

// withDirAndAddrs is cfg with the data dir, id, addresses and token of from.
func withDirAndAddrs(cfg, from Config) Config {
	cfg.DataDir, cfg.NodeID, cfg.HTTPAddr, cfg.RaftAddr, cfg.AdminToken = from.DataDir, from.NodeID, from.HTTPAddr, from.RaftAddr, from.AdminToken
	cfg.Dev = from.Dev
	return cfg
}

// reportLatency reports the median and 99th percentile of lat.
func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

func endToEnd(b *testing.B, cfg Config) {
	keys := benchGenesis(b, cfg.DataDir, benchAccounts)
	n := startNode(b, cfg)
	c := client.New("http://"+n.Addr().String(), client.WithMaxConns(16))
	txs := presign(keys, b.N)
	b.ResetTimer()
	start := time.Now()
	submitAll(b, c, txs, 1000, 8)
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(len(txs))/elapsed.Seconds(), "transfers/s")
}

// submitAll submits txs in batches with workers concurrent requests and
// waits for every receipt. It returns each batch's time from submission to
// commit.
func submitAll(tb testing.TB, c *client.Client, txs []*ledger.Tx, batch, workers int) []time.Duration {
	jobs := make(chan []*ledger.Tx)
	var wg sync.WaitGroup
	errs := make(chan error, len(txs)/batch+1)
	var mu sync.Mutex
	var lat []time.Duration
	for range workers {
		wg.Go(func() {
			for txs := range jobs {
				start := time.Now()
				if err := submitBatch(c, txs); err != nil {
					errs <- err
				}
				d := time.Since(start)
				mu.Lock()
				lat = append(lat, d)
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

func submitBatch(c *client.Client, txs []*ledger.Tx) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := c.SubmitWait(ctx, txs...)
	if err != nil {
		codes := make(map[string]int)
		for _, r := range res {
			if r.Error != nil {
				codes[r.Error.Code+": "+r.Error.Message]++
			}
		}
		if len(codes) > 3 {
			codes = map[string]int{fmt.Sprintf("%d different errors", len(codes)): len(res)}
		}
		return fmt.Errorf("%w %v", err, codes)
	}
	for i, r := range res {
		if err := client.ResultError(r); err != nil || r.Status != "committed" {
			return fmt.Errorf("tx %d: status %s, %v", i, r.Status, err)
		}
	}
	return nil
}

// BenchmarkExecute measures native transfer execution alone: a block of
// 10,000 transfers run against values already read, including the write
// set and the state commitment update, without I/O.
func BenchmarkExecute(b *testing.B) {
	keys := benchGenesisKeys(benchAccounts)
	txs := presign(keys, 10_000)
	pending := make([]pendingTx, len(txs))
	for i, tx := range txs {
		pending[i] = pendingTx{tx: tx, id: tx.ID()}
	}
	base := tokenState(state{})
	for _, k := range keys {
		base[string(token.BalanceKey(k.Address))] = ledger.EncodeUint64(1 << 40)
	}
	d := testDispatcher(b)
	d.mode = ExecNative
	b.ResetTimer()
	for b.Loop() {
		executeIn(b, d, hotchain.Meta{}, base, pending)
	}
	b.ReportMetric(float64(b.N*len(txs))/b.Elapsed().Seconds(), "transfers/s")
}

// benchGenesisKeys makes the keys benchGenesis funds, without a file.
func benchGenesisKeys(n int) []*ledger.Key {
	keys := make([]*ledger.Key, n)
	for i := range keys {
		seed := make([]byte, 32)
		seed[0], seed[1], seed[2] = 0xbe, byte(i>>8), byte(i)
		keys[i] = ledger.KeyFromSeed(seed)
	}
	return keys
}
