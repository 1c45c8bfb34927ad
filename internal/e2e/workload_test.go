package e2e

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
)

// codeNonceTooLow is the node's answer to a nonce already used.
const codeNonceTooLow = "nonce_too_low"

// sentTx is a transfer the test signed and sent at least once.
type sentTx struct {
	tx     *ledger.Tx
	id     ledger.Hash
	to     ledger.Address
	amount uint64
}

// ack is where a "committed" answer said a transaction is.
type ack struct {
	block uint64
	index uint32
}

// account is a key the test sends from. It signs exactly one transaction
// per nonce, so txs[n] is the only transaction that can hold nonce n.
// Only one goroutine at a time touches an account.
type account struct {
	key *ledger.Key
	txs []*sentTx
	// acked holds, by nonce, where a "committed" answer put a transaction,
	// or, for one committed without the test being told, where check found
	// it once it was resubmitted (settle): from then on it must stay there.
	acked map[uint64]ack
}

func newAccount(key *ledger.Key) *account {
	return &account{key: key, acked: make(map[uint64]ack)}
}

// sign signs the account's next transfer and records it as sent.
func (a *account) sign(chainID string, to ledger.Address, amount uint64) *sentTx {
	tx := &ledger.Tx{
		ChainID: chainID, Chain: ledger.Hot, Nonce: uint64(len(a.txs)), From: a.key.Address,
		Contract: token.Address, Function: token.FuncTransfer,
		Args: token.EncodeTransfer(to, amount), GasLimit: token.TransferGas,
	}
	tx.Sign(a.key.Private)
	s := &sentTx{tx: tx, id: tx.ID(), to: to, amount: amount}
	a.txs = append(a.txs, s)
	return s
}

// record notes a submission's "committed" answers. It returns the error of
// the first result that is not committed, or the submission's error.
func (a *account) record(batch []*sentTx, res []api.TxResult, err error) error {
	if len(res) != len(batch) {
		if err == nil {
			err = errors.New("wrong number of results")
		}
		return err
	}
	for i, r := range res {
		if r.ID != batch[i].id || r.Status != api.StatusCommitted {
			continue
		}
		a.acked[batch[i].tx.Nonce] = ack{block: r.Block, index: r.Index}
	}
	for _, r := range res {
		if r.Status != api.StatusCommitted {
			return resultErr(r)
		}
	}
	return err
}

func resultErr(r api.TxResult) error {
	if err := client.ResultError(r); err != nil {
		return err
	}
	return errors.New("status " + r.Status)
}

// world is everything the test has sent, and the accounts it involves.
type world struct {
	chainID string
	faucet  *account
	senders []*account
	sinks   []ledger.Address // receive only
}

func newWorld(t *testing.T, chainID string, faucet *ledger.Key, senders, sinks int) *world {
	t.Helper()
	w := &world{chainID: chainID, faucet: newAccount(faucet)}
	for range senders {
		w.senders = append(w.senders, newAccount(newKey(t)))
	}
	for range sinks {
		w.sinks = append(w.sinks, newKey(t).Address)
	}
	return w
}

func newKey(t *testing.T) *ledger.Key {
	t.Helper()
	k, err := ledger.NewKey()
	if err != nil {
		t.Fatalf("NewKey() = %v", err)
	}
	return k
}

// accounts are the test's senders and the faucet.
func (w *world) accounts() []*account { return append([]*account{w.faucet}, w.senders...) }

// addresses are every address the test's transfers touch.
func (w *world) addresses() []ledger.Address {
	var out []ledger.Address
	for _, a := range w.accounts() {
		out = append(out, a.key.Address)
	}
	return append(out, w.sinks...)
}

// fund sends each sender amount from the faucet and waits for it.
func (w *world) fund(t *testing.T, c *client.Client, amount uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var batch []*sentTx
	for _, s := range w.senders {
		batch = append(batch, w.faucet.sign(w.chainID, s.key.Address, amount))
	}
	res, err := c.SubmitWait(ctx, txsOf(batch)...)
	if err := w.faucet.record(batch, res, err); err != nil {
		t.Fatalf("SubmitWait(fund %d senders) = %v, want all committed", len(batch), err)
	}
}

func txsOf(batch []*sentTx) []*ledger.Tx {
	txs := make([]*ledger.Tx, len(batch))
	for i, s := range batch {
		txs[i] = s.tx
	}
	return txs
}

// load is a stream of transfers, one goroutine per sender. A sender stops
// at the first transfer not committed, or when the node stops answering.
type load struct {
	batch    int           // transfers per submission
	pause    time.Duration // between a sender's submissions
	inFlight atomic.Int64  // submissions waiting for an answer
	wg       sync.WaitGroup

	mu      sync.Mutex
	stopped []error // why each sender stopped, nil while it runs
}

// start makes every sender submit batches with SubmitWait until ctx ends or
// the node stops answering.
func (l *load) start(ctx context.Context, c *client.Client, w *world) {
	l.stopped = make([]error, len(w.senders))
	for i, s := range w.senders {
		l.wg.Go(func() {
			err := l.send(ctx, c, w, i, s)
			l.mu.Lock()
			l.stopped[i] = err
			l.mu.Unlock()
		})
	}
}

// stoppedSoFar returns why the senders that stopped did.
func (l *load) stoppedSoFar() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	for _, err := range l.stopped {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func (l *load) send(ctx context.Context, c *client.Client, w *world, i int, s *account) error {
	for {
		batch := make([]*sentTx, l.batch)
		for j := range batch {
			n := len(s.txs)
			batch[j] = s.sign(w.chainID, w.recipient(i, n), uint64(1+n%5))
		}
		l.inFlight.Add(1)
		res, err := c.SubmitWait(ctx, txsOf(batch)...)
		l.inFlight.Add(-1)
		if err := s.record(batch, res, err); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(l.pause):
		}
	}
}

// recipient of sender i's transfer with nonce n: the other senders and the
// sinks in turn, so that senders also receive.
func (w *world) recipient(i, n int) ledger.Address {
	k := (i + 1 + n) % (len(w.senders) + len(w.sinks))
	if k == i {
		k = len(w.senders) // a sink
	}
	if k < len(w.senders) {
		return w.senders[k].key.Address
	}
	return w.sinks[k-len(w.senders)]
}

func (l *load) wait() { l.wg.Wait() }

// waitInFlight waits, a short while at most, until at least n submissions
// are waiting for their answers, and returns how many are.
func (l *load) waitInFlight(n int64) int64 {
	deadline := time.Now().Add(time.Second)
	for l.inFlight.Load() < n && time.Now().Before(deadline) {
		time.Sleep(100 * time.Microsecond)
	}
	return l.inFlight.Load()
}
