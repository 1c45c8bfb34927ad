package node

import (
	"context"
	"errors"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/ledger"
)

// produce cuts, executes, commits and applies blocks until ctx ends. A
// block is cut when MaxBlockTxs transactions are pending, or BlockInterval
// after the first pending one arrived.
func (n *Node) produce(ctx context.Context) error {
	for {
		if err := n.waitForBlock(ctx); err != nil {
			return nil // stopping
		}
		txs := n.pool.take(n.cfg.MaxBlockTxs)
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

// waitForBlock returns when a block should be cut.
func (n *Node) waitForBlock(ctx context.Context) error {
	if n.pool.full(n.cfg.MaxBlockTxs) {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-n.wiped:
		if err := n.rebuildStore(ctx); err != nil {
			n.logger.Error("rebuild failed; will retry on the next error", "err", err)
		}
		return nil
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

// makeBlock executes txs into a block, appends it to the log and applies it.
// If the store cannot be read, the transactions are dropped with
// ErrBlockFailed (clients resubmit with the same nonce) and the node goes
// on; if the log cannot be written, the node stops.
func (n *Node) makeBlock(ctx context.Context, txs []pendingTx) error {
	start := time.Now()
	keys := blockKeys(txs)
	values, err := n.store.Get(ctx, keys)
	if errors.Is(err, hotchain.ErrWiped) {
		// The store lost its state under us: rebuild it from genesis and the
		// log before executing anything on it.
		if err = n.rebuildStore(ctx); err == nil {
			values, err = n.store.Get(ctx, keys)
		}
	}
	if err != nil {
		n.logger.Error("read state for block failed; dropping its transactions", "txs", len(txs), "err", err)
		n.failTaken(txs)
		return nil
	}
	ex := execute(n.chain.Head(), n.chainID, n.clock.Now().UnixNano(), txs, keys, values)
	n.finishDropped(ex.dropped)
	if len(ex.included) > 0 {
		if err := n.commit(ctx, ex); err != nil {
			n.failTaken(txs)
			return err
		}
	}
	n.finishDropped(n.pool.done(txs, ex.nonces))
	n.metrics.observeBlock(ex.block, time.Since(start))
	return nil
}

// rebuildStore rebuilds a wiped store from genesis and the whole log.
func (n *Node) rebuildStore(ctx context.Context) error {
	last, err := n.log.LastIndex()
	if err != nil {
		return err
	}
	n.logger.Warn("store lost its state; rebuilding from genesis and the block log", "entries", last)
	return n.chain.rebuild(ctx, last)
}

// commit appends the block to the log and applies it.
func (n *Node) commit(ctx context.Context, ex *execution) error {
	data, err := encodeEntry(ex)
	if err != nil {
		return err
	}
	index, err := n.log.Append(data)
	if err != nil {
		return err
	}
	u := &hotchain.Update{Index: index, Block: ex.block, Commitment: ex.commitment}
	if err := n.chain.apply(ctx, u); err != nil {
		return err
	}
	ids := make([]ledger.Hash, len(ex.included))
	results := make([]api.WaitResult, len(ex.included))
	for i, p := range ex.included {
		ids[i] = p.id
		results[i].Record = &ledger.TxRecord{
			Tx: *p.tx, Receipt: ex.block.Receipts[i], Height: ex.block.Header.Height, Index: uint32(i),
		}
	}
	n.tracker.finish(ids, results)
	return nil
}

// failTaken drops taken transactions whose block failed, and lets their
// senders resubmit from the first failed nonce.
func (n *Node) failTaken(txs []pendingTx) {
	nonces := make(map[ledger.Address]uint64)
	drops := make([]pendingTxErr, len(txs))
	for i, p := range txs {
		if cur, ok := nonces[p.tx.From]; !ok || p.tx.Nonce < cur {
			nonces[p.tx.From] = p.tx.Nonce
		}
		drops[i] = pendingTxErr{p.id, ErrBlockFailed}
	}
	n.finishDropped(drops)
	n.finishDropped(n.pool.done(txs, nonces))
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
