package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/internal/progress"
	"github.com/dualchain/dualchain/ledger"
)

// What alice moves across the bridge.
const (
	settleAmount  = 300
	depositAmount = 100
)

// bridgePoll is how often the demo asks for a bridge transfer's status.
const bridgePoll = 50 * time.Millisecond

func (r *run) settleTitle() string {
	return fmt.Sprintf("Settle %d of alice's tokens to the cold chain, wait for the checkpoint, and check the Merkle proof offline", settleAmount)
}

// settle moves settleAmount of alice's to the cold chain, and a little of
// every other account's (so that the cold state's Merkle tree has more
// than one leaf), waits until a checkpoint credits them, fetches alice's
// proof from one node and the cold block's state root from another, and
// verifies the proof against it.
func (r *run) settle(ctx context.Context, s *Step) (string, error) {
	var txs []*ledger.Tx
	for i, a := range r.accounts()[1:] {
		amount := uint64(settleAmount)
		if a != r.alice {
			amount = uint64(10 + i)
		}
		txs = append(txs, a.sign(r.chainID, &ledger.Tx{Chain: ledger.Hot, Contract: ledger.BridgeAddress,
			Function: ledger.FuncSettle, Args: ledger.EncodeAmount(amount), GasLimit: client.BridgeGas}))
	}
	res, err := r.send.settle(ctx, 0, txs)
	if err == nil {
		err = allOK(res)
	}
	if err != nil {
		return "", fmt.Errorf("settle: %w", err)
	}
	r.say.linef("alice's settle %s committed in hot block %d: %d escrowed on the hot chain (and %d small settles from bob and load1..load%d)",
		shortHash(res[0].ID), res[0].Block, settleAmount, len(res)-1, loadAccounts)
	t, took, err := r.waitBridge(ctx, res[0].ID, "waiting for the checkpoint")
	if err != nil {
		return "", err
	}
	r.say.linef("checkpointed into cold block %d after %s: alice's cold account credited", t.ColdHeight, progress.Seconds(took))
	for _, x := range res[1:] {
		if _, err := r.clients[0].WaitBridge(ctx, x.ID, bridgePoll); err != nil {
			return "", fmt.Errorf("bridge transfer %s: %w", x.ID, err)
		}
	}
	s.Figures["cold_height"] = t.ColdHeight
	s.Figures["seconds_to_checkpoint"] = took.Seconds()
	return r.verifyProof(ctx, s, t.ColdHeight)
}

// waitBridge waits until bridge transfer id is done, showing a spinner.
func (r *run) waitBridge(ctx context.Context, id ledger.Hash, label string) (api.BridgeTransfer, time.Duration, error) {
	task := r.say.start(label, 0)
	t, err := r.clients[0].WaitBridge(ctx, id, bridgePoll)
	_, took := task.Done()
	if err != nil {
		return t, took, fmt.Errorf("bridge transfer %s: %w", id, err)
	}
	return t, took, nil
}

// verifyProof fetches alice's cold proof at height from the first node,
// the cold block at height from the last, and checks the one against the
// other's state root, offline.
func (r *run) verifyProof(ctx context.Context, s *Step, height uint64) (string, error) {
	from, rootFrom := r.c.Nodes()[0].ID, r.c.Nodes()[len(r.clients)-1].ID
	cp, err := r.clients[0].ColdProof(ctx, r.alice.addr(), height)
	if err != nil {
		return "", fmt.Errorf("proof of alice's cold account at cold block %d: %w", height, err)
	}
	b, err := coldBlock(ctx, r.clients[len(r.clients)-1], height)
	if err != nil {
		return "", fmt.Errorf("cold block %d from %s: %w", height, rootFrom, err)
	}
	p, err := ledger.ParseProof(cp.Proof)
	if err != nil {
		return "", fmt.Errorf("the proof %s sent: %w", from, err)
	}
	root := b.Header.StateRoot
	if err := checkProof(p, root, r.alice.addr(), settleAmount); err != nil {
		return "", err
	}
	r.say.linef("proof from %s (%d siblings, %d bytes) checked offline against the state root of cold block %d from %s: %s",
		from, len(p.Siblings), len(cp.Proof), height, rootFrom, short(root))
	s.Figures["state_root"] = root.String()
	s.Figures["proof_siblings"] = len(p.Siblings)
	return fmt.Sprintf("the proof holds: alice has %d on the cold chain at root %s", p.Account.Balance, short(root)), nil
}

// coldBlock fetches the cold block at height, waiting while the node has
// not got it yet (a follower applies it a little after the leader).
func coldBlock(ctx context.Context, c *client.Client, height uint64) (*ledger.ColdBlock, error) {
	for {
		b, err := c.ColdBlock(ctx, height)
		var cerr *client.Error
		if err == nil || !errors.As(err, &cerr) || cerr.Code != api.CodeNotFound {
			return b, err
		}
		if !pause(ctx, bridgePoll) {
			return nil, fmt.Errorf("%w (the node still has no such block: %v)", ctx.Err(), err)
		}
	}
}

// checkProof checks p against the trusted root: it must lead there, be
// about addr, and include it with balance.
func checkProof(p *ledger.Proof, root ledger.Hash, addr ledger.Address, balance uint64) error {
	if err := p.Verify(root); err != nil {
		return fmt.Errorf("the proof does not verify against the state root %s: %w", root, err)
	}
	switch {
	case p.Address != addr:
		return fmt.Errorf("the proof is about %s, not alice (%s)", p.Address, addr)
	case !p.Included():
		return fmt.Errorf("the proof says alice has no cold account at root %s", root)
	case p.Account.Balance != balance:
		return fmt.Errorf("the proof gives alice a cold balance of %d, want %d", p.Account.Balance, balance)
	}
	return nil
}

func shortHash(h ledger.Hash) string { return short(h) + "…" }

func (r *run) depositTitle() string {
	return fmt.Sprintf("Deposit %d of alice's cold tokens back to the hot chain and wait until they are credited", depositAmount)
}

// deposit moves depositAmount of alice's back to the hot chain and checks
// her hot balance rose by as much.
func (r *run) deposit(ctx context.Context, s *Step) (string, error) {
	before, err := r.clients[0].Account(ctx, r.alice.addr())
	if err != nil {
		return "", err
	}
	tx := &ledger.Tx{Chain: ledger.Cold, Contract: ledger.BridgeAddress, Function: ledger.FuncDeposit,
		Args: ledger.EncodeAmount(depositAmount), GasLimit: client.BridgeGas}
	res, err := r.submit(ctx, 0, r.alice, tx)
	if err == nil {
		err = allOK([]api.TxResult{res})
	}
	if err != nil {
		return "", err
	}
	r.say.linef("deposit %s committed in cold block %d: %d debited from alice's cold account", shortHash(res.ID), res.Block, depositAmount)
	t, took, err := r.waitBridge(ctx, res.ID, "waiting for the hot chain to credit it")
	if err != nil {
		return "", err
	}
	after, err := r.clients[0].Account(ctx, r.alice.addr())
	if err != nil {
		return "", err
	}
	r.say.linef("credited in hot block %d after %s: alice's hot balance %s → %s", t.HotHeight, progress.Seconds(took),
		progress.Count(int64(before.Balance)), progress.Count(int64(after.Balance)))
	if after.Balance != before.Balance+depositAmount {
		return "", fmt.Errorf("alice's hot balance went from %d to %d, want +%d", before.Balance, after.Balance, depositAmount)
	}
	s.Figures["hot_height"] = t.HotHeight
	s.Figures["seconds_to_credit"] = took.Seconds()
	return fmt.Sprintf("%d back on the hot chain, %s after the deposit committed", depositAmount, progress.Seconds(took)), nil
}
