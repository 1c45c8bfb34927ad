package robustness

import (
	"context"
	"fmt"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/internal/robust"
	"github.com/dualchain/dualchain/ledger"
)

// readAccount reads addr on both chains and the audit's sums with c.
func readAccount(ctx context.Context, c *client.Client, addr ledger.Address) (robust.Account, api.Audit, error) {
	hot, err := c.Account(ctx, addr)
	if err != nil {
		return robust.Account{}, api.Audit{}, fmt.Errorf("hot account: %w", err)
	}
	cold, err := c.ColdAccount(ctx, addr)
	if err != nil {
		return robust.Account{}, api.Audit{}, fmt.Errorf("cold account: %w", err)
	}
	au, err := c.Audit(ctx)
	if err != nil {
		return robust.Account{}, api.Audit{}, fmt.Errorf("audit: %w", err)
	}
	return robust.Account{Address: addr, Hot: hot.Balance, HotNonce: hot.Nonce, Cold: cold.Balance, ColdNonce: cold.Nonce}, au, nil
}

// readStrong reads addr with strong reads, through the nodes in turn from
// home until one answers or ctx ends. The hot side, the cold side and the
// sums are read at separate instants: the snapshot is not atomic.
func readStrong(ctx context.Context, ep *endpoints, home int, addr ledger.Address) (robust.Snapshot, error) {
	var last error
	for attempt := 0; ctx.Err() == nil; attempt++ {
		id := ep.node(home, attempt)
		a, au, err := readAccount(ctx, ep.strong(id), addr)
		if err == nil {
			sums := robust.SumsOf(au)
			return robust.Snapshot{Node: au.NodeID, Accounts: []robust.Account{a}, Sums: &sums}, nil
		}
		last = fmt.Errorf("%s: %w", id, err)
		sleepCtx(ctx, backoff(attempt))
	}
	return robust.Snapshot{}, fmt.Errorf("strong read of %s: %w (last: %v)", addr, ctx.Err(), last)
}

// readLocal reads addr from node id's own state, which may lag.
func readLocal(ctx context.Context, ep *endpoints, id string, addr ledger.Address) (robust.Snapshot, error) {
	a, au, err := readAccount(ctx, ep.local(id), addr)
	if err != nil {
		return robust.Snapshot{}, fmt.Errorf("local read of %s on %s: %w", addr, id, err)
	}
	sums := robust.SumsOf(au)
	return robust.Snapshot{Node: id, AppliedIndex: au.AppliedIndex, Accounts: []robust.Account{a}, Sums: &sums}, nil
}

// readAtomic reads every account in addrs and the sums on the leader, with
// strong reads between two audits, until both audits come from one node
// at one applied index (then every value was read at that index: the read
// is atomic) or ctx ends.
func readAtomic(ctx context.Context, ep *endpoints, addrs []ledger.Address) (robust.Snapshot, error) {
	var last error
	for attempt := 0; ctx.Err() == nil; attempt++ {
		snap, err := readAtomicOnce(ctx, ep, addrs)
		if err == nil {
			return snap, nil
		}
		last = err
		sleepCtx(ctx, backoff(attempt))
	}
	return robust.Snapshot{}, fmt.Errorf("%w: %v (last: %v)", ErrNotAtomic, ctx.Err(), last)
}

func readAtomicOnce(ctx context.Context, ep *endpoints, addrs []ledger.Address) (robust.Snapshot, error) {
	leader, err := ep.leader(ctx, time.Second)
	if err != nil {
		return robust.Snapshot{}, err
	}
	c := ep.strong(leader)
	before, err := c.Audit(ctx)
	if err != nil {
		return robust.Snapshot{}, err
	}
	snap := robust.Snapshot{Node: before.NodeID, AppliedIndex: before.AppliedIndex, Atomic: true}
	for _, addr := range addrs {
		hot, err := c.Account(ctx, addr)
		if err != nil {
			return snap, err
		}
		cold, err := c.ColdAccount(ctx, addr)
		if err != nil {
			return snap, err
		}
		snap.Accounts = append(snap.Accounts, robust.Account{Address: addr, Hot: hot.Balance, HotNonce: hot.Nonce, Cold: cold.Balance, ColdNonce: cold.Nonce})
	}
	after, err := c.Audit(ctx)
	if err != nil {
		return snap, err
	}
	if after.NodeID != before.NodeID || after.AppliedIndex != before.AppliedIndex {
		return snap, fmt.Errorf("%w: audits at %s index %d and %s index %d", ErrNotAtomic, before.NodeID, before.AppliedIndex, after.NodeID, after.AppliedIndex)
	}
	sums := robust.SumsOf(before)
	snap.Sums = &sums
	return snap, nil
}

// drain waits, at most timeout, until the leader's audit has nothing in
// flight between the chains.
func drain(ctx context.Context, ep *endpoints, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last string
	for attempt := 0; ; attempt++ {
		leader, err := ep.leader(ctx, time.Second)
		if err == nil {
			var au api.Audit
			if au, err = ep.strong(leader).Audit(ctx); err == nil && au.InFlightSettles+au.InFlightDeposits == 0 {
				return nil
			} else if err == nil {
				last = fmt.Sprintf("%d in flight in settles and %d in deposits", au.InFlightSettles, au.InFlightDeposits)
			}
		}
		if err != nil {
			last = err.Error()
		}
		if !sleepCtx(ctx, min(backoff(attempt), 200*time.Millisecond)) {
			return fmt.Errorf("robustness: the bridge did not drain in %v: %s", timeout, last)
		}
	}
}
