package demo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/dualchain/dualchain/internal/progress"
	"github.com/dualchain/dualchain/ledger"
)

// streamBatch is the transfers of one submission of a stream.
const streamBatch = 20

// stream is a flow of transfers to bob, one submission at a time per
// sending account, under which the failure steps break the cluster. It is
// stopped between submissions, never during one, so every transaction it
// signed is settled: committed, or an error the step reports.
type stream struct {
	stopping chan struct{}
	wg       sync.WaitGroup
	acked    atomic.Int64

	mu   sync.Mutex
	errs []error
}

// startStream starts a sender per account in from, the i-th through node
// nodes[i%len(nodes)] first, counting what is committed on task.
func (r *run) startStream(ctx context.Context, from []*account, nodes []int, task *progress.Task) *stream {
	st := &stream{stopping: make(chan struct{})}
	for i, a := range from {
		st.wg.Go(func() { st.run(ctx, r, a, nodes[i%len(nodes)], task) })
	}
	return st
}

func (st *stream) run(ctx context.Context, r *run, a *account, node int, task *progress.Task) {
	for {
		select {
		case <-st.stopping:
			return
		default:
		}
		txs := make([]*ledger.Tx, streamBatch)
		for i := range txs {
			txs[i] = a.sign(r.chainID, transfer(r.bob.addr(), 1))
		}
		res, err := r.send.settle(ctx, node, txs)
		if err == nil {
			err = allOK(res)
		}
		if err != nil {
			st.fail(fmt.Errorf("%s's transfers: %w", a.name, err))
			return
		}
		st.acked.Add(streamBatch)
		task.Add(streamBatch)
	}
}

func (st *stream) fail(err error) {
	st.mu.Lock()
	st.errs = append(st.errs, err)
	st.mu.Unlock()
}

// failed reports whether a sender has stopped on an error.
func (st *stream) failed() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.errs) > 0
}

// waitAcked waits until n transfers are committed, or a sender fails, or
// ctx ends.
func (st *stream) waitAcked(ctx context.Context, n int64) error {
	for st.acked.Load() < n && !st.failed() {
		if !pause(ctx, streamPoll) {
			return fmt.Errorf("%d transfers of the stream committed, want %d: %w", st.acked.Load(), n, ctx.Err())
		}
	}
	return nil
}

// stop ends the stream once every sender's submission is settled, and
// returns how many transfers were committed and why senders stopped.
func (st *stream) stop() (int64, error) {
	close(st.stopping)
	st.wg.Wait()
	return st.acked.Load(), errors.Join(st.errs...)
}
