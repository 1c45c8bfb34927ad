package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
)

// resubmitted counts the answers to a resubmission.
type resubmitted struct {
	now     int // committed by the resubmission
	already int // committed before it: nonce_too_low, or its first receipt
}

// resubmit sends again, with their original nonces and signatures, every
// transaction the test was never told was committed. One that v, the chain
// before, does not hold must be committed now; one it holds must be
// answered nonce_too_low or with the receipt it already has.
func (w *world) resubmit(t *testing.T, c *client.Client, v *chainView) resubmitted {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var mu sync.Mutex
	var total resubmitted
	var wg sync.WaitGroup
	for _, a := range w.accounts() {
		wg.Go(func() {
			got := a.resubmit(ctx, t, c, v)
			mu.Lock()
			total.now += got.now
			total.already += got.already
			mu.Unlock()
		})
	}
	wg.Wait()
	return total
}

const resubmitBatch = 100

func (a *account) resubmit(ctx context.Context, t *testing.T, c *client.Client, v *chainView) resubmitted {
	var todo []*sentTx
	for _, s := range a.txs {
		if _, ok := a.acked[s.tx.Nonce]; !ok {
			todo = append(todo, s)
		}
	}
	var got resubmitted
	for len(todo) > 0 {
		batch := todo[:min(len(todo), resubmitBatch)]
		todo = todo[len(batch):]
		res, err := c.SubmitWait(ctx, txsOf(batch)...)
		if len(res) != len(batch) {
			t.Errorf("resubmit SubmitWait(%d txs from %s) = %d results, %v; want %d results", len(batch), a.key.Address, len(res), err, len(batch))
			return got
		}
		for i, r := range res {
			a.judgeResubmit(t, batch[i], r, v, &got)
		}
	}
	return got
}

// judgeResubmit checks the answer r to resubmitting s against v.
func (a *account) judgeResubmit(t *testing.T, s *sentTx, r api.TxResult, v *chainView, got *resubmitted) {
	before, wasCommitted := v.byTx[s.id]
	tooLow := r.Status == api.StatusRejected && r.Error != nil && r.Error.Code == codeNonceTooLow
	committed := r.Status == api.StatusCommitted && r.ID == s.id
	switch {
	case wasCommitted && (tooLow || committed && r.Block == before.block && r.Index == before.index):
		got.already++
	case wasCommitted:
		t.Errorf("resubmit of %s = %s, want %s or its receipt in block %d index %d", s.id, describe(r), codeNonceTooLow, before.block, before.index)
	case committed:
		a.acked[s.tx.Nonce] = ack{block: r.Block, index: r.Index}
		got.now++
	default:
		t.Errorf("resubmit of %s (nonce %d, not committed before) = %s, want committed", s.id, s.tx.Nonce, describe(r))
	}
}

// describe prints a result without its pointers.
func describe(r api.TxResult) string {
	switch {
	case r.Error != nil:
		return fmt.Sprintf("%s %s (%s: %s)", r.ID, r.Status, r.Error.Code, r.Error.Message)
	case r.Status == api.StatusCommitted:
		return fmt.Sprintf("%s %s in block %d index %d", r.ID, r.Status, r.Block, r.Index)
	}
	return fmt.Sprintf("%s %s", r.ID, r.Status)
}

// settle adopts, for every transaction committed without the test being
// told, the place v found it in, so later checks hold it there too.
func (w *world) settle(v *chainView) {
	for _, a := range w.accounts() {
		for _, s := range a.txs {
			f, ok := v.byTx[s.id]
			if _, acked := a.acked[s.tx.Nonce]; ok && !acked {
				a.acked[s.tx.Nonce] = ack{block: f.block, index: f.index}
			}
		}
	}
}
