package robust

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/dualchain/dualchain/ledger"
)

const us = time.Microsecond

// jitter is a random duration up to most.
func jitter(r *rand.Rand, most time.Duration) time.Duration {
	return time.Duration(r.Int64N(int64(most)))
}

// randomRun is a correct run: each client owns one account and has one op
// in flight at a time; some ops fail, some end unknown (committed or
// not), the last may never end; credits land later, in order.
type randomRun struct {
	r          *rand.Rand
	n          int
	script     []step
	lastCredit map[[2]int]time.Duration // account, side the credit lands on
}

func randomScript(r *rand.Rand) ([]Account, []step) {
	g := &randomRun{r: r, n: 2 + r.IntN(3), lastCredit: map[[2]int]time.Duration{}}
	initial := make([]Account, g.n)
	for i := range initial {
		initial[i] = Account{Address: addr(i), Hot: 20 + r.Uint64N(60), Cold: 20 + r.Uint64N(60),
			HotNonce: r.Uint64N(3), ColdNonce: r.Uint64N(3)}
	}
	for c := range g.n {
		g.client(c, 6+r.IntN(10))
	}
	return initial, g.script
}

var randomKinds = []Kind{KindHotTransfer, KindHotTransfer, KindSettle, KindDeposit, KindColdTransfer, KindColdTransfer, KindRead, KindRead, KindReadAll}

// client adds ops of client c, one after another.
func (g *randomRun) client(c, ops int) {
	t := jitter(g.r, 3000*us)
	var lastLin [2]time.Duration // of c's commits, by side
	for k := range ops {
		s := step{client: c, kind: randomKinds[g.r.IntN(len(randomKinds))], from: c}
		s.call = t + jitter(g.r, 1000*us)
		if s.kind.IsTx() {
			g.tx(&s, &lastLin[sideOf(s.kind.Chain())])
		} else {
			g.read(&s)
		}
		if k == ops-1 && g.r.IntN(4) == 0 {
			s.outcome = "" // the client died
		}
		g.script = append(g.script, s)
		t = s.ret
	}
}

func (g *randomRun) tx(s *step, lastLin *time.Duration) {
	r := g.r
	s.amount = 1 + r.Uint64N(30)
	if s.kind == KindHotTransfer || s.kind == KindColdTransfer {
		s.to = r.IntN(g.n)
		if r.IntN(10) == 0 {
			s.to = -1
		}
	}
	s.lin = max(s.call+jitter(r, 2000*us), *lastLin+us)
	switch roll := r.IntN(100); {
	case roll < 8:
		s.outcome, s.ret = OutcomeFail, s.call+jitter(r, 2000*us)
	case roll < 25:
		s.outcome, s.commit = OutcomeUnknown, r.IntN(2) == 0
		s.ret = s.call + jitter(r, 2000*us) // perhaps before it commits
	default:
		s.outcome, s.commit, s.ret = OutcomeOK, true, s.lin+jitter(r, 1000*us)
	}
	if s.commit {
		*lastLin = s.lin
	}
	if s.kind == KindSettle || s.kind == KindDeposit {
		key := [2]int{s.from, 1 - sideOf(s.kind.Chain())}
		s.credit = max(s.lin+jitter(r, 4000*us), g.lastCredit[key])
		g.lastCredit[key] = s.credit
	}
}

func (g *randomRun) read(s *step) {
	r := g.r
	s.from = r.IntN(g.n)
	s.all = s.kind == KindReadAll
	s.split, s.local = r.IntN(3) == 0, r.IntN(10) == 0
	s.lin = s.call + jitter(r, 1000*us)
	s.ret = s.lin + jitter(r, 1000*us)
	s.outcome = OutcomeOK
	if roll := r.IntN(10); roll == 0 {
		s.outcome = OutcomeUnknown
	} else if roll == 1 {
		s.outcome = OutcomeFail
	}
}

// corruption breaks a correct run in one way, returning the invariants
// that must catch it (any of them), or false if this run has nothing to
// break that way.
type corruption struct {
	name  string
	apply func(*rand.Rand, *simulated) ([]string, bool)
}

// pick returns a random element of xs.
func pick[T any](r *rand.Rand, xs []T) (T, bool) {
	var zero T
	if len(xs) == 0 {
		return zero, false
	}
	return xs[r.IntN(len(xs))], true
}

// txOps returns the run's transaction ops whose outcome passes keep.
func txOps(s *simulated, keep func(*Op) bool) []*Op {
	var out []*Op
	for _, op := range s.h.ops {
		if op.Kind.IsTx() && keep(op) {
			out = append(out, op)
		}
	}
	return out
}

func (s *simulated) drop(id ledger.Hash) {
	s.ledger.Committed = slices.DeleteFunc(s.ledger.Committed, func(tx CommittedTx) bool { return tx.ID == id })
}

func (s *simulated) commit(op *Op) {
	s.ledger.Committed = append(s.ledger.Committed, CommittedTx{ID: op.TxID, From: op.From, Chain: op.Kind.Chain(), Nonce: op.Nonce, Height: 1})
}

func isCommitted(s *simulated) func(*Op) bool {
	return func(op *Op) bool {
		return slices.ContainsFunc(s.ledger.Committed, func(tx CommittedTx) bool { return tx.ID == op.TxID })
	}
}

var corruptions = []corruption{
	{"lose an acknowledged tx", func(r *rand.Rand, s *simulated) ([]string, bool) {
		op, ok := pick(r, txOps(s, func(op *Op) bool { return op.Outcome == OutcomeOK }))
		if ok {
			s.drop(op.TxID)
		}
		return []string{InvAcked}, ok
	}},
	{"apply a tx twice", func(r *rand.Rand, s *simulated) ([]string, bool) {
		tx, ok := pick(r, s.ledger.Committed)
		tx.Height++
		s.ledger.Committed = append(s.ledger.Committed, tx)
		return []string{InvOnce}, ok
	}},
	{"leave a nonce gap", func(r *rand.Rand, s *simulated) ([]string, bool) {
		op, ok := pick(r, txOps(s, isCommitted(s)))
		if ok {
			s.drop(op.TxID)
		}
		return []string{InvNonces}, ok
	}},
	{"commit a rejected tx", func(r *rand.Rand, s *simulated) ([]string, bool) {
		op, ok := pick(r, txOps(s, func(op *Op) bool { return op.Outcome == OutcomeFail }))
		if ok {
			s.commit(op)
		}
		return []string{InvFailed}, ok
	}},
	{"commit an unknown tx that did not happen", func(r *rand.Rand, s *simulated) ([]string, bool) {
		committed := isCommitted(s)
		op, ok := pick(r, txOps(s, func(op *Op) bool { return unknown(op) && !committed(op) }))
		if ok {
			s.commit(op)
		}
		return []string{InvOnce, InvNonces}, ok // its nonce went to another tx, or to none
	}},
	{"change a receipt", func(r *rand.Rand, s *simulated) ([]string, bool) {
		op, ok := pick(r, txOps(s, func(op *Op) bool { return op.Outcome == OutcomeOK }))
		if ok {
			for i := range s.ledger.Committed {
				if tx := &s.ledger.Committed[i]; tx.ID == op.TxID {
					tx.Status = map[ledger.Status]ledger.Status{ledger.StatusOK: ledger.StatusInsufficientFunds}[tx.Status]
				}
			}
		}
		return []string{InvAcked}, ok
	}},
	{"leak supply", func(r *rand.Rand, s *simulated) ([]string, bool) {
		sums := []*Sums{s.ledger.Final.Sums}
		for _, op := range s.h.ops {
			if op.Outcome == OutcomeOK && op.Kind == KindReadAll {
				sums = append(sums, op.Result.Snapshot.Sums)
			}
		}
		sum, _ := pick(r, sums)
		sum.Hot++
		return []string{InvConserved}, true
	}},
	{"make a balance negative", func(r *rand.Rand, s *simulated) ([]string, bool) {
		a := &s.ledger.Final.Accounts[r.IntN(len(s.ledger.Final.Accounts))]
		a.Cold = -r.Uint64N(100) - 1
		return []string{InvBounds}, true
	}},
	{"diverge a commitment or root", func(r *rand.Rand, s *simulated) ([]string, bool) {
		n := &s.ledger.Reports[1+r.IntN(2)]
		points := [][]Point{n.Hot, n.Cold}[r.IntN(2)]
		points[r.IntN(len(points))].Digest[0] ^= 1
		return []string{InvNodes}, true
	}},
	{"diverge a raft log", func(r *rand.Rand, s *simulated) ([]string, bool) {
		n := &s.ledger.Reports[r.IntN(3)]
		n.Log[r.IntN(len(n.Log))].Digest[31] ^= 1
		return []string{InvRaftLog}, true
	}},
	{"read a nonce never held", func(r *rand.Rand, s *simulated) ([]string, bool) {
		var reads []*Op
		for _, op := range s.h.ops {
			if op.Kind.IsTx() || op.Outcome != OutcomeOK || op.Local {
				continue
			}
			if op.Kind == KindRead || op.Result.Snapshot.Atomic {
				reads = append(reads, op)
			}
		}
		op, ok := pick(r, reads)
		if ok {
			a := &op.Result.Snapshot.Accounts[r.IntN(len(op.Result.Snapshot.Accounts))]
			a.ColdNonce += 1000
		}
		return []string{InvLinearizable}, ok
	}},
}

// TestRandomRuns: a correct run always passes; the same run with one
// corruption always fails, on an invariant that guards against it.
func TestRandomRuns(t *testing.T) {
	runs := 160
	if testing.Short() {
		runs = 40
	}
	applied := make([]int, len(corruptions))
	var happened, notHappened, unended, windowed int
	for seed := range runs {
		r := rand.New(rand.NewPCG(uint64(seed), 8))
		initial, script := randomScript(r)
		drained := r.IntN(2) == 0
		sim := simulate(t, initial, script, drained)
		rep := check(t, sim, Options{Drained: drained})
		if !rep.Pass {
			t.Fatalf("seed %d: Check(correct run) failed:\n%s", seed, rep)
		}
		cut := Options{Drained: drained, WindowOps: 1 + r.IntN(4)}
		if rep := check(t, sim, cut); !rep.Pass {
			t.Fatalf("seed %d: Check(correct run, windows of %d ops) failed:\n%s", seed, cut.WindowOps, rep)
		} else if rep.Linearization.Windows > 2 { // the final read always has its own
			windowed++
		}
		happened, notHappened, unended = happened+rep.Ops.Happened, notHappened+rep.Ops.NotHappened, unended+rep.Ops.Unended
		for k := range corruptions {
			c := corruptions[(seed+k)%len(corruptions)]
			broken := simulate(t, initial, script, drained)
			want, ok := c.apply(r, &broken)
			if !ok {
				continue
			}
			applied[(seed+k)%len(corruptions)]++
			opts := Options{Drained: drained}
			if seed%2 == 0 {
				opts = cut
			}
			rep := check(t, broken, opts)
			if rep.Pass || !slices.ContainsFunc(want, func(w string) bool { return rep.Violations(w) > 0 }) {
				t.Fatalf("seed %d: Check(run, %s) failed %v, want one of %q:\n%s", seed, c.name, rep.Failed(), want, rep)
			}
			break
		}
	}
	t.Logf("corruptions applied %v; unknown txs happened %d, not %d; never ended %d; runs cut in more than two windows %d", applied, happened, notHappened, unended, windowed)
	if windowed < runs/4 {
		t.Errorf("%d of %d runs cut in more than two windows, want a quarter at least", windowed, runs)
	}
	for i, n := range applied {
		if n == 0 {
			t.Errorf("corruption %q never applied in %d runs", corruptions[i].name, runs)
		}
	}
	if happened == 0 || notHappened == 0 || unended == 0 {
		t.Errorf("random runs had %d unknown txs that happened, %d that did not, %d ops never ended: want some of each", happened, notHappened, unended)
	}
}
