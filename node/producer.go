package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/ledger"
	"github.com/hashicorp/raft"
)

// Timings of the producer's housekeeping.
const (
	gapTTL          = 30 * time.Second       // how long txs may wait behind a nonce gap
	expireEvery     = time.Second            // how often the pool is swept for them
	leadershipPoll  = 100 * time.Millisecond // how often a follower looks whether it leads now
	barrierTimeout  = 10 * time.Second       // how long a new leader waits for the log to apply
	maxReadAttempts = 3                      // reads of a block's state that a rebuild may interrupt
	stopGrace       = 5 * time.Second        // how long a stopping leader waits for its blocks in flight
)

// produce makes blocks while this node is the leader, until ctx ends. When
// it returns, every waiting client is told the node stopped.
func (n *Node) produce(ctx context.Context) error {
	defer n.tracker.stop(ErrStopped)
	for {
		if err := n.awaitLeadership(ctx); err != nil {
			return nil // stopping
		}
		n.lead(ctx)
	}
}

// awaitLeadership returns once this node is the leader, or ctx's error.
func (n *Node) awaitLeadership(ctx context.Context) error {
	leaderCh := n.replica.Raft().LeaderCh()
	for ctx.Err() == nil && !n.replica.IsLeader() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-leaderCh:
		case <-n.clock.After(leadershipPoll):
		}
	}
	return ctx.Err()
}

// lead produces blocks until this node stops being the leader or ctx ends.
// It first waits until every entry committed before its term is applied
// (Barrier), so it never builds on a stale head; up to MaxInFlight blocks
// are then in flight at once, each executed on top of the ones before it.
// When a proposal fails, lead stops, lets the blocks in flight resolve,
// and returns; produce calls it again while the node still leads.
func (n *Node) lead(ctx context.Context) {
	bctx, cancel := context.WithTimeout(ctx, barrierTimeout)
	err := n.replica.Barrier(bctx)
	cancel()
	if err != nil {
		n.logger.Warn("leader could not apply the log before producing; will retry", "err", err)
		return
	}
	h := n.chain.Head()
	n.logger.Info("leading", "term", n.replica.State().Term, "height", h.Height, "index", h.Index)
	n.registerMembers(ctx)
	n.leading.Store(true)
	defer n.leading.Store(false)
	if err := n.cold.refreshWork(); err != nil {
		n.logger.Error("read the bridge's pending work", "err", err)
	}

	lctx, stop := context.WithCancel(ctx)
	defer stop()
	// Blocks in flight when the node stops get stopGrace to commit, so
	// their clients hear the outcome; a leader cut off from its
	// followers gives up then.
	wctx, wcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer wcancel()
	defer context.AfterFunc(ctx, func() { time.AfterFunc(stopGrace, wcancel) })()
	slots := make(chan struct{}, n.cfg.MaxInFlight)
	proposed := make(chan *inflight, n.cfg.MaxInFlight)
	var wg sync.WaitGroup
	wg.Go(func() { n.complete(wctx, proposed, slots, stop) })
	n.proposeWhileLeader(lctx, slots, proposed)
	close(proposed)
	wg.Wait() // every block in flight resolved
	n.pipe.reset()
	if !n.replica.IsLeader() || ctx.Err() != nil {
		n.finishAll(n.pool.drain(), ErrNotLeader)
		n.logger.Info("stopped leading", "height", n.chain.Head().Height)
	}
}

// proposeWhileLeader cuts, executes and proposes blocks until lctx ends or
// leadership is lost, handing each to complete through proposed.
func (n *Node) proposeWhileLeader(lctx context.Context, slots chan struct{}, proposed chan<- *inflight) {
	expiry := n.clock.NewTicker(expireEvery)
	defer expiry.Stop()
	for n.replica.IsLeader() {
		if err := n.waitForBlock(lctx, expiry.Chan()); err != nil {
			return
		}
		select {
		case slots <- struct{}{}:
		case <-lctx.Done():
			return
		}
		txs := n.pool.take(n.cfg.MaxBlockTxs, n.cfg.MaxBlockGas)
		b := n.proposeBlock(lctx, txs)
		if b == nil {
			<-slots
			continue
		}
		proposed <- b
	}
}

// waitForBlock returns when a block should be cut: MaxBlockTxs
// transactions are pending, or BlockInterval passed since the first one
// became ready. It expires gapped transactions while it waits, and returns
// every leadershipPoll to let the caller look at its leadership.
func (n *Node) waitForBlock(ctx context.Context, expiry <-chan time.Time) error {
	if n.pool.full(n.cfg.MaxBlockTxs) {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-expiry:
		n.finishDropped(n.pool.expire(n.clock.Now().Add(-gapTTL)))
		return nil
	case <-n.clock.After(leadershipPoll):
		return nil
	case <-n.cold.notify:
		return nil // the bridge has work for a block
	case <-n.pool.notify:
	}
	timer := n.clock.NewTimer(n.cfg.BlockInterval)
	defer timer.Stop()
	for !n.pool.full(n.cfg.MaxBlockTxs) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.Chan():
			return nil
		case <-n.pool.notify:
		}
	}
	return nil
}

// proposeBlock executes txs, after the bridge's work if there is any, on
// top of the blocks in flight and proposes the block to Raft. It returns
// nil if there was nothing to propose: no txs and no bridge work, nothing
// includable, or the state could not be read (the txs are then dropped
// with ErrBlockFailed; clients resubmit with the same nonce, and the
// bridge's work is read again from the cold chain).
func (n *Node) proposeBlock(ctx context.Context, txs []pendingTx) *inflight {
	work := n.cold.takeWork()
	if len(txs) == 0 && work == nil {
		return nil
	}
	start := time.Now()
	ex, err := n.executeBlock(ctx, txs, work)
	if err != nil {
		n.logger.Error("read state for block failed; dropping its transactions", "txs", len(txs), "err", err)
		n.failTaken(txs, txs)
		n.retryWork(work)
		return nil
	}
	n.finishDropped(ex.dropped)
	if len(ex.included) == 0 && len(ex.block.Writes) == 0 {
		n.finishDropped(n.pool.done(txs, ex.nonces))
		return nil
	}
	data, block, err := encodeBlockEntry(ex)
	if err != nil {
		n.logger.Error("encode block failed; dropping its transactions", "txs", len(txs), "err", err)
		n.failTaken(txs, txs)
		n.retryWork(work)
		return nil
	}
	b := newInflight(ex, data, block, txs, start)
	n.pipe.push(b)
	b.work = work
	b.proposal, err = n.replica.Propose(ctx, data)
	if err != nil { // only when ctx ended: nothing was proposed
		n.pipe.pop(b)
		n.failTaken(ex.included, txs)
		n.retryWork(work)
		return nil
	}
	return b
}

// retryWork reads the bridge's work again after a block that carried w
// failed: its effects are idempotent, so the next block may redo them.
func (n *Node) retryWork(w *bridgeWork) {
	if w == nil {
		return
	}
	if err := n.cold.refreshWork(); err != nil {
		n.logger.Error("read the bridge's pending work", "err", err)
	}
}

// executeBlock reads what txs need (one round trip for the keys it can
// foresee, more for what VM calls read) as the blocks in flight leave it,
// and executes them into the next block. A store that lost its state or
// went back in time is rebuilt first, and the read repeated.
func (n *Node) executeBlock(ctx context.Context, txs []pendingTx, work *bridgeWork) (*execution, error) {
	keys := blockKeys(txs)
	effects, workKeys := work.effects()
	keys = append(keys, workKeys...)
	for attempt := 0; ; attempt++ {
		before := n.chain.Head()
		head := n.pipe.head(n.chain.Head)
		fetch := func(keys [][]byte) ([][]byte, error) { return n.pipe.read(ctx, n.store, keys) }
		values, err := fetch(keys)
		var ex *execution
		if err == nil {
			ex, err = execute(ctx, n.dispatch, blockInput{
				head: head, chainID: n.chainID, now: n.clock.Now().UnixNano(),
				txs: txs, keys: keys, values: values, fetch: fetch, effects: effects,
			})
		}
		if err == nil {
			err = n.checkNotRolledBack(ctx, before)
		}
		if err == nil || attempt+1 == maxReadAttempts || !errors.Is(err, hotchain.ErrWiped) {
			return ex, err
		}
		if err := n.sm.check(); err != nil {
			return nil, err
		}
	}
}

// checkNotRolledBack fails with ErrWiped if the store is now behind the
// head seen before a read: only this node writes it, and only forward, so
// it was restored from an older copy (a Redis restarted from an old RDB
// file) and the read may have seen old values.
func (n *Node) checkNotRolledBack(ctx context.Context, before hotchain.Meta) error {
	m, err := n.store.Meta(ctx)
	if err != nil {
		return err
	}
	if m.Index < before.Index {
		return fmt.Errorf("%w: store at index %d, head at %d", hotchain.ErrWiped, m.Index, before.Index)
	}
	return nil
}

// complete waits for each proposed block, in order, to be applied here, and
// settles its transactions in the pool. Waiting clients are told by the
// state machine when a block applies, on every node. On a failed proposal
// it calls stop: the leader stops proposing until the blocks in flight
// have resolved and it has caught up again. When ctx ends it waits no
// longer: a stopping leader cut off from its followers would otherwise
// wait for ever.
func (n *Node) complete(ctx context.Context, proposed <-chan *inflight, slots <-chan struct{}, stop func()) {
	for b := range proposed {
		_, err := b.proposal.Wait(ctx) // resolves on apply or lost leadership
		n.pipe.pop(b)
		<-slots
		if err == nil {
			n.finishDropped(n.pool.done(b.taken, b.ex.nonces))
			n.metrics.observeBlock(b.ex.block, time.Since(b.start))
			continue
		}
		stop()
		n.retryWork(b.work)
		switch {
		case errors.Is(err, errStaleBlock), errors.Is(err, raft.ErrNotLeader):
			// Certainly not committed (or skipped by every node).
			n.failTaken(b.ex.included, b.taken)
		default:
			// Perhaps committed: if it was, the state machine tells the
			// waiters when this node applies it.
			n.finishDropped(n.pool.abandon(b.taken))
		}
		n.logger.Warn("proposed block did not commit here", "height", b.ex.block.Header.Height, "txs", len(b.ex.included), "err", err)
	}
}

// blockApplied runs on every node once a block is in the store: it tells
// the clients waiting for its transactions. Only transactions this node
// admitted can have waiters here (a follower forwards submissions, and the
// leader answers their waits), so only those are handed to the tracker:
// remembering every transaction on every node would hold 65,536 records per
// node for nothing.
func (n *Node) blockApplied(u *hotchain.Update) {
	blk := u.Block
	var ids []ledger.Hash
	var results []api.WaitResult
	for i := range blk.Txs {
		id := blk.Receipts[i].TxID
		if !n.pool.has(id) && !n.tracker.watched(id) {
			continue
		}
		ids = append(ids, id)
		results = append(results, api.WaitResult{Record: &ledger.TxRecord{
			Tx: blk.Txs[i], Receipt: blk.Receipts[i], Height: blk.Header.Height, Index: uint32(i)}})
	}
	n.tracker.finish(ids, results)
	n.heights.advance(blk.Header.Height)
	n.metrics.observeApplied(blk)
}

// failTaken drops transactions whose block failed before it was committed
// (told ErrBlockFailed), and, when taken is given, returns all of the
// block's transactions to the pool's accounting, letting each sender
// resubmit from its first failed nonce.
func (n *Node) failTaken(failed, taken []pendingTx) {
	n.finishAll(failed, ErrBlockFailed)
	if taken != nil {
		n.finishDropped(n.pool.abandon(taken))
	}
}

// finishAll tells the waiters of txs that they will not commit (or not now).
func (n *Node) finishAll(txs []pendingTx, err error) {
	drops := make([]pendingTxErr, len(txs))
	for i, p := range txs {
		drops[i] = pendingTxErr{p.id, err}
	}
	n.finishDropped(drops)
}

func (n *Node) finishDropped(drops []pendingTxErr) {
	if len(drops) == 0 {
		return
	}
	ids := make([]ledger.Hash, len(drops))
	results := make([]api.WaitResult, len(drops))
	for i, d := range drops {
		ids[i], results[i].Err = d.id, d.err
	}
	n.tracker.finish(ids, results)
}
