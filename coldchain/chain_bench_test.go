package coldchain

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

// The cold chain's benchmarks run on disk (vfs.Default, DefaultConfig,
// every Apply synced), in b.TempDir or, for the large mirror, in
// os.TempDir.

// fundedChain returns a chain on disk whose n accounts each hold 10^12,
// and their addresses.
func fundedChain(b *testing.B, n int) (*Chain, []ledger.Address) {
	b.Helper()
	c := openChain(b, DefaultConfig(b.TempDir()))
	addrs := make([]ledger.Address, n)
	in := BlockInput{Index: 1}
	for i := range addrs {
		addrs[i] = testAddr(i)
		in.Settlements = append(in.Settlements, settlement(fmt.Sprint("fund/", i), addrs[i], 1e12))
	}
	mustApply(b, c, in)
	return c, addrs
}

// BenchmarkColdTransfers: Chain.Apply of a block of N cold transfers
// among 10K funded accounts: the cold chain's durable apply rate.
func BenchmarkColdTransfers(b *testing.B) {
	for _, n := range []int{1_000, 5_000} {
		b.Run(fmt.Sprintf("transfers=%d", n), func(b *testing.B) {
			c, addrs := fundedChain(b, 10_000)
			r := rand.New(rand.NewPCG(61, 62))
			nonces := make([]uint64, len(addrs))
			next := func() BlockInput {
				in := BlockInput{Index: c.AppliedIndex() + 1, Txs: make([]Tx, n)}
				for i := range in.Txs {
					from, to := r.IntN(len(addrs)), r.IntN(len(addrs)-1)
					if to >= from {
						to++
					}
					in.Txs[i] = newTx(TxTransfer, addrs[from], nonces[from], addrs[to], 1+r.Uint64N(1000))
					nonces[from]++
				}
				return in
			}
			in := next()
			for b.Loop() {
				blk, err := c.Apply(in)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				requireAllOK(b, blk, n)
				in = next()
				b.StartTimer()
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "transfers/s")
		})
	}
}

// requireAllOK checks that blk holds n transactions, all of which
// succeeded: the benchmark measured real transfers.
func requireAllOK(b *testing.B, blk *ledger.ColdBlock, n int) {
	b.Helper()
	if blk == nil || len(blk.Receipts) != n {
		b.Fatalf("block holds %v receipts, want %d", blk, n)
	}
	for _, r := range blk.Receipts {
		if r.Status != ledger.StatusOK {
			b.Fatalf("receipt %+v, want ok", r)
		}
	}
}

// The large mirror BenchmarkCheckpoint writes into: built once, kept in
// os.TempDir for later runs, in a directory named for this layout's
// version and the store's format. The benchmark rewrites existing keys
// only, so it stays at mirrorKeys keys.
const (
	mirrorKeys       = 1_000_000
	mirrorValueSize  = 32
	mirrorVersion    = 1 // of what buildMirror writes
	mirrorOwners     = 10_000
	mirrorBuildBlock = 100_000
)

var mirrorBench struct {
	once sync.Once
	c    *Chain
	err  error
}

// mirrorKey is hot key i of the mirror: a balance record's shape.
func mirrorKey(i int) string {
	h := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(i)))
	return "b/" + string(h[:])
}

func mirrorValue(r *rand.Rand) []byte {
	v := make([]byte, mirrorValueSize)
	for i := 0; i < len(v); i += 8 {
		binary.BigEndian.PutUint64(v[i:], r.Uint64())
	}
	return v
}

// mirrorChain returns the chain with the large mirror, opening it, or
// building it if no earlier run left it complete.
func mirrorChain(b *testing.B) *Chain {
	mirrorBench.once.Do(func() {
		name := fmt.Sprintf("dualchain-coldchain-bench-mirror-v%d-format%d", mirrorVersion, storeFormat)
		dir := filepath.Join(os.TempDir(), name)
		mirrorBench.c, mirrorBench.err = openMirrorChain(b, dir)
	})
	if mirrorBench.err != nil {
		b.Fatal(mirrorBench.err)
	}
	return mirrorBench.c
}

func openMirrorChain(b *testing.B, dir string) (*Chain, error) {
	complete := dir + ".complete"
	if _, err := os.Stat(complete); err != nil {
		if err := os.RemoveAll(dir); err != nil {
			return nil, err
		}
	}
	c, err := OpenChain(DefaultConfig(dir), testChainID)
	if errors.Is(err, ErrCorrupt) {
		b.Logf("the mirror in %s does not open (%v): building it again", dir, err)
		if err := errors.Join(os.RemoveAll(complete), os.RemoveAll(dir)); err != nil {
			return nil, err
		}
		c, err = OpenChain(DefaultConfig(dir), testChainID)
	}
	if err != nil {
		return nil, fmt.Errorf("open the benchmark mirror in %s: %w", dir, err)
	}
	if _, err := os.Stat(complete); err == nil {
		return c, nil
	}
	b.Logf("building a mirror of %d keys in %s (once)", mirrorKeys, dir)
	r := rand.New(rand.NewPCG(63, 64))
	for lo := 0; lo < mirrorKeys; lo += mirrorBuildBlock {
		in := BlockInput{Index: c.AppliedIndex() + 1, Mirror: make(map[string][]byte, mirrorBuildBlock)}
		for i := lo; i < min(mirrorKeys, lo+mirrorBuildBlock); i++ {
			in.Mirror[mirrorKey(i)] = mirrorValue(r)
		}
		if _, err := c.Apply(in); err != nil {
			return nil, err
		}
	}
	// Start from a compacted store, as a node that has run a while.
	if err := c.st.db.Compact(context.Background(), []byte{0}, []byte{0xff}, true); err != nil {
		return nil, err
	}
	return c, os.WriteFile(complete, nil, 0o644)
}

// BenchmarkCheckpoint: one cold block that writes K changed hot keys into
// a mirror of 1M keys, with K/10 settlements.
func BenchmarkCheckpoint(b *testing.B) {
	for _, k := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("mirror=1M/changed=%d", k), func(b *testing.B) {
			c := mirrorChain(b)
			r := rand.New(rand.NewPCG(65, uint64(k)))
			owners := make([]ledger.Address, mirrorOwners)
			for i := range owners {
				owners[i] = testAddr(i)
			}
			next := func() BlockInput {
				idx := c.AppliedIndex() + 1
				in := BlockInput{Index: idx, Mirror: make(map[string][]byte, k),
					Checkpoint: ledger.Checkpoint{HotHeight: idx, HotHash: testID(fmt.Sprint("hot/", idx))}}
				for len(in.Mirror) < k {
					in.Mirror[mirrorKey(r.IntN(mirrorKeys))] = mirrorValue(r)
				}
				for j := range k / 10 {
					in.Settlements = append(in.Settlements,
						settlement(fmt.Sprintf("bench/%d/%d", idx, j), owners[r.IntN(len(owners))], 1+r.Uint64N(1000)))
				}
				return in
			}
			in := next()
			for b.Loop() {
				blk, err := c.Apply(in)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if blk == nil || len(blk.Settlements) != k/10 {
					b.Fatalf("block credited %v settlements, want %d", blk, k/10)
				}
				in = next()
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/op")
		})
	}
}
