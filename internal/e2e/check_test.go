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
	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/node"
)

// lookupWorkers is how many Tx lookups check runs at once.
const lookupWorkers = 8

// found is where a node says a transaction is.
type found struct {
	block  uint64
	index  uint32
	status ledger.Status
}

// where describes a lookup's outcome.
func where(f found, ok bool) string {
	if !ok {
		return "not found"
	}
	return fmt.Sprintf("block %d index %d", f.block, f.index)
}

// chainView is what check learned from the node.
type chainView struct {
	status   api.Status
	inBlocks map[ledger.Hash]found // every transaction of every block
	byTx     map[ledger.Hash]found // what Tx answered for the test's transactions
}

// check reads the node's chain through its API and fails the test unless
// it holds exactly what the test sent, once: see the package doc. With
// allCommitted, every transaction the test signed must be committed. It
// reports whether the chain passed.
func check(t *testing.T, c *client.Client, w *world, allCommitted bool) (*chainView, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v := &chainView{}
	var err error
	if v.status, err = c.Status(ctx); err != nil {
		t.Fatalf("Status() = %v", err)
	}
	r := &report{t: t}
	v.inBlocks = scanBlocks(ctx, r, c, v.status)
	v.byTx = lookupAll(ctx, r, c, w)
	checkLookups(r, w, v)
	checkNonces(ctx, r, c, w, v)
	checkBalances(ctx, r, c, w, v)
	if allCommitted {
		checkAllCommitted(r, w, v)
	}
	return v, r.done()
}

// maxErrors is how many failures one check prints; a lost block can fail
// thousands of transactions.
const maxErrors = 20

// report is testing.T's Errorf, printing at most maxErrors failures.
type report struct {
	t  *testing.T
	mu sync.Mutex
	n  int
}

func (r *report) errorf(format string, args ...any) {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if r.n <= maxErrors {
		r.t.Errorf(format, args...)
	}
}

func (r *report) fatalf(format string, args ...any) {
	r.t.Helper()
	r.done()
	r.t.Fatalf(format, args...)
}

// done reports whether there was no failure, printing how many were not.
func (r *report) done() bool {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n > maxErrors {
		r.t.Errorf("... and %d more failures", r.n-maxErrors)
	}
	return r.n == 0
}

// scanBlocks reads every block up to the head and checks that the chain is
// whole and no transaction, and no sender's nonce, appears twice.
func scanBlocks(ctx context.Context, r *report, c *client.Client, st api.Status) map[ledger.Hash]found {
	r.t.Helper()
	txs := make(map[ledger.Hash]found)
	if st.Height == 0 {
		return txs
	}
	blocks, err := c.Blocks(ctx, 1, st.Height)
	if err != nil {
		r.fatalf("Blocks(1, %d) = %v", st.Height, err)
	}
	if uint64(len(blocks)) != st.Height {
		r.fatalf("Blocks(1, %d) = %d blocks, want %d", st.Height, len(blocks), st.Height)
	}
	if last := blocks[len(blocks)-1]; last.Hash != st.Head || last.Commitment != st.Commitment {
		r.errorf("head block %d = hash %s commitment %s, status says head %s commitment %s",
			last.Height, last.Hash, last.Commitment, st.Head, st.Commitment)
	}
	type senderNonce struct {
		from  ledger.Address
		nonce uint64
	}
	nonces := make(map[senderNonce]ledger.Hash)
	for i, b := range blocks {
		if b.Height != uint64(i+1) {
			r.fatalf("Blocks(1, %d)[%d].Height = %d, want %d", st.Height, i, b.Height, i+1)
		}
		for j, tx := range b.Txs {
			if prev, dup := txs[tx.ID]; dup {
				r.errorf("tx %s in block %d index %d and again in block %d index %d", tx.ID, prev.block, prev.index, b.Height, j)
			}
			sn := senderNonce{tx.From, tx.Nonce}
			if prev, dup := nonces[sn]; dup {
				r.errorf("sender %s nonce %d committed twice: tx %s and tx %s (block %d)", tx.From, tx.Nonce, prev, tx.ID, b.Height)
			}
			nonces[sn] = tx.ID
			txs[tx.ID] = found{block: b.Height, index: uint32(j), status: tx.Status}
		}
	}
	return txs
}

// lookupAll asks the node with Tx for every transaction the test sent.
func lookupAll(ctx context.Context, r *report, c *client.Client, w *world) map[ledger.Hash]found {
	r.t.Helper()
	work := make(chan *sentTx)
	var mu sync.Mutex
	out := make(map[ledger.Hash]found)
	var wg sync.WaitGroup
	for range lookupWorkers {
		wg.Go(func() {
			for s := range work {
				f, ok := lookup(ctx, r, c, s)
				if ok {
					mu.Lock()
					out[s.id] = f
					mu.Unlock()
				}
			}
		})
	}
	for _, a := range w.accounts() {
		for _, s := range a.txs {
			work <- s
		}
	}
	close(work)
	wg.Wait()
	return out
}

func lookup(ctx context.Context, r *report, c *client.Client, s *sentTx) (found, bool) {
	v, err := c.Tx(ctx, s.id)
	var cerr *client.Error
	switch {
	case errors.As(err, &cerr) && cerr.Code == api.CodeNotFound:
		return found{}, false
	case err != nil:
		r.errorf("Tx(%s) = %v, want the tx or not_found", s.id, err)
		return found{}, false
	case v.ID != s.id || v.From != s.tx.From || v.Nonce != s.tx.Nonce:
		r.errorf("Tx(%s) = id %s from %s nonce %d, want id %s from %s nonce %d", s.id, v.ID, v.From, v.Nonce, s.id, s.tx.From, s.tx.Nonce)
	}
	return found{block: v.Block, index: v.Index, status: v.Status}, true
}

// checkLookups compares what Tx said with the blocks and the acks.
func checkLookups(r *report, w *world, v *chainView) {
	r.t.Helper()
	for id, f := range v.byTx {
		if b, ok := v.inBlocks[id]; !ok || b.block != f.block || b.index != f.index {
			r.errorf("Tx(%s) = block %d index %d, but in the blocks it is %s", id, f.block, f.index, where(b, ok))
		}
		if f.status != ledger.StatusOK {
			r.errorf("Tx(%s).Status = %s, want ok", id, f.status)
		}
	}
	if len(v.inBlocks) != len(v.byTx) {
		r.errorf("blocks hold %d txs, Tx found %d of the test's: the chain holds txs the test never sent", len(v.inBlocks), len(v.byTx))
	}
	for _, a := range w.accounts() {
		for nonce, ak := range a.acked {
			s := a.txs[nonce]
			f, ok := v.byTx[s.id]
			if !ok || f.block != ak.block || f.index != ak.index {
				r.errorf("Tx(%s) = %s, want block %d index %d (acknowledged)", s.id, where(f, ok), ak.block, ak.index)
			}
		}
	}
}

// checkNonces checks that each account's committed transactions are
// exactly its nonces 0..nonce-1.
func checkNonces(ctx context.Context, r *report, c *client.Client, w *world, v *chainView) {
	r.t.Helper()
	for _, a := range w.accounts() {
		acct, err := c.Account(ctx, a.key.Address)
		if err != nil {
			r.fatalf("Account(%s) = %v", a.key.Address, err)
		}
		if acct.Nonce > uint64(len(a.txs)) {
			r.errorf("Account(%s).Nonce = %d, but the test signed only %d txs", a.key.Address, acct.Nonce, len(a.txs))
		}
		for n, s := range a.txs {
			_, ok := v.byTx[s.id]
			if want := uint64(n) < acct.Nonce; ok != want {
				r.errorf("Tx(%s) (nonce %d of %s) found = %v, want %v: account nonce is %d", s.id, n, a.key.Address, ok, want, acct.Nonce)
			}
		}
	}
}

// checkBalances replays exactly the committed transactions from genesis
// and compares every balance, and their sum with the supply.
func checkBalances(ctx context.Context, r *report, c *client.Client, w *world, v *chainView) {
	r.t.Helper()
	want := map[ledger.Address]uint64{w.faucet.key.Address: node.DevSupply}
	for _, a := range w.accounts() {
		for _, s := range a.txs {
			if f, ok := v.byTx[s.id]; ok && f.status == ledger.StatusOK {
				want[a.key.Address] -= s.amount
				want[s.to] += s.amount
			}
		}
	}
	var sum uint64
	for _, addr := range w.addresses() {
		acct, err := c.Account(ctx, addr)
		if err != nil {
			r.fatalf("Account(%s) = %v", addr, err)
		}
		if acct.Balance != want[addr] {
			r.errorf("Account(%s).Balance = %d, want %d (replaying the committed txs)", addr, acct.Balance, want[addr])
		}
		sum += acct.Balance
	}
	if sum != node.DevSupply {
		r.errorf("sum of balances = %d, want the supply %d", sum, node.DevSupply)
	}
}

// committedUnacked counts transactions the node committed but the test
// was never told about: those a crash caught between commit and answer.
func committedUnacked(w *world, v *chainView) int {
	n := 0
	for _, a := range w.accounts() {
		for _, s := range a.txs {
			if _, ok := v.byTx[s.id]; ok {
				if _, acked := a.acked[s.tx.Nonce]; !acked {
					n++
				}
			}
		}
	}
	return n
}

// checkAllCommitted fails unless every transaction the test signed is
// committed.
func checkAllCommitted(r *report, w *world, v *chainView) {
	r.t.Helper()
	for _, a := range w.accounts() {
		for _, s := range a.txs {
			if _, ok := v.byTx[s.id]; !ok {
				r.errorf("Tx(%s) (nonce %d of %s) not found, want committed after resubmission", s.id, s.tx.Nonce, a.key.Address)
			}
		}
	}
}
