package loadgen

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
)

// commitTimeout bounds one batch's submission and wait.
const commitTimeout = time.Minute

// Transfer signs a transfer of the base token on chain chainID.
func Transfer(chainID string, from *ledger.Key, nonce uint64, to ledger.Address, amount uint64) *ledger.Tx {
	tx := &ledger.Tx{
		ChainID: chainID, Chain: ledger.Hot, Nonce: nonce, From: from.Address,
		Contract: token.Address, Function: token.FuncTransfer,
		Args: token.EncodeTransfer(to, amount), GasLimit: token.TransferGas,
	}
	tx.Sign(from.Private)
	return tx
}

// Presign signs n transfers round-robin over keys, on both cores: tx i is
// sent by key i%len(keys) with nonce i/len(keys) to the next key, so
// consecutive batches keep every sender's nonces close together; amounts
// vary so balances change.
func Presign(keys []*ledger.Key, chainID string, n int) []*ledger.Tx {
	txs := make([]*ledger.Tx, n)
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := w; i < n; i += 2 {
				from, to := keys[i%len(keys)], keys[(i+1)%len(keys)]
				txs[i] = Transfer(chainID, from, uint64(i/len(keys)), to.Address, uint64(1+i%7))
			}
		})
	}
	wg.Wait()
	return txs
}

// ClosedLoop sends txs in batches with workers requests at a time and
// returns each batch's time from submission to commit, or the first
// failure.
func ClosedLoop(c *client.Client, txs []*ledger.Tx, batch, workers int) ([]time.Duration, error) {
	jobs := make(chan []*ledger.Tx)
	var r recorder
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for txs := range jobs {
				r.send(c, txs)
			}
		})
	}
	for lo := 0; lo < len(txs); lo += batch {
		jobs <- txs[lo:min(lo+batch, len(txs))]
	}
	close(jobs)
	wg.Wait()
	return r.result()
}

// OpenLoop sends txs in batches at rate transfers per second, each batch on
// its own goroutine (a slow commit does not slow the sending), and returns
// each batch's time from submission to commit, or the first failure.
func OpenLoop(c *client.Client, txs []*ledger.Tx, batch int, rate float64) ([]time.Duration, error) {
	every := time.Duration(float64(batch) / rate * float64(time.Second))
	var r recorder
	var wg sync.WaitGroup
	next := time.Now()
	for lo := 0; lo < len(txs); lo += batch {
		time.Sleep(time.Until(next))
		next = next.Add(every)
		wg.Go(func() { r.send(c, txs[lo:min(lo+batch, len(txs))]) })
	}
	wg.Wait()
	return r.result()
}

// recorder collects batch latencies and failures from concurrent senders.
type recorder struct {
	mu     sync.Mutex
	lat    []time.Duration
	err    error
	failed int
}

func (r *recorder) send(c *client.Client, txs []*ledger.Tx) {
	start := time.Now()
	err := Commit(c, txs)
	d := time.Since(start)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lat = append(r.lat, d)
	if err != nil {
		r.failed++
		if r.err == nil {
			r.err = err
		}
	}
}

func (r *recorder) result() ([]time.Duration, error) {
	if r.err != nil {
		return r.lat, fmt.Errorf("%w (and %d more failed batches)", r.err, r.failed-1)
	}
	return r.lat, nil
}

// Commit submits txs with ?wait=commit and fails unless every one was
// committed, naming the refusals.
func Commit(c *client.Client, txs []*ledger.Tx) error {
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
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

// Percentile returns the p-th percentile (0 < p < 1) of lat, which it sorts.
func Percentile(lat []time.Duration, p float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	slices.Sort(lat)
	return lat[min(int(float64(len(lat))*p), len(lat)-1)]
}
