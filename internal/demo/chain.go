package demo

import (
	"context"
	"fmt"

	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/internal/audit"
	"github.com/dualchain/dualchain/internal/progress"
	"github.com/dualchain/dualchain/ledger"
)

// place is a transaction's block and index.
type place struct {
	block uint64
	index uint32
}

// chainView is one node's hot chain as its blocks show it.
type chainView struct {
	height uint64
	txs    int
	at     map[ledger.Hash]place
	twice  []ledger.Hash               // ids found more than once
	nonces map[ledger.Address][]uint64 // each sender's nonces, in chain order
}

// readChain reads every hot block a node holds, from 1 to its head.
func readChain(ctx context.Context, c *client.Client) (*chainView, error) {
	st, err := c.Status(ctx)
	if err != nil {
		return nil, err
	}
	v := &chainView{height: st.Height, at: make(map[ledger.Hash]place), nonces: make(map[ledger.Address][]uint64)}
	if st.Height == 0 {
		return v, nil
	}
	blocks, err := c.Blocks(ctx, 1, st.Height)
	if err != nil {
		return nil, err
	}
	if uint64(len(blocks)) != st.Height || blocks[0].Height != 1 {
		return nil, fmt.Errorf("asked for hot blocks 1 to %d, got %d blocks", st.Height, len(blocks))
	}
	for _, b := range blocks {
		for _, tx := range b.Txs {
			if _, ok := v.at[tx.ID]; ok {
				v.twice = append(v.twice, tx.ID)
			}
			v.at[tx.ID] = place{tx.Block, tx.Index}
			v.nonces[tx.From] = append(v.nonces[tx.From], tx.Nonce)
			v.txs++
		}
	}
	return v, nil
}

// held checks that every acknowledged transaction is in the chain where
// its receipt said.
func (v *chainView) held(node string, acked map[ledger.Hash]ack) audit.Check {
	for id, a := range acked {
		if p, ok := v.at[id]; !ok || p != (place{a.block, a.index}) {
			return audit.Check{Check: CheckHeld, Node: node, Detail: fmt.Sprintf("%s, acknowledged in block %d index %d, is not there (%d blocks read)",
				id, a.block, a.index, v.height)}
		}
	}
	return audit.Check{Check: CheckHeld, Node: node, Pass: true, Detail: fmt.Sprintf("all %s in its %s transactions in %d blocks, each where its receipt said",
		progress.Count(int64(len(acked))), progress.Count(int64(v.txs)), v.height)}
}

// once checks that no transaction is in the chain twice, and that each
// account's nonces there are 0, 1, ... up to what the demo signed.
func (v *chainView) once(node string, accts []*account) audit.Check {
	if len(v.twice) > 0 {
		return audit.Check{Check: CheckOnce, Node: node, Detail: fmt.Sprintf("%d transactions are in the chain twice, %s first", len(v.twice), v.twice[0])}
	}
	for _, a := range accts {
		got := v.nonces[a.addr()]
		if uint64(len(got)) != a.hot {
			return audit.Check{Check: CheckOnce, Node: node, Detail: fmt.Sprintf("%s has %d transactions in the chain, the demo had %d committed", a.name, len(got), a.hot)}
		}
		for i, n := range got {
			if n != uint64(i) {
				return audit.Check{Check: CheckOnce, Node: node, Detail: fmt.Sprintf("%s's %d-th transaction in the chain has nonce %d", a.name, i, n)}
			}
		}
	}
	return audit.Check{Check: CheckOnce, Node: node, Pass: true, Detail: fmt.Sprintf("no id twice among %s transactions; the %d senders' nonces run 0, 1, ... without a gap or a repeat",
		progress.Count(int64(v.txs)), len(accts))}
}
