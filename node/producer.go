package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/ledger"
)

// Timings of the producer's housekeeping.
const (
	gapTTL          = 30 * time.Second // how long txs may wait behind a nonce gap
	expireEvery     = time.Second      // how often the pool is swept for them
	applyAfterClose = 10 * time.Second // how long a committed block may take to apply once stopping
)

// produce cuts, executes, commits and applies blocks until ctx ends. A
// block is cut when MaxBlockTxs transactions are pending, or BlockInterval
// after the first pending one arrived. When it returns, every waiting
// client is told the node stopped.
func (n *Node) produce(ctx context.Context) error {
	defer n.tracker.stop(ErrStopped)
	expiry := n.clock.NewTicker(expireEvery)
	defer expiry.Stop()
	for {
		if err := n.waitForBlock(ctx, expiry.Chan()); err != nil {
			return nil // stopping
		}
		txs := n.pool.take(n.cfg.MaxBlockTxs, n.cfg.MaxBlockGas)
		if len(txs) == 0 {
			continue
		}
		if err := n.makeBlock(ctx, txs); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// waitForBlock returns when a block should be cut, doing housekeeping
// (expiring gapped txs, rebuilding a wiped store) while it waits.
func (n *Node) waitForBlock(ctx context.Context, expiry <-chan time.Time) error {
	if n.pool.full(n.cfg.MaxBlockTxs) {
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-expiry:
			n.finishDropped(n.pool.expire(n.clock.Now().Add(-gapTTL)))
			continue
		case <-n.wiped:
			n.ensureAtHead(ctx)
			continue
		case <-n.pool.notify:
		}
		break
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

// makeBlock executes txs into a block, appends it to the log and applies it.
// If the store cannot be read, the transactions are dropped with
// ErrBlockFailed (clients resubmit with the same nonce) and the node goes
// on; if the block cannot be logged or applied, the node stops.
func (n *Node) makeBlock(ctx context.Context, txs []pendingTx) error {
	start := time.Now()
	keys := blockKeys(txs)
	values, err := n.readForBlock(ctx, keys)
	if err != nil {
		n.logger.Error("read state for block failed; dropping its transactions", "txs", len(txs), "err", err)
		n.failTaken(txs, txs)
		return nil
	}
	ex, err := n.executeBlock(ctx, txs, keys, values)
	if err != nil {
		n.logger.Error("read state while executing block failed; dropping its transactions", "txs", len(txs), "err", err)
		n.failTaken(txs, txs)
		return nil
	}
	n.finishDropped(ex.dropped)
	if len(ex.included) > 0 {
		if err := n.commit(ctx, ex); err != nil {
			n.pool.done(txs, nil)
			return err
		}
	}
	n.finishDropped(n.pool.done(txs, ex.nonces))
	n.metrics.observeBlock(ex.block, time.Since(start))
	return nil
}

// executeBlock executes txs from the values read for keys, fetching what a
// VM call reads beyond them. Fetched values are checked like the batch: the
// store must still be at the head after the last of them.
func (n *Node) executeBlock(ctx context.Context, txs []pendingTx, keys, values [][]byte) (*execution, error) {
	fetched := 0
	fetch := func(keys [][]byte) ([][]byte, error) {
		fetched++
		return n.store.Get(ctx, keys)
	}
	ex, err := execute(ctx, n.dispatch, blockInput{
		head: n.chain.Head(), chainID: n.chainID, now: n.clock.Now().UnixNano(),
		txs: txs, keys: keys, values: values, fetch: fetch,
	})
	if err != nil || fetched == 0 {
		return ex, err
	}
	if ok, err := n.chain.atHead(ctx); err != nil || !ok {
		return nil, errors.Join(errors.New("node: store left the head during execution"), err)
	}
	return ex, nil
}

// readForBlock reads keys, then checks that the store is still at the head:
// a store that was wiped or rolled back (a Redis restarted from an older
// snapshot) before or during the read is rebuilt and read again. Checking
// after the read is enough: only this node writes the store, so it can
// only move back, never forward, behind our back.
func (n *Node) readForBlock(ctx context.Context, keys [][]byte) ([][]byte, error) {
	for attempt := 0; attempt < 3; attempt++ {
		values, err := n.store.Get(ctx, keys)
		if err != nil && !errors.Is(err, hotchain.ErrWiped) {
			return nil, err
		}
		ok, merr := n.chain.atHead(ctx)
		if merr != nil {
			return nil, merr
		}
		if err == nil && ok {
			return values, nil
		}
		if err := n.ensureAtHead(ctx); err != nil {
			return nil, err
		}
	}
	return nil, errors.New("node: store keeps moving away from the head")
}

// ensureAtHead rebuilds the store from genesis and the log if it is not at
// the head, and tells the mempool its reads may have been stale.
func (n *Node) ensureAtHead(ctx context.Context) error {
	if ok, err := n.chain.atHead(ctx); err != nil || ok {
		return err
	}
	last, err := n.log.LastIndex()
	if err != nil {
		return err
	}
	n.logger.Warn("store is not at the head (wiped or rolled back); rebuilding from genesis and the block log", "entries", last)
	defer n.pool.reset()
	if err := n.chain.rebuild(ctx, last); err != nil {
		n.logger.Error("rebuild failed; will retry", "err", err)
		return err
	}
	return nil
}

// commit appends the block to the log and applies it. Once the block is in
// the log it is committed: it is applied even if the node is stopping, and
// if applying fails its transactions are reported as of unknown outcome
// (they apply when the node starts again), never as failed.
func (n *Node) commit(ctx context.Context, ex *execution) error {
	data, err := encodeEntry(ex)
	if err != nil {
		n.failTaken(ex.included, nil)
		return err
	}
	if last, err := n.log.LastIndex(); err != nil || last != n.chain.Head().Index {
		// Every appended entry is applied before the next block is cut; a
		// log ahead of the head means that broke, and a block appended now
		// would fork the log from the store.
		n.failTaken(ex.included, nil)
		return fmt.Errorf("node: block log ends at %d but the head is at %d (%v)", last, n.chain.Head().Index, err)
	}
	index, err := n.log.Append(data)
	if err != nil {
		n.failTaken(ex.included, nil)
		return err
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), applyAfterClose)
	defer cancel()
	u := &hotchain.Update{Index: index, Block: ex.block, Commitment: ex.commitment}
	if err := n.chain.apply(actx, u); err != nil {
		n.finishAll(ex.included, detail(ErrStopped, "block %d is committed but not yet applied; it applies when the node restarts", ex.block.Header.Height))
		return fmt.Errorf("node: block %d: %w", ex.block.Header.Height, err)
	}
	n.finishCommitted(ex)
	return nil
}

func (n *Node) finishCommitted(ex *execution) {
	ids := make([]ledger.Hash, len(ex.included))
	results := make([]api.WaitResult, len(ex.included))
	for i, p := range ex.included {
		ids[i] = p.id
		results[i].Record = &ledger.TxRecord{
			Tx: *p.tx, Receipt: ex.block.Receipts[i], Height: ex.block.Header.Height, Index: uint32(i),
		}
	}
	n.tracker.finish(ids, results)
}

// failTaken drops transactions whose block failed before it was committed
// (told ErrBlockFailed), and, when taken is given, returns all of the
// block's transactions to the pool's accounting, letting each sender
// resubmit from its first failed nonce.
func (n *Node) failTaken(failed, taken []pendingTx) {
	n.finishAll(failed, ErrBlockFailed)
	if taken == nil {
		return
	}
	nonces := make(map[ledger.Address]uint64)
	for _, p := range taken {
		if cur, ok := nonces[p.tx.From]; !ok || p.tx.Nonce < cur {
			nonces[p.tx.From] = p.tx.Nonce
		}
	}
	n.finishDropped(n.pool.done(taken, nonces))
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
