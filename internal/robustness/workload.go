package robustness

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dualchain/dualchain/internal/robust"
	"github.com/dualchain/dualchain/ledger"
)

// Funding of each client's account before the history starts.
const (
	fundHot   = 1_000_000 // left on the hot chain
	fundCold  = 500_000   // settled to the cold chain
	maxAmount = 1000      // of an ordinary transfer, settle or deposit
)

// account is one client's account: it alone sends from it.
type account struct {
	key   *ledger.Key
	nonce [2]uint64            // the next to sign with, hot and cold
	sent  map[ledger.Hash]bool // every tx id signed
}

func side(c ledger.Chain) int {
	if c == ledger.Cold {
		return 1
	}
	return 0
}

// workload is the clients of a run and the pauses that let the checker
// cut its windows.
type workload struct {
	o       Options
	h       *robust.History
	ep      *endpoints
	send    *sender
	chainID string
	accts   []*account
	addrs   []ledger.Address

	begun  atomic.Int64 // ops begun
	mu     sync.Mutex
	paused bool
	busy   int // clients in an op or a repair
	pauses []pause
	repair RepairStats
}

// RepairStats sums the resending of unknown transactions after their ops
// ended: a long one is a transaction a live cluster would not commit.
type RepairStats struct {
	Count    int `json:"count"`
	Resolved int `json:"resolved"` // committed, or refused for good
	// Stuck counts those still neither committed nor refused when the run
	// ended: resent to a recovered cluster for minutes, they never
	// committed (a liveness failure; not an invariant robust checks).
	Stuck   int           `json:"stuck"`
	Longest time.Duration `json:"longest"`
	Kind    robust.Kind   `json:"kind,omitempty"` // of the longest
}

func (w *workload) repaired(kind robust.Kind, out robust.Outcome, stuck bool, d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.repair.Count++
	switch {
	case out != robust.OutcomeUnknown:
		w.repair.Resolved++
	case stuck:
		w.repair.Stuck++
	}
	if d > w.repair.Longest {
		w.repair.Longest, w.repair.Kind = d, kind
	}
}

// pause is one stop of every client.
type pause struct {
	At      time.Duration // on the history's clock
	Took    time.Duration
	Drained bool
	Read    bool // an atomic read of every account ended it
}

func newWorkload(o Options, h *robust.History, ep *endpoints, chainID string, accts []*account) *workload {
	w := &workload{o: o, h: h, ep: ep, chainID: chainID, accts: accts,
		send: &sender{ep: ep, attempt: o.AttemptTimeout}}
	for _, a := range accts {
		w.addrs = append(w.addrs, a.key.Address)
	}
	return w
}

// run runs client i's ops until stop ends. An op begun runs on under
// finish, which ends later, as do repairs (resending an unknown
// transaction until its fate is known): the end of the run does not cut
// ops short.
func (w *workload) run(stop, finish context.Context, i int) {
	rng := rand.New(rand.NewPCG(uint64(w.o.Seed), uint64(i)+1))
	for w.enter(stop) {
		w.step(finish, i, rng)
		w.leave()
	}
}

// enter waits while the clients are paused, and marks the client busy;
// false once ctx ended.
func (w *workload) enter(ctx context.Context) bool {
	for ctx.Err() == nil {
		w.mu.Lock()
		if !w.paused {
			w.busy++
			w.mu.Unlock()
			return true
		}
		w.mu.Unlock()
		sleepCtx(ctx, 5*time.Millisecond)
	}
	return false
}

func (w *workload) leave() {
	w.mu.Lock()
	w.busy--
	w.mu.Unlock()
}

// step runs one op of client i, chosen by rng.
func (w *workload) step(ctx context.Context, i int, rng *rand.Rand) {
	w.begun.Add(1)
	p := rng.IntN(100)
	switch {
	case p < 30:
		w.readOp(ctx, i, rng.IntN(len(w.accts)), rng.IntN(10) == 0, rng)
	case p < 55:
		w.txOp(ctx, i, robust.KindHotTransfer, w.peer(i, rng), amount(rng))
	case p < 65:
		w.txOp(ctx, i, robust.KindSettle, ledger.Address{}, amount(rng))
	case p < 75:
		w.txOp(ctx, i, robust.KindDeposit, ledger.Address{}, amount(rng))
	default:
		w.txOp(ctx, i, robust.KindColdTransfer, w.peer(i, rng), amount(rng))
	}
}

// amount is small, or now and then more than any account holds.
func amount(rng *rand.Rand) uint64 {
	if rng.IntN(50) == 0 {
		return 10 * (fundHot + fundCold) * 8
	}
	return 1 + rng.Uint64N(maxAmount)
}

// peer is another client's account, or client i's own if it is alone.
func (w *workload) peer(i int, rng *rand.Rand) ledger.Address {
	if len(w.accts) == 1 {
		return w.addrs[i]
	}
	j := rng.IntN(len(w.accts) - 1)
	if j >= i {
		j++
	}
	return w.addrs[j]
}

// txOp signs and sends one transaction of client i, recorded as an op. An
// unknown one is then resent until its fate is known (not recorded: it is
// the same op's transaction), and the client reads its account, which
// proves the nonce used and so bounds the op for the checker.
func (w *workload) txOp(ctx context.Context, i int, kind robust.Kind, to ledger.Address, amt uint64) {
	a := w.accts[i]
	s := side(kind.Chain())
	tx := newTx(w.chainID, a.key, kind, to, amt, a.nonce[s])
	for a.sent[tx.ID()] { // a failed tx's nonce is reused: one tx id is one op
		amt++
		tx = newTx(w.chainID, a.key, kind, to, amt, a.nonce[s])
	}
	a.sent[tx.ID()] = true
	op := w.h.Begin(i, robust.Input{Kind: kind, From: a.key.Address, To: to, Amount: amt, TxID: tx.ID(), Nonce: tx.Nonce})
	octx, cancel := context.WithTimeout(ctx, w.o.OpTimeout)
	out, res := w.send.send(octx, i, tx)
	cancel()
	op.End(out, res)
	if out == robust.OutcomeUnknown {
		start := time.Now()
		out, _ = w.send.send(ctx, i, tx)
		w.repaired(op.Kind, out, ctx.Err() != nil, time.Since(start))
	}
	if out == robust.OutcomeOK {
		a.nonce[s]++
		return
	}
	// Not committed, or not known to be: read the account, which bounds an
	// unknown op, and take up a nonce a transaction thought lost used.
	if snap := w.readOp(ctx, i, i, false, nil); snap != nil {
		got := snap.Accounts[0]
		a.nonce[0], a.nonce[1] = max(a.nonce[0], got.HotNonce), max(a.nonce[1], got.ColdNonce)
	}
}

// readOp reads account j, strongly through the nodes in turn or, if
// local, from one node's own state, with that node's sums; it returns
// what it read, nil if it failed.
func (w *workload) readOp(ctx context.Context, i, j int, local bool, rng *rand.Rand) *robust.Snapshot {
	op := w.h.Begin(i, robust.Input{Kind: robust.KindRead, From: w.addrs[j], Local: local})
	rctx, cancel := context.WithTimeout(ctx, w.o.AttemptTimeout)
	defer cancel()
	var snap robust.Snapshot
	var err error
	if local {
		snap, err = readLocal(rctx, w.ep, w.ep.pick(rng), w.addrs[j])
	} else {
		snap, err = readStrong(rctx, w.ep, i, w.addrs[j])
	}
	if err != nil {
		op.End(robust.OutcomeFail, robust.Result{Error: err.Error()})
		return nil
	}
	op.End(robust.OutcomeOK, robust.Result{Snapshot: &snap})
	return &snap
}

// quiesce pauses every client and waits, at most timeout, until none is
// busy; false if some still are (the clients stay paused: resume them).
func (w *workload) quiesce(ctx context.Context, timeout time.Duration) bool {
	w.mu.Lock()
	w.paused = true
	w.mu.Unlock()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		w.mu.Lock()
		idle := w.busy == 0
		w.mu.Unlock()
		if idle {
			return true
		}
		sleepCtx(ctx, 5*time.Millisecond)
	}
	return false
}

func (w *workload) resume() {
	w.mu.Lock()
	w.paused = false
	w.mu.Unlock()
}

// pauser pauses the clients every PauseEvery ops until ctx ends: it waits
// until none is busy and the bridge drained, and reads every account
// atomically, recorded as the op of a client of its own.
func (w *workload) pauser(ctx context.Context) {
	next := int64(w.o.PauseEvery)
	for sleepCtx(ctx, 50*time.Millisecond) {
		if w.begun.Load() < next {
			continue
		}
		w.pauseOnce(ctx)
		next = w.begun.Load() + int64(w.o.PauseEvery)
	}
}

func (w *workload) pauseOnce(ctx context.Context) {
	start, at := time.Now(), w.h.Now()
	defer w.resume()
	p := pause{At: at}
	if w.quiesce(ctx, w.o.OpTimeout+5*time.Second) {
		p.Drained = drain(ctx, w.ep, 10*time.Second) == nil
		p.Read = w.readAllOp(ctx, len(w.accts))
	}
	p.Took = time.Since(start)
	w.mu.Lock()
	w.pauses = append(w.pauses, p)
	w.mu.Unlock()
}

// readAllOp reads every account atomically, recorded as an op of client
// id; it reports whether the read answered.
func (w *workload) readAllOp(ctx context.Context, id int) bool {
	op := w.h.Begin(id, robust.Input{Kind: robust.KindReadAll})
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	snap, err := readAtomic(rctx, w.ep, w.addrs)
	if err != nil {
		op.End(robust.OutcomeFail, robust.Result{Error: err.Error()})
		return false
	}
	op.End(robust.OutcomeOK, robust.Result{Snapshot: &snap})
	return true
}

// Repairs returns the repairs so far.
func (w *workload) Repairs() RepairStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.repair
}

// Pauses returns the pauses so far.
func (w *workload) Pauses() []pause {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]pause(nil), w.pauses...)
}
