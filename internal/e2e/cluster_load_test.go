package e2e

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
)

// isRetryable lists the codes a sender answers by sending the same
// transactions again: elections, a node that is rebuilding or busy, a
// block that failed, and a transaction still pending from an earlier try
// (or one whose earlier nonce was dropped with a failed block).
var isRetryable = map[string]bool{
	api.CodeNoLeader: true, api.CodeNotLeader: true, "unavailable": true, "block_failed": true,
	"nonce_taken": true, "nonce_gap": true, "mempool_full": true, api.CodeTimeout: true,
}

// movesOn lists why a sender tries the next node rather than the same.
var movesOn = map[string]bool{
	"transport": true, "unavailable": true, api.CodeNoLeader: true, api.CodeTimeout: true,
	client.CodeUnexpectedResponse: true,
}

// errLoadEnded is why a sender stops when the load ends.
var errLoadEnded = errors.New("load ended")

// Submissions of the cluster load.
const (
	clusterBatch   = 1                     // transfers per submission
	clusterPause   = 5 * time.Millisecond  // between a sender's submissions
	attemptTimeout = 10 * time.Second      // one submission
	settleTimeout  = 30 * time.Second      // all the tries of one batch
	retryPause     = 20 * time.Millisecond // before a batch is sent again
)

// clusterLoad is a stream of transfers through several nodes, one
// goroutine per sender, each starting on its own node. Unlike load, a
// sender that hits an election, a dead node or a rebuilding one sends the
// same signed transactions again (to the next node, when that one cannot
// help): a nonce is used once, so they are applied at most once. A sender
// moves on to new transfers only once the batch is settled: each is
// committed, or refused as nonce_too_low (committed by an earlier try
// whose answer was lost).
type clusterLoad struct {
	w       *world
	clients []*client.Client
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu      sync.Mutex
	acked   int            // transfers answered committed
	reasons map[string]int // why batches were sent again
	failed  []error        // senders that stopped while the load ran
}

// startLoad starts a load through the nodes ids.
func (tc *testCluster) startLoad(ids ...string) *clusterLoad {
	ctx, cancel := context.WithCancel(context.Background())
	l := &clusterLoad{w: tc.w, cancel: cancel, reasons: make(map[string]int)}
	for _, id := range ids {
		l.clients = append(l.clients, tc.client(id))
	}
	for i, a := range tc.w.senders {
		l.wg.Go(func() {
			if err := l.send(ctx, i, a); !errors.Is(err, errLoadEnded) {
				l.mu.Lock()
				l.failed = append(l.failed, fmt.Errorf("sender %d (%s): %w", i, a.key.Address, err))
				l.mu.Unlock()
			}
		})
	}
	return l
}

// stop ends the load, waits for its senders, and fails the test if any
// stopped before.
func (l *clusterLoad) stop(t *testing.T) {
	t.Helper()
	l.cancel()
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	t.Logf("load: %d transfers acknowledged; sent again because of %v", l.acked, l.reasons)
	for _, err := range l.failed {
		t.Errorf("load: %v", err)
	}
}

// ackedSoFar is how many transfers were answered committed.
func (l *clusterLoad) ackedSoFar() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.acked
}

// waitAcked waits until n more transfers than now are acknowledged.
func (l *clusterLoad) waitAcked(t *testing.T, n int) {
	t.Helper()
	want := l.ackedSoFar() + n
	waitUntil(t, fmt.Sprintf("%d more acknowledged transfers", n), waitTimeout, func() (bool, string) {
		got := l.ackedSoFar()
		return got >= want, fmt.Sprintf("%d acknowledged, want %d", got, want)
	})
}

func (l *clusterLoad) send(ctx context.Context, i int, a *account) error {
	node := i % len(l.clients)
	for {
		batch := make([]*sentTx, clusterBatch)
		for j := range batch {
			n := len(a.txs)
			batch[j] = a.sign(l.w.chainID, l.w.recipient(i, n), uint64(1+n%5))
		}
		var err error
		if node, err = l.settle(ctx, node, a, batch, false); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return errLoadEnded
		case <-time.After(clusterPause):
		}
	}
}

// settle sends batch, starting with node, until every transfer in it is
// settled, and returns the node it last used.
func (l *clusterLoad) settle(ctx context.Context, node int, a *account, batch []*sentTx, resent bool) (int, error) {
	deadline := time.Now().Add(settleTimeout)
	for try := 0; ; try++ {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		res, err := l.clients[node].SubmitWait(actx, txsOf(batch)...)
		cancel()
		if ctx.Err() != nil {
			return node, errLoadEnded
		}
		var why string
		if batch, why, err = l.judge(a, batch, res, err, resent || try > 0); err != nil || len(batch) == 0 {
			return node, err
		}
		l.mu.Lock()
		l.reasons[why]++
		l.mu.Unlock()
		if movesOn[why] {
			node = (node + 1) % len(l.clients)
		}
		if time.Now().After(deadline) {
			return node, fmt.Errorf("%d transfers from nonce %d not settled within %v; last answer: %s", len(batch), batch[0].tx.Nonce, settleTimeout, why)
		}
		select {
		case <-ctx.Done():
			return node, errLoadEnded
		case <-time.After(retryPause):
		}
	}
}

// judge records the answer to sending batch, sent before if resent, and
// returns what is left to send again and why, or an error that ends the
// sender.
func (l *clusterLoad) judge(a *account, batch []*sentTx, res []api.TxResult, err error, resent bool) ([]*sentTx, string, error) {
	if len(res) != len(batch) {
		why := requestFailure(err)
		if !isRetryable[why] && !movesOn[why] {
			return nil, "", fmt.Errorf("SubmitWait(%d txs) = %d results, %v", len(batch), len(res), err)
		}
		return batch, why, nil
	}
	var again []*sentTx
	var why string
	for i, r := range res {
		s := batch[i]
		switch {
		case r.Status == api.StatusCommitted && r.ID == s.id:
			a.acked[s.tx.Nonce] = ack{block: r.Block, index: r.Index}
			l.mu.Lock()
			l.acked++
			l.mu.Unlock()
		case r.Status == api.StatusPending:
			again, why = append(again, s), api.StatusPending
		case r.Error != nil && r.Error.Code == codeNonceTooLow && resent:
			// Committed by an earlier try whose answer was lost.
		case r.Error != nil && isRetryable[r.Error.Code]:
			again, why = append(again, s), r.Error.Code
		default:
			return nil, "", fmt.Errorf("submit %s (nonce %d, sent before %v) = %s", s.id, s.tx.Nonce, resent, describe(r))
		}
	}
	return again, why, nil
}

// requestFailure names why a whole submission failed: the node's code, or
// "transport" when no node answered (it was killed, or did not answer in
// time).
func requestFailure(err error) string {
	var cerr *client.Error
	switch {
	case errors.As(err, &cerr):
		return cerr.Code
	case err == nil:
		return "wrong number of results"
	}
	return "transport"
}
