package bench

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/contracts/registry"
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/internal/progress"
	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/vm"
)

// fundBatch is how many of the faucet's transactions go in one request:
// under the node's nonce window (1,024 past the committed nonce).
const fundBatch = 1000

// bridgePoll is how often a settle's checkpoint is polled for.
const bridgePoll = 100 * time.Millisecond

// Options are how a run reports and what it reuses.
type Options struct {
	// Live gets a progress line while the run lasts (redrawn in place on
	// a terminal, a line every few seconds otherwise); nil for none.
	Live io.Writer
	// VerifyLimit is this machine's signature-verification rate, measured
	// earlier in the same session; 0 to measure it before the load.
	VerifyLimit float64
	// Started, when set, is called as the clock starts: after the setup,
	// before the first batch.
	Started func()
}

// runner is one Run's state.
type runner struct {
	cfg      Config
	opts     Options
	t        Target
	c        *conn
	accts    []*account
	registry ledger.Address
	say      *liveLine
}

// Run funds cfg.Accounts fresh accounts on the target, grows its state to
// cfg.StateAccounts, signs the workload, measures the verification limit
// (unless given) and then offers the workload for cfg.Duration.
func Run(ctx context.Context, t Target, cfg Config, opts Options) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, err
	}
	if t.Faucet == nil {
		return Result{}, fmt.Errorf("%w: no key to fund the accounts from", ErrBadConfig)
	}
	r := &runner{cfg: cfg, opts: opts, t: t, say: newLiveLine(opts.Live)}
	var err error
	if r.c, err = t.connect(ctx, cfg.Concurrency); err != nil {
		return Result{}, err
	}
	if err := r.c.checkExec(cfg.Workload); err != nil {
		return Result{}, err
	}
	if err := r.prepare(ctx); err != nil {
		return Result{}, err
	}
	txs := step(r, "signing the workload", func() []*ledger.Tx {
		return presign(r.c.chainID, r.accts, cfg.presign(), false, generator(cfg.Workload, r.registry))
	})
	limit := opts.VerifyLimit
	if limit == 0 {
		r.say.printf("measuring this machine's signature-verification limit (%s)", progress.Seconds(VerifyTime))
		limit = VerifyLimit(VerifyTime)
	}
	l := &load{c: r.c.leader, batches: batches(txs, cfg.Batch), rate: cfg.Rate, duration: cfg.Duration, concurrency: cfg.Concurrency}
	stop := r.say.follow(l, cfg.Workload)
	if opts.Started != nil {
		opts.Started()
	}
	l.run(ctx)
	stop()
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	res := r.result(limit)
	l.result(&res)
	if limit > 0 {
		res.OfLimit = res.PerSec / limit
	}
	return res, nil
}

// prepare funds the accounts, deploys what the workload calls and grows
// the state.
func (r *runner) prepare(ctx context.Context) error {
	r.accts = step(r, fmt.Sprintf("creating %s accounts", progress.Count(int64(r.cfg.Accounts))), func() []*account {
		return newAccounts(r.cfg.Accounts)
	})
	if err := step(r, "funding them from the faucet", func() error { return r.fund(ctx) }); err != nil {
		return fmt.Errorf("funding the accounts: %w", err)
	}
	if r.cfg.Workload == Contract {
		r.say.printf("deploying the registry contract")
		if err := r.deploy(ctx); err != nil {
			return fmt.Errorf("deploying the registry: %w", err)
		}
	}
	if grow := r.cfg.StateAccounts - r.cfg.Accounts; grow > 0 {
		r.say.printf("growing the state by %s accounts", progress.Count(int64(grow)))
		if err := r.grow(ctx, grow); err != nil {
			return fmt.Errorf("growing the state: %w", err)
		}
	}
	return nil
}

// step runs f, saying what it does and how long it took.
func step[T any](r *runner, what string, f func() T) T {
	start := time.Now()
	v := f()
	r.say.printf("%s: %s", what, progress.Seconds(time.Since(start)))
	return v
}

// fund sends every account its hot balance (and, for workloads with cold
// transactions, its cold balance: the faucet settles the total, then pays
// each account on the cold chain).
func (r *runner) fund(ctx context.Context) error {
	faucet, err := r.faucet(ctx)
	if err != nil {
		return err
	}
	pay := func(chain ledger.Chain, amount uint64) []*ledger.Tx {
		txs := make([]*ledger.Tx, len(r.accts))
		for i, a := range r.accts {
			txs[i] = faucet.tx(r.c.chainID, chain, token.Address, token.FuncTransfer, token.EncodeTransfer(a.key.Address, amount), token.TransferGas)
		}
		return txs
	}
	if err := r.commitAll(ctx, pay(ledger.Hot, hotFunds)); err != nil {
		return err
	}
	if r.cfg.Workload != Cold && r.cfg.Workload != Mixed {
		return nil
	}
	settle := faucet.tx(r.c.chainID, ledger.Hot, ledger.BridgeAddress, ledger.FuncSettle,
		ledger.EncodeAmount(uint64(len(r.accts))*coldFunds), client.BridgeGas)
	if err := r.commitAll(ctx, []*ledger.Tx{settle}); err != nil {
		return err
	}
	bt, err := r.c.leader.WaitBridge(ctx, settle.ID(), bridgePoll)
	if err != nil {
		return fmt.Errorf("the faucet's settle %s: %w", settle.ID(), err)
	}
	if bt.Status != "credited" && bt.Status != "checkpointed" {
		return fmt.Errorf("the faucet's settle %s ended %s", settle.ID(), bt.Status)
	}
	return r.commitAll(ctx, pay(ledger.Cold, coldFunds))
}

// faucet is the funding key as an account with its next nonces.
func (r *runner) faucet(ctx context.Context) (*faucetAccount, error) {
	addr := r.t.Faucet.Address
	hot, err := r.c.leader.Account(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("the faucet's hot account: %w", err)
	}
	cold, err := r.c.leader.ColdAccount(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("the faucet's cold account: %w", err)
	}
	return &faucetAccount{account{key: r.t.Faucet, hot: max(hot.Nonce, hot.PendingNonce), cold: max(cold.Nonce, cold.PendingNonce)}}, nil
}

// faucetAccount signs the run's setup transactions.
type faucetAccount struct{ account }

func (f *faucetAccount) tx(chainID string, chain ledger.Chain, contract ledger.Address, function string, args []byte, gas uint64) *ledger.Tx {
	tx := &ledger.Tx{ChainID: chainID, Chain: chain, Nonce: f.next(chain), From: f.key.Address,
		Contract: contract, Function: function, Args: args, GasLimit: gas}
	tx.Sign(f.key.Private)
	return tx
}

// deploy deploys the example registry from the faucet.
func (r *runner) deploy(ctx context.Context) error {
	faucet, err := r.faucet(ctx)
	if err != nil {
		return err
	}
	tx := faucet.tx(r.c.chainID, ledger.Hot, ledger.DeployAddress, ledger.FuncDeploy, registry.Wasm,
		vm.GasCall+vm.DeployGas(len(registry.Wasm)))
	res, err := r.c.leader.SubmitWait(ctx, tx)
	if err != nil {
		return err
	}
	if kind := resultKind(res[0]); kind != "" {
		return fmt.Errorf("deploy %s: %s", tx.ID(), kind)
	}
	r.registry = ledger.Address(res[0].Receipt.Result)
	return nil
}

// growChunk is how many of grow's transfers are signed at a time, to
// bound the memory a state of millions of accounts takes to make.
const growChunk = 100_000

// grow sends n transfers from the accounts to fresh addresses, each a new
// account in the state, as fast as they commit.
func (r *runner) grow(ctx context.Context, n int) error {
	for done := 0; done < n; done += growChunk {
		txs := presign(r.c.chainID, r.accts, min(growChunk, n-done), true, generator(Native, ledger.Address{}))
		l := &load{c: r.c.leader, batches: batches(txs, r.cfg.Batch), concurrency: r.cfg.Concurrency}
		stop := r.say.follow(l, fmt.Sprintf("growing the state (%s of %s)", progress.Count(int64(done)), progress.Count(int64(n))))
		l.run(ctx)
		stop()
		var res Result
		l.result(&res)
		if res.Errors > 0 {
			return fmt.Errorf("%d of %d transfers failed: %v", res.Errors, len(txs), res.ErrorKinds)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// commitAll submits the faucet's txs in order, fundBatch at a time, and
// fails unless every one committed with an ok receipt.
func (r *runner) commitAll(ctx context.Context, txs []*ledger.Tx) error {
	for _, b := range batches(txs, fundBatch) {
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		res, err := r.c.leader.SubmitWait(rctx, b...)
		cancel()
		if len(res) != len(b) {
			return fmt.Errorf("%d transactions: %w", len(b), err)
		}
		for i, x := range res {
			if kind := resultKind(x); kind != "" {
				msg := kind
				if x.Error != nil {
					msg = x.Error.Message
				}
				return fmt.Errorf("tx %s: %s", b[i].ID(), msg)
			}
		}
	}
	return nil
}

// result is the run's description, before the load's figures.
func (r *runner) result(limit float64) Result {
	return Result{
		Workload: r.cfg.Workload, Nodes: r.c.nodes, Store: r.c.status.Store, Exec: r.c.status.Exec,
		Accounts: r.cfg.Accounts, StateSize: max(r.cfg.StateAccounts, r.cfg.Accounts),
		Concurrency: r.cfg.Concurrency, Batch: r.cfg.Batch, Offered: r.cfg.Rate, VerifyLimit: limit,
	}
}
