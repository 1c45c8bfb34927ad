package bench

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dualchain/dualchain/ledger"
)

// VerifyTime is how long VerifyLimit verifies for in a bench run.
const VerifyTime = 2 * time.Second

// verifyChunk is how many signatures one call verifies: the size at which
// the node verifies a request's batch on one core.
const verifyChunk = 1024

// verifySenders is how many keys sign the limit's transactions, as many
// as a run's default accounts: the node caches senders' expanded keys, and
// so does the limit.
const verifySenders = 4096

// VerifyLimit measures how many transaction signatures this machine
// verifies per second with ledger.VerifyBatch (the node's batch verifier)
// on every core: the ceiling of any cluster's throughput, since every
// committed transaction is verified once, on the leader. It verifies for
// d in verifySlices slices and returns the fastest slice's rate: on a
// shared machine other work only ever slows a slice down, so the fastest
// is the best estimate of what the cores can do (and the fraction of it a
// run reaches is, if anything, understated). Nothing else of the run
// should be busy meanwhile.
func VerifyLimit(d time.Duration) float64 {
	accts := newAccounts(verifySenders)
	txs := presign("bench", accts, verifySenders, false, generator(Native, ledger.Address{}))
	best := 0.0
	for range verifySlices {
		best = max(best, verifyFor(txs, d/verifySlices))
	}
	return best
}

// verifySlices is how many parts VerifyLimit's time is cut into.
const verifySlices = 4

// verifyFor verifies txs round and round on every core for d and returns
// the rate.
func verifyFor(txs []*ledger.Tx, d time.Duration) float64 {
	var n atomic.Int64
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	for w := range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := w; time.Now().Before(end); i++ {
				lo := (i * verifyChunk) % len(txs)
				ledger.VerifyBatch(txs[lo : lo+verifyChunk])
				n.Add(verifyChunk)
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}
