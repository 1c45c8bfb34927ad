package node

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/consensus"
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/internal/loadgen"
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

// benchConfig is TestConfig with a real node's Raft settings (loopback
// timeouts, snapshots as rare as a real node's, the default log segment
// size) and checkpoint interval: a synced cold block a second, not
// TestConfig's twenty, which measured a node no one runs.
func benchConfig(dir string) Config {
	cfg := TestConfig(dir)
	cfg.Raft = consensus.LoopbackConfig()
	cfg.Exec = ExecNative
	cfg.CheckpointInterval = DefaultConfig().CheckpointInterval
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
	for _, m := range loadgen.Modes {
		b.Run(m.Name, func(b *testing.B) {
			c, keys := benchCluster(b)
			txs := loadgen.Presign(keys, DefaultConfig().ChainID, b.N)
			cpu := processCPU()
			loadgen.Bench(b, m, c.nodes[c.leader()].URL(), txs)
			reportCPU(b, cpu, len(txs))
		})
	}
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

// withDirAndAddrs is cfg with the data dir, id, addresses and token of from.
func withDirAndAddrs(cfg, from Config) Config {
	cfg.DataDir, cfg.NodeID, cfg.HTTPAddr, cfg.RaftAddr, cfg.AdminToken = from.DataDir, from.NodeID, from.HTTPAddr, from.RaftAddr, from.AdminToken
	cfg.Dev = from.Dev
	return cfg
}

func endToEnd(b *testing.B, cfg Config) {
	keys := benchGenesis(b, cfg.DataDir, benchAccounts)
	n := startNode(b, cfg)
	c := client.New("http://"+n.Addr().String(), client.WithMaxConns(16))
	txs := loadgen.Presign(keys, DefaultConfig().ChainID, b.N)
	b.ResetTimer()
	start, cpu := time.Now(), processCPU()
	if _, err := loadgen.ClosedLoop(c, txs, 1000, 8); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(len(txs))/elapsed.Seconds(), "transfers/s")
	reportCPU(b, cpu, len(txs))
}

// processCPU is the CPU time this process has used so far, user and
// system, on every core.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time the process (node and load generator;
// redis-server is another process) spent per transfer since since. On a
// shared machine it varies far less than transfers/s, which other work
// on the cores slows down.
func reportCPU(b *testing.B, since time.Duration, transfers int) {
	b.ReportMetric(float64(processCPU()-since)/float64(time.Microsecond)/float64(transfers), "cpu-µs/transfer")
}

// BenchmarkExecute measures native transfer execution alone: a block of
// 10,000 transfers run against values already read, including the write
// set and the state commitment update, without I/O.
func BenchmarkExecute(b *testing.B) {
	keys := benchGenesisKeys(benchAccounts)
	txs := loadgen.Presign(keys, DefaultConfig().ChainID, 10_000)
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
