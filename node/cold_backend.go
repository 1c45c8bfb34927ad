package node

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/bridge"
	"github.com/dualchain/dualchain/coldchain"
	"github.com/dualchain/dualchain/ledger"
)

var _ api.ColdBackend = backend{}

// admitCold admits a cold transaction (checked, signature verified) to the
// cold pool, unless its sender's committed cold balance cannot cover it. One already in a cold block is not an error: Wait returns
// its record.
func (n *Node) admitCold(tx *ledger.Tx, id ledger.Hash) error {
	if ok, err := n.cold.chain.Included(id); err != nil || ok {
		return err
	}
	acct, err := n.cold.chain.Account(tx.From)
	if err != nil {
		return err
	}
	if err := covered(tx, acct.Balance); err != nil {
		return err
	}
	n.tracker.forget(id) // a resubmission after a failure waits afresh
	return n.cold.pool.add(tx, id, acct.Nonce)
}

// coldErr turns the cold chain's not-found into the API's.
func coldErr(err error) error {
	if errors.Is(err, coldchain.ErrNotFound) {
		return detail(ErrNotFound, "%v", err)
	}
	return err
}

// ColdAccount returns addr's cold balance and nonce.
func (b backend) ColdAccount(_ context.Context, addr ledger.Address) (ledger.Account, error) {
	a, err := b.n.cold.chain.Account(addr)
	if err != nil {
		return ledger.Account{}, err
	}
	return ledger.Account{Address: addr, Balance: a.Balance, Nonce: a.Nonce,
		PendingNonce: b.n.cold.pool.pendingNonce(addr, a.Nonce)}, nil
}

// ColdBlock returns the cold block at height (0: the latest).
func (b backend) ColdBlock(_ context.Context, height uint64) (*ledger.ColdBlock, error) {
	if height == 0 {
		height = b.n.cold.chain.Head().Height
		if height == 0 {
			return nil, detail(ErrNotFound, "no cold block yet")
		}
	}
	blk, err := b.n.cold.chain.Block(height)
	return blk, coldErr(err)
}

var _ api.ColdHeadBackend = backend{}

// ColdHeight returns the height of the latest cold block, 0 if none.
func (b backend) ColdHeight(context.Context) (uint64, error) {
	return b.n.cold.chain.Head().Height, nil
}

// ColdProof proves addr's cold account against the block at height.
func (b backend) ColdProof(_ context.Context, addr ledger.Address, height uint64) (api.ColdProof, error) {
	p, head, err := b.n.cold.chain.Prove(addr, height)
	if err != nil {
		return api.ColdProof{}, coldErr(err)
	}
	data, err := json.Marshal(p)
	if err != nil {
		return api.ColdProof{}, err
	}
	return api.ColdProof{Height: head.Height, Root: head.Root, Proof: data}, nil
}

// BridgeTransfer returns a settle's or deposit's status: the cold chain's
// record once it has one, else the settle transaction on the hot chain,
// else a deposit waiting in the cold pool.
func (b backend) BridgeTransfer(ctx context.Context, id ledger.Hash) (api.BridgeTransfer, error) {
	t, ok, err := b.n.cold.chain.Transfer(id)
	if err != nil {
		return api.BridgeTransfer{}, err
	}
	if !ok {
		return b.pendingTransfer(ctx, id)
	}
	v := api.BridgeTransfer{
		ID: id, Kind: t.Transfer.Kind, Owner: t.Transfer.Owner, Amount: t.Transfer.Amount,
		Status: api.BridgePending, HotHeight: t.HotHeight, ColdHeight: t.ColdHeight,
	}
	switch {
	case t.Transfer.Kind == ledger.KindSettle:
		v.Status = api.BridgeCheckpointed
		if rec, err := b.n.tx(ctx, id); err == nil {
			v.HotHeight = rec.Height
		}
	case t.Done:
		v.Status = api.BridgeCredited
	}
	if v.Done() {
		p, err := b.ColdProof(ctx, v.Owner, v.ColdHeight)
		if errors.Is(err, ErrNotFound) { // proofs that old are no longer kept
			p, err = b.ColdProof(ctx, v.Owner, 0)
		}
		if err != nil {
			return api.BridgeTransfer{}, err
		}
		v.Proof = &p
	}
	return v, nil
}

// pendingTransfer finds a transfer the cold chain has no record of: a
// settle committed on the hot chain and not yet checkpointed, or a deposit
// in the cold pool.
func (b backend) pendingTransfer(ctx context.Context, id ledger.Hash) (api.BridgeTransfer, error) {
	if b.n.cold.pool.has(id) {
		return api.BridgeTransfer{}, detail(ErrNotFound, "transfer %s is a cold transaction not yet in a cold block; ask again shortly", id)
	}
	rec, err := b.Tx(ctx, id)
	if err != nil {
		return api.BridgeTransfer{}, err
	}
	tx := &rec.Tx
	amount, aerr := ledger.DecodeAmount(tx.Args)
	switch {
	case tx.Contract != ledger.BridgeAddress || !tx.IsBridgeCall() || aerr != nil:
		return api.BridgeTransfer{}, detail(ErrNotFound, "transaction %s is not a settle or a deposit", id)
	case rec.Receipt.Status != ledger.StatusOK:
		return api.BridgeTransfer{}, detail(ErrNotFound, "the %s %s failed (%s): no value moved", tx.Function, id, rec.Receipt.Status)
	}
	return api.BridgeTransfer{
		ID: id, Kind: ledger.KindSettle, Owner: tx.From, Amount: amount,
		Status: api.BridgePending, HotHeight: rec.Height,
	}, nil
}

// Audit sums this node's hot and cold state at one applied index: applies
// wait meanwhile. Hot state is read from the store (every key, so an audit
// costs a scan of it) and compared with the cold mirror plus the writes
// since the checkpoint.
func (b backend) Audit(ctx context.Context) (api.Audit, error) {
	if err := b.n.readable(); err != nil {
		return api.Audit{}, err
	}
	sm := b.n.sm
	sm.mu.Lock()
	defer sm.mu.Unlock()
	snap, err := b.n.store.Snapshot(ctx)
	if err != nil {
		return api.Audit{}, b.n.storeErr(err)
	}
	cold := b.n.cold.chain
	var readErr error
	hot := bridge.Sum(func(yield func(k, v []byte) bool) {
		for _, w := range snap.Writes {
			if !yield(w.Key, w.Value) {
				return
			}
		}
	}, func(id ledger.Hash) bool {
		_, ok, err := cold.Transfer(id)
		readErr = cmp.Or(readErr, err)
		return ok
	})
	if readErr != nil {
		return api.Audit{}, readErr
	}
	cs, err := cold.Sum()
	if err != nil {
		return api.Audit{}, err
	}
	// A deposit stays pending on the cold chain until the cold block after
	// its hot credit: from the credit on, its value is in a hot balance.
	deps, err := cold.PendingDeposits()
	if err != nil {
		return api.Audit{}, err
	}
	var inFlight uint64
	for _, d := range deps {
		if !hot.Credited[d.ID] {
			inFlight += d.Amount
		}
	}
	head, ch := b.n.chain.Head(), cold.Head()
	a := api.Audit{
		NodeID: b.n.cfg.NodeID, AppliedIndex: sm.position,
		HotHeight: head.Height, HotCommitment: head.Commitment.Digest(), ColdHeight: ch.Height, ColdRoot: ch.Root,
		Supply: b.n.supply, HotBalances: hot.Balances, ColdBalances: cs.Balances,
		InFlightSettles: hot.Escrowed, InFlightDeposits: inFlight,
		HotAccounts: hot.Accounts, ColdAccounts: cs.Accounts, BadBalances: hot.BadBalances + cs.BadBalances,
	}
	if a.MirrorMismatches, err = sm.mirrorMismatches(snap.Writes); err != nil {
		return api.Audit{}, err
	}
	if snap.Meta.Index != head.Index {
		return a, fmt.Errorf("node: audit: store at index %d, head at %d", snap.Meta.Index, head.Index)
	}
	return a, nil
}

// mirrorMismatches counts the keys where state (the store's, sorted)
// differs from the cold mirror plus the writes since the checkpoint.
// Called with s.mu held.
func (s *stateMachine) mirrorMismatches(state []ledger.Write) (int, error) {
	want := make(map[string][]byte)
	err := s.cold.ScanMirror(func(k, v []byte) error {
		want[string(k)] = append([]byte(nil), v...)
		return nil
	})
	if err != nil {
		return 0, err
	}
	for k, v := range s.dirty {
		if len(v) == 0 {
			delete(want, k)
		} else {
			want[k] = v
		}
	}
	bad := 0
	for _, w := range state {
		if v, ok := want[string(w.Key)]; !ok || string(v) != string(w.Value) {
			bad++
		}
		delete(want, string(w.Key))
	}
	return bad + len(want), nil
}
