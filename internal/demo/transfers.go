package demo

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/internal/loadgen"
	"github.com/dualchain/dualchain/internal/progress"
	"github.com/dualchain/dualchain/ledger"
)

// The burst of step 2.
const (
	loadAccounts = 8       // senders of the burst
	fundAmount   = 1 << 24 // each account's funding from the faucet
	burstBatch   = 250     // transfers per submission
	burstWorkers = 4       // submissions in flight
)

func (r *run) transfersTitle() string {
	return fmt.Sprintf("Fund %d accounts from the faucet (%s), then a burst of %s pre-signed hot transfers",
		loadAccounts+2, filepath.Join(r.cfg.Dir, "faucet.key"), progress.Count(int64(r.cfg.Transfers)))
}

// transfers funds alice, bob and the load accounts, then sends the burst.
func (r *run) transfers(ctx context.Context, s *Step) (string, error) {
	if err := r.makeAccounts(); err != nil {
		return "", err
	}
	if err := r.fund(ctx); err != nil {
		return "", err
	}
	txs := r.presign()
	took, err := r.burst(ctx, txs)
	if err != nil {
		return "", err
	}
	rate := progress.PerSecond(int64(len(txs)), took)
	s.Figures["transfers"] = len(txs)
	s.Figures["seconds"] = took.Seconds()
	s.Figures["tx_per_second"] = rate
	r.say.linef("%s transfers from %d senders committed in %s: %s tx/s (batches of %d, %d in flight, through every node; %s)",
		progress.Count(int64(len(txs))), loadAccounts, progress.Seconds(took), progress.Count(rate), burstBatch, burstWorkers, r.send.resends())
	return fmt.Sprintf("%s of %s committed, every receipt ok: %s tx/s", progress.Count(int64(len(txs))),
		progress.Count(int64(len(txs))), progress.Count(rate)), nil
}

// makeAccounts makes alice and bob, whose key files it writes to the
// cluster's directory for use by hand, and the load accounts.
func (r *run) makeAccounts() error {
	var err error
	if r.alice, err = r.namedAccount("alice"); err != nil {
		return err
	}
	if r.bob, err = r.namedAccount("bob"); err != nil {
		return err
	}
	for i := range loadAccounts {
		a, err := newAccount(fmt.Sprintf("load%d", i+1))
		if err != nil {
			return err
		}
		r.load = append(r.load, a)
	}
	return nil
}

func (r *run) namedAccount(name string) (*account, error) {
	a, err := newAccount(name)
	if err != nil {
		return nil, err
	}
	return a, ledger.WriteKeyFile(r.keyFile(name), a.key)
}

func (r *run) keyFile(name string) string { return filepath.Join(r.cfg.Dir, name+".key") }

// accounts are the demo's senders, the faucet first.
func (r *run) accounts() []*account {
	out := []*account{r.faucet}
	if r.alice != nil {
		out = append(out, r.alice, r.bob)
	}
	return append(out, r.load...)
}

// fund sends fundAmount from the faucet to every other account, in one
// submission.
func (r *run) fund(ctx context.Context) error {
	var txs []*ledger.Tx
	for _, a := range r.accounts()[1:] {
		txs = append(txs, r.faucet.sign(r.chainID, transfer(a.addr(), fundAmount)))
	}
	res, err := r.send.settle(ctx, 0, txs)
	if err != nil {
		return fmt.Errorf("fund the accounts: %w", err)
	}
	if err := allOK(res); err != nil {
		return fmt.Errorf("fund the accounts: %w", err)
	}
	r.say.linef("funded alice, bob and load1..load%d with %s each: %d transfers from the faucet, committed in hot block %d",
		loadAccounts, progress.Count(fundAmount), len(txs), res[len(res)-1].Block)
	return nil
}

// allOK fails unless every result is committed with an ok receipt.
func allOK(res []api.TxResult) error {
	for _, x := range res {
		switch {
		case x.Status != api.StatusCommitted:
			return fmt.Errorf("transaction %s %s: %v", x.ID, x.Status, describeResult(x))
		case x.Receipt == nil || x.Receipt.Status != ledger.StatusOK:
			return fmt.Errorf("transaction %s committed in block %d but failed: %v", x.ID, x.Block, describeResult(x))
		}
	}
	return nil
}

func describeResult(x api.TxResult) string {
	switch {
	case x.Error != nil:
		return fmt.Sprintf("%s (%s)", x.Error.Message, x.Error.Code)
	case x.Receipt != nil && x.Receipt.Error != "":
		return fmt.Sprintf("%s: %s", x.Receipt.Status, x.Receipt.Error)
	case x.Receipt != nil:
		return x.Receipt.Status.String()
	}
	return "no receipt"
}

// presign signs the burst with loadgen, round-robin over the load
// accounts, and moves their nonces past it.
func (r *run) presign() []*ledger.Tx {
	keys := make([]*ledger.Key, len(r.load))
	for i, a := range r.load {
		keys[i] = a.key
	}
	txs := loadgen.Presign(keys, r.chainID, r.cfg.Transfers)
	for i, a := range r.load {
		a.hot = uint64((r.cfg.Transfers - i + len(r.load) - 1) / len(r.load))
	}
	return txs
}

// burst sends txs in batches, burstWorkers at a time, each worker through
// its own node, and returns how long they took to commit.
func (r *run) burst(ctx context.Context, txs []*ledger.Tx) (time.Duration, error) {
	task := r.say.start("transfers committed", len(txs))
	jobs := make(chan []*ledger.Tx)
	g, gctx := errgroup.WithContext(ctx)
	for w := range burstWorkers {
		g.Go(func() error {
			for batch := range jobs {
				res, err := r.send.settle(gctx, w%len(r.clients), batch)
				if err == nil {
					err = allOK(res)
				}
				if err != nil {
					return err
				}
				task.Add(int64(len(batch)))
			}
			return nil
		})
	}
	feed(gctx, jobs, txs, burstBatch)
	err := g.Wait()
	_, took := task.Done()
	return took, err
}

// feed sends txs to jobs in batches until done or ctx ends, then closes
// jobs.
func feed(ctx context.Context, jobs chan<- []*ledger.Tx, txs []*ledger.Tx, batch int) {
	defer close(jobs)
	for lo := 0; lo < len(txs); lo += batch {
		select {
		case jobs <- txs[lo:min(lo+batch, len(txs))]:
		case <-ctx.Done():
			return
		}
	}
}
