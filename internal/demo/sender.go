package demo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/ledger"
)

// Codes answered by sending the same transactions again: an election, a
// node rebuilding or busy, a block that failed, a transaction whose
// earlier nonce is still on its way. A nonce is used once, so a
// transaction sent twice is applied at most once.
var retryable = map[string]bool{
	api.CodeNoLeader: true, api.CodeNotLeader: true, "unavailable": true, "block_failed": true,
	"nonce_taken": true, "nonce_gap": true, "nonce_too_high": true, "mempool_full": true, api.CodeTimeout: true,
	api.StatusPending: true,
}

// movesOn lists why the next try goes to the next node rather than the
// same one.
var movesOn = map[string]bool{
	"transport": true, "unavailable": true, api.CodeNoLeader: true, api.CodeTimeout: true,
	client.CodeUnexpectedResponse: true,
}

const codeNonceTooLow = "nonce_too_low"

// Bounds of a submission.
const (
	attemptTimeout = 15 * time.Second      // one try
	settleTimeout  = 45 * time.Second      // every try of one batch
	retryPause     = 20 * time.Millisecond // before a try again
)

// sender submits signed transactions to the cluster's nodes until the
// cluster answers for each, and records what it acknowledged in its book.
type sender struct {
	clients []*client.Client
	book    *book

	mu     sync.Mutex
	resent map[string]int // why transactions were sent again
}

func newSender(clients []*client.Client, b *book) *sender {
	return &sender{clients: clients, book: b, resent: make(map[string]int)}
}

// settle submits txs with ?wait=commit through node first, and sends
// again, unchanged, those the cluster could not answer for (to the next
// node when that one cannot help) until each is committed or refused for
// good. It returns their results in order.
func (s *sender) settle(ctx context.Context, node int, txs []*ledger.Tx) ([]api.TxResult, error) {
	results := make([]api.TxResult, len(txs))
	todo := make([]int, len(txs))
	for i := range todo {
		todo[i] = i
	}
	deadline := time.Now().Add(settleTimeout)
	for try := 0; ; try++ {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		res, err := s.clients[node].SubmitWait(actx, pick(txs, todo)...)
		cancel()
		if ctx.Err() != nil {
			return results, ctx.Err()
		}
		again, why, err := s.judge(ctx, txs, todo, res, err, try > 0, results)
		if err != nil || len(again) == 0 {
			return results, err
		}
		s.count(why, len(again))
		if movesOn[why] {
			node = (node + 1) % len(s.clients)
		}
		if time.Now().After(deadline) {
			return results, fmt.Errorf("%d transactions not committed within %v; last answer: %s", len(again), settleTimeout, why)
		}
		todo = again
		if !pause(ctx, retryPause) {
			return results, ctx.Err()
		}
	}
}

func pick(txs []*ledger.Tx, todo []int) []*ledger.Tx {
	out := make([]*ledger.Tx, len(todo))
	for j, i := range todo {
		out[j] = txs[i]
	}
	return out
}

// judge records the answers res to sending txs[todo], sent before if
// resent, into results and the book, and returns what to send again and
// why, or an error that ends the settling.
func (s *sender) judge(ctx context.Context, txs []*ledger.Tx, todo []int, res []api.TxResult, err error, resent bool, results []api.TxResult) ([]int, string, error) {
	if len(res) != len(todo) {
		why := failure(err)
		if retryable[why] || movesOn[why] {
			return todo, why, nil
		}
		return nil, "", fmt.Errorf("submit %d transactions: %w", len(todo), err)
	}
	var again []int
	var why string
	for j, i := range todo {
		r := res[j]
		switch {
		case r.Status == api.StatusCommitted:
			results[i] = r
			s.book.add(txs[i], r)
		case r.Error != nil && r.Error.Code == codeNonceTooLow && resent:
			// Committed by an earlier try whose answer was lost.
			found, err := s.lookup(ctx, txs[i])
			if err != nil {
				return nil, "", err
			}
			results[i] = found
			s.book.add(txs[i], found)
		case r.Status == api.StatusPending:
			again, why = append(again, i), api.StatusPending
		case r.Error != nil && retryable[r.Error.Code]:
			again, why = append(again, i), r.Error.Code
		default:
			results[i] = r // refused for good: the caller reads why
		}
	}
	return again, why, nil
}

// failure names why a whole submission failed: the node's code, or
// "transport" when no node answered.
func failure(err error) string {
	var cerr *client.Error
	switch {
	case errors.As(err, &cerr):
		return cerr.Code
	case err == nil:
		return "wrong number of results"
	}
	return "transport"
}

// lookup finds a transaction the cluster committed without saying so, on
// any node that answers: a hot one by id, a deposit by its bridge
// transfer.
func (s *sender) lookup(ctx context.Context, tx *ledger.Tx) (api.TxResult, error) {
	id := tx.ID()
	var last error
	for _, c := range s.clients {
		r, err := lookupOn(ctx, c, tx)
		if err == nil {
			return r, nil
		}
		last = err
	}
	return api.TxResult{}, fmt.Errorf("transaction %s (nonce %d) was answered %s when sent again, yet no node finds it: %w", id, tx.Nonce, codeNonceTooLow, last)
}

func lookupOn(ctx context.Context, c *client.Client, tx *ledger.Tx) (api.TxResult, error) {
	id := tx.ID()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if tx.Chain == ledger.Cold {
		t, err := c.BridgeTransfer(ctx, id)
		return api.TxResult{ID: id, Status: api.StatusCommitted, Block: t.ColdHeight}, err
	}
	v, err := c.Tx(ctx, id)
	if err != nil {
		return api.TxResult{}, err
	}
	rc := &ledger.Receipt{TxID: id, Status: v.Status, GasUsed: v.GasUsed, Path: v.Path, Error: v.Error, Events: v.Events, Result: v.Result}
	return api.TxResult{ID: id, Status: api.StatusCommitted, Block: v.Block, Index: v.Index, Receipt: rc}, nil
}

func (s *sender) count(why string, n int) {
	s.mu.Lock()
	s.resent[why] += n
	s.mu.Unlock()
}

// resends says why transactions were sent again, and how many times,
// since the last call, and forgets it.
func (s *sender) resends() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.resent) == 0 {
		return "none sent again"
	}
	var parts []string
	for _, why := range slices.Sorted(maps.Keys(s.resent)) {
		parts = append(parts, fmt.Sprintf("%d after %s", s.resent[why], why))
	}
	clear(s.resent)
	return "sent again: " + strings.Join(parts, ", ")
}

// pause waits d, or reports false if ctx ends first.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	}
	return true
}

// submit signs tx for a and settles it through node; a transaction refused
// for good is an error naming why, and gives its nonce back.
func (r *run) submit(ctx context.Context, node int, a *account, tx *ledger.Tx) (api.TxResult, error) {
	a.sign(r.chainID, tx)
	res, err := r.send.settle(ctx, node, []*ledger.Tx{tx})
	if err != nil {
		return res[0], fmt.Errorf("%s's %s: %w", a.name, tx.Function, err)
	}
	if res[0].Status != api.StatusCommitted {
		a.unsign(tx)
		return res[0], fmt.Errorf("%s's %s refused: %v", a.name, tx.Function, client.ResultError(res[0]))
	}
	return res[0], nil
}
