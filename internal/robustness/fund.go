package robustness

import (
	"context"
	"fmt"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/dualchain/dualchain/internal/robust"
	"github.com/dualchain/dualchain/ledger"
)

// fund makes n accounts, funds each from the faucet on the hot chain,
// has each settle part of it to the cold chain, waits until the bridge
// drained, and reads them: the history's initial accounts.
func fund(ctx context.Context, c *localcluster.Cluster, ep *endpoints, n int) ([]*account, []robust.Account, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	faucet, err := ledger.LoadKeyFile(c.FaucetKey())
	if err != nil {
		return nil, nil, err
	}
	leader, err := ep.leader(ctx, 2*time.Second)
	if err != nil {
		return nil, nil, err
	}
	fa, err := ep.strong(leader).Account(ctx, faucet.Address)
	if err != nil {
		return nil, nil, fmt.Errorf("faucet account: %w", err)
	}
	accts := make([]*account, n)
	var gifts, settles []*ledger.Tx
	for i := range accts {
		key, err := ledger.NewKey()
		if err != nil {
			return nil, nil, err
		}
		accts[i] = &account{key: key, sent: map[ledger.Hash]bool{}}
		gifts = append(gifts, newTx(c.ChainID(), faucet, robust.KindHotTransfer, key.Address, fundHot+fundCold, fa.Nonce+uint64(i)))
		settles = append(settles, newTx(c.ChainID(), key, robust.KindSettle, ledger.Address{}, fundCold, 0))
	}
	for _, batch := range [][]*ledger.Tx{gifts, settles} {
		if err := commitAll(ctx, ep.local(leader), batch); err != nil {
			return nil, nil, err
		}
	}
	if err := drain(ctx, ep, 30*time.Second); err != nil {
		return nil, nil, err
	}
	return readInitial(ctx, ep, accts)
}

// commitAll submits txs and wants every one committed with an ok receipt.
func commitAll(ctx context.Context, c interface {
	SubmitWait(context.Context, ...*ledger.Tx) ([]api.TxResult, error)
}, txs []*ledger.Tx) error {
	res, err := c.SubmitWait(ctx, txs...)
	if err != nil {
		return fmt.Errorf("fund: %w", err)
	}
	for i, r := range res {
		if r.Status != api.StatusCommitted || r.Receipt == nil || r.Receipt.Status != ledger.StatusOK {
			return fmt.Errorf("fund: tx %d: %s %+v %+v", i, r.Status, r.Error, r.Receipt)
		}
	}
	return nil
}

// readInitial reads the funded accounts atomically and sets their nonces.
func readInitial(ctx context.Context, ep *endpoints, accts []*account) ([]*account, []robust.Account, error) {
	addrs := make([]ledger.Address, len(accts))
	for i, a := range accts {
		addrs[i] = a.key.Address
	}
	snap, err := readAtomic(ctx, ep, addrs)
	if err != nil {
		return nil, nil, err
	}
	for i, got := range snap.Accounts {
		if got.Hot != fundHot || got.Cold != fundCold {
			return nil, nil, fmt.Errorf("fund: account %d holds %d hot and %d cold, want %d and %d", i, got.Hot, got.Cold, fundHot, fundCold)
		}
		accts[i].nonce = [2]uint64{got.HotNonce, got.ColdNonce}
	}
	return accts, snap.Accounts, nil
}
