package robust

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dualchain/dualchain/ledger"
)

// baseScript is a correct run on three accounts holding 100 hot and 100
// cold each, with every kind of operation.
func baseScript() []step {
	return []step{
		0: ok(0, KindHotTransfer, 0, 1, 30, 0, 2*ms, 4*ms),
		1: read(1, 1, 5*ms, 6*ms, 7*ms), // a1 hot 130: the transfer returned before it began
		2: ok(0, KindSettle, 0, 0, 20, 5*ms, 6*ms, 8*ms).with(func(s *step) { s.credit = 12 * ms }),
		3: ok(2, KindDeposit, 2, 2, 10, 1*ms, 3*ms, 5*ms).with(func(s *step) { s.credit = 9 * ms }),
		4: readAll(1, 10*ms, 11*ms, 13*ms), // a0's cold credit not yet there, a2's hot one is
		5: ok(2, KindColdTransfer, 2, 0, 5, 6*ms, 7*ms, 9*ms),
		6: ok(0, KindHotTransfer, 0, 2, 1000, 9*ms, 10*ms, 11*ms), // insufficient funds: uses its nonce
		7: read(1, 0, 14*ms, 15*ms, 16*ms),                        // a0: hot nonce 3, cold 125
		8: ok(2, KindHotTransfer, 2, -1, 3, 10*ms, 11*ms, 12*ms),  // to an account not tracked
		9: ok(2, KindSettle, 2, 2, 5, 13*ms, 14*ms, 15*ms).with(func(s *step) { s.commit, s.outcome = false, OutcomeFail }),
	}
}

func runBase(t *testing.T) simulated {
	t.Helper()
	return simulate(t, accounts(3, 100, 100), baseScript(), false)
}

func check(t *testing.T, sim simulated, opts Options) Report {
	t.Helper()
	return Check(t.Context(), sim.h, sim.ledger, opts)
}

// committedOf returns the ledger's record of script step i.
func (s simulated) committedOf(i int) *CommittedTx {
	for j := range s.ledger.Committed {
		if s.ledger.Committed[j].ID == txID(i) {
			return &s.ledger.Committed[j]
		}
	}
	panic("step not committed")
}

func TestCheckPassesCorrectRun(t *testing.T) {
	sim := runBase(t)
	r := check(t, sim, Options{})
	if !r.Pass {
		t.Fatalf("Check(base run) failed:\n%s", r)
	}
	want := OpCounts{Total: 10, OK: 9, Fail: 1}
	if r.Ops != want {
		t.Errorf("Check(base run).Ops = %+v, want %+v", r.Ops, want)
	}
	if r.Linearization.Result != "ok" || r.Linearization.Partitions != 1 {
		t.Errorf("Check(base run).Linearization = %+v, want ok in 1 partition", r.Linearization)
	}
	// The base run must exercise what it claims to.
	if got := sim.committedOf(6).Status; got != ledger.StatusInsufficientFunds {
		t.Errorf("step 6's receipt = %v, want insufficient_funds", got)
	}
	if got := sim.ops[7].Result.Snapshot.Accounts[0]; got.Cold != 125 || got.HotNonce != 3 {
		t.Errorf("step 7 read %+v, want cold 125 (credit arrived) and hot nonce 3", got)
	}
	if got := sim.ops[4].Result.Snapshot.Accounts[0].Cold; got != 105 {
		t.Errorf("step 4 read a0 cold %d, want 105 (credit not arrived)", got)
	}
}

// TestInvariantsFail breaks a correct run in one way each and expects the
// invariant that guards against it to fail.
func TestInvariantsFail(t *testing.T) {
	other := ledger.Hash{0xba, 0xd}
	tests := []struct {
		name    string
		corrupt func(*simulated)
		want    string
	}{
		{"acknowledged tx lost", func(s *simulated) {
			s.ledger.Committed = slices.DeleteFunc(s.ledger.Committed, func(tx CommittedTx) bool { return tx.ID == txID(0) })
		}, InvAcked},
		{"acknowledged tx moved", func(s *simulated) { s.committedOf(0).Height += 7 }, InvAcked},
		{"receipt changed", func(s *simulated) { s.committedOf(6).Status = ledger.StatusOK }, InvAcked},
		{"failed tx committed", func(s *simulated) {
			s.ledger.Committed = append(s.ledger.Committed, CommittedTx{ID: txID(9), From: addr(2), Chain: ledger.Hot, Nonce: 1, Height: 9})
		}, InvFailed},
		{"tx applied twice", func(s *simulated) {
			tx := *s.committedOf(5)
			tx.Height++
			s.ledger.Committed = append(s.ledger.Committed, tx)
		}, InvOnce},
		{"nonce used twice", func(s *simulated) {
			tx := *s.committedOf(0)
			tx.ID = other
			s.ledger.Committed = append(s.ledger.Committed, tx)
		}, InvOnce},
		{"nonce gap", func(s *simulated) { s.ledger.Final.Accounts[0].HotNonce++ }, InvNonces},
		{"tx the workload never sent", func(s *simulated) {
			s.ledger.Committed = append(s.ledger.Committed, CommittedTx{ID: other, From: addr(1), Chain: ledger.Hot, Nonce: 0, Height: 9})
		}, InvNonces},
		{"supply leak in a read", func(s *simulated) { s.ops[4].Result.Snapshot.Sums.Hot-- }, InvConserved},
		{"supply leak at the end", func(s *simulated) { s.ledger.Final.Sums.Cold++ }, InvConserved},
		{"supply changed", func(s *simulated) { s.ops[4].Result.Snapshot.Sums.Supply++ }, InvConserved},
		{"negative balance", func(s *simulated) { s.ops[7].Result.Snapshot.Accounts[0].Hot = ^uint64(0) - 9 }, InvBounds},
		{"balance above supply at the end", func(s *simulated) { s.ledger.Final.Accounts[1].Cold = 1000 }, InvBounds},
		{"bad balances", func(s *simulated) { s.ledger.Final.Sums.Bad = 1 }, InvBounds},
		{"diverging hot commitments", func(s *simulated) { s.ledger.Reports[2].Hot[1].Digest = other }, InvNodes},
		{"diverging cold roots", func(s *simulated) { s.ledger.Reports[1].Cold[0].Digest = other }, InvNodes},
		{"node without a report", func(s *simulated) {
			s.ledger.Reports[1] = NodeReport{Node: "n2", Err: "connection refused"}
		}, InvNodes},
		{"diverging raft logs", func(s *simulated) { s.ledger.Reports[2].Log[3].Digest = other }, InvRaftLog},
		{"stale read", func(s *simulated) {
			// a1 as before the transfer that returned before the read began
			s.ops[1].Result.Snapshot.Accounts[0].Hot = 100
		}, InvLinearizable},
		{"failed receipt without its nonce", func(s *simulated) { s.ops[7].Result.Snapshot.Accounts[0].HotNonce = 2 }, InvLinearizable},
		{"cold credit seen, then gone", func(s *simulated) {
			s.ledger.Final.Accounts[0].Cold -= 20 // step 7 saw it arrive
			s.ledger.Final.Sums.Cold -= 20
			s.ledger.Final.Sums.InFlight += 20
		}, InvLinearizable},
		{"op from an account not tracked", func(s *simulated) { s.h.ops[2].From = sink }, InvHistory},
		{"read without its account", func(s *simulated) { s.ops[1].Result.Snapshot.Accounts[0].Address = addr(2) }, InvHistory},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := runBase(t)
			tt.corrupt(&sim)
			r := check(t, sim, Options{})
			if r.Pass || r.Violations(tt.want) == 0 {
				t.Errorf("Check(base run, %s) failed %v, want %q among them:\n%s", tt.name, r.Failed(), tt.want, r)
			}
		})
	}
}

// unknownScript has a transfer that commits after its client gave up,
// and one that never commits, whose nonce the next transfer takes.
func unknownScript() []step {
	return []step{
		0: ok(0, KindHotTransfer, 0, 1, 10, 0, 5*ms, 2*ms).with(func(s *step) { s.outcome = OutcomeUnknown }),
		1: ok(0, KindHotTransfer, 0, 1, 7, 3*ms, 6*ms, 7*ms).with(func(s *step) { s.commit, s.outcome = false, OutcomeUnknown }),
		2: ok(0, KindHotTransfer, 0, 1, 4, 8*ms, 9*ms, 10*ms), // nonce 1 again
		3: read(1, 1, 11*ms, 12*ms, 13*ms),
		4: ok(1, KindColdTransfer, 1, 0, 1, 14*ms, 15*ms, 0).with(func(s *step) { s.outcome = "" }), // never ended
	}
}

func TestUnknownResolution(t *testing.T) {
	sim := simulate(t, accounts(2, 100, 100), unknownScript(), false)
	r := check(t, sim, Options{})
	if !r.Pass {
		t.Fatalf("Check(unknown run) failed:\n%s", r)
	}
	want := OpCounts{Total: 5, OK: 2, Unknown: 3, Unended: 1, Happened: 2, NotHappened: 1}
	if r.Ops != want {
		t.Errorf("Check(unknown run).Ops = %+v, want %+v", r.Ops, want)
	}
	if nonce := sim.ops[1].Nonce; nonce != sim.ops[2].Nonce {
		t.Fatalf("steps 1 and 2 have nonces %d and %d, want the same", nonce, sim.ops[2].Nonce)
	}

	tests := []struct {
		name    string
		corrupt func(*simulated)
		want    string
	}{
		{"happened, but the ledger lost it", func(s *simulated) {
			s.ledger.Committed = slices.DeleteFunc(s.ledger.Committed, func(tx CommittedTx) bool { return tx.ID == txID(0) })
		}, InvNonces},
		{"did not happen, but the balances say it did", func(s *simulated) {
			s.ledger.Final.Accounts[0].Hot -= 7
			s.ledger.Final.Accounts[1].Hot += 7
		}, InvLinearizable},
		{"both txs of one nonce committed", func(s *simulated) {
			s.ledger.Committed = append(s.ledger.Committed, CommittedTx{ID: txID(1), From: addr(0), Chain: ledger.Hot, Nonce: 1, Height: 9})
		}, InvOnce},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := simulate(t, accounts(2, 100, 100), unknownScript(), false)
			tt.corrupt(&sim)
			r := check(t, sim, Options{})
			if r.Pass || r.Violations(tt.want) == 0 {
				t.Errorf("Check(unknown run, %s) failed %v, want %q among them:\n%s", tt.name, r.Failed(), tt.want, r)
			}
		})
	}
}

// TestUnknownOrderedByNonce: an unknown transfer that happened must have
// committed before the acknowledged one with the next nonce returned, so
// a read after that must see it; the builder closes its interval there.
func TestUnknownOrderedByNonce(t *testing.T) {
	sim := simulate(t, accounts(2, 100, 100), unknownScript(), false)
	c := newChecker(sim.h, Options{})
	c.validate()
	c.readLedger(t.Context(), sim.ledger)
	c.resolve()
	for _, op := range c.newBuilder().build() {
		if m := op.Input.(*mop); m.op == sim.ops[0].ID && op.Return != int64(sim.ops[2].Return) {
			t.Errorf("unknown op 0's interval ends at %v, want %v (op 2, the next nonce, returned)", time.Duration(op.Return), sim.ops[2].Return)
		}
	}
	sim.ops[3].Result.Snapshot.Accounts[0].Hot -= 10 // the read after op 2 misses op 0's 10
	r := check(t, sim, Options{})
	if r.Violations(InvLinearizable) == 0 {
		t.Errorf("Check(read missing an unknown tx that must have committed) passed linearizability:\n%s", r)
	}
}

func TestBridgeCredits(t *testing.T) {
	script := func() []step {
		return []step{
			0: ok(0, KindSettle, 0, 0, 20, 0, 1*ms, 2*ms).with(func(s *step) { s.credit = 10 * ms }),
			1: ok(1, KindDeposit, 1, 1, 30, 0, 1*ms, 2*ms).with(func(s *step) { s.credit = 20 * ms }),
			2: read(0, 0, 3*ms, 4*ms, 5*ms),                            // a0 cold 100: not yet credited
			3: read(1, 1, 3*ms, 4*ms, 5*ms),                            // a1 hot 100
			4: read(0, 0, 11*ms, 12*ms, 13*ms),                         // a0 cold 120
			5: ok(0, KindColdTransfer, 0, 1, 115, 14*ms, 15*ms, 16*ms), // spends the credit
			6: ok(1, KindHotTransfer, 1, 0, 120, 14*ms, 15*ms, 16*ms),  // insufficient: the credit is not there yet
		}
	}
	for _, drained := range []bool{false, true} {
		sim := simulate(t, accounts(2, 100, 100), script(), drained)
		if r := check(t, sim, Options{Drained: drained}); !r.Pass {
			t.Fatalf("Check(bridge run, drained %v) failed:\n%s", drained, r)
		}
	}
	sim := simulate(t, accounts(2, 100, 100), script(), false)
	if sim.ledger.Final.Sums.InFlight != 30 {
		t.Fatalf("bridge run in flight at the end = %d, want 30 (the deposit)", sim.ledger.Final.Sums.InFlight)
	}
	if r := check(t, sim, Options{Drained: true}); r.Violations(InvConserved) == 0 || r.Violations(InvLinearizable) == 0 {
		t.Errorf("Check(a credit still in flight, Drained) failed %v, want %q and %q:\n%s", r.Failed(), InvConserved, InvLinearizable, r)
	}
	sim = simulate(t, accounts(2, 100, 100), script(), false)
	sim.ops[2].Result.Snapshot.Accounts[0].Cold = 120 // the credit before the settle returned: fine
	sim.ops[4].Result.Snapshot.Accounts[0].Cold = 100 // and gone again: not fine
	if r := check(t, sim, Options{}); r.Violations(InvLinearizable) == 0 {
		t.Errorf("Check(a credit seen, then not) passed linearizability:\n%s", r)
	}
}

func TestLocalReadsMayLag(t *testing.T) {
	script := []step{
		ok(0, KindHotTransfer, 0, 1, 30, 0, 1*ms, 2*ms),
		read(1, 1, 3*ms, 4*ms, 5*ms).with(func(s *step) { s.local = true }),
	}
	sim := simulate(t, accounts(2, 100, 100), script, false)
	sim.ops[1].Result.Snapshot.Accounts[0].Hot = 100 // as a lagging follower saw it
	if r := check(t, sim, Options{}); !r.Pass {
		t.Errorf("Check(a local read lagging) failed:\n%s", r)
	}
	sim.h.ops[1].Local = false
	if r := check(t, sim, Options{}); r.Violations(InvLinearizable) == 0 {
		t.Errorf("Check(a strong read lagging) passed linearizability:\n%s", r)
	}
}

// TestSplitReads: a read of one account that is not atomic may see its
// hot side before one transfer and its cold side after a later one; an
// atomic one may not. A read of every account that is not atomic is not
// checked for linearizability.
func TestSplitReads(t *testing.T) {
	script := []step{
		ok(0, KindHotTransfer, 0, 1, 30, 0, 1*ms, 2*ms),
		ok(2, KindColdTransfer, 2, 1, 20, 3*ms, 4*ms, 5*ms),
		read(1, 1, 0, 6*ms, 10*ms).with(func(s *step) { s.split = true }),
		readAll(3, 0, 6*ms, 10*ms).with(func(s *step) { s.split = true }),
	}
	sim := simulate(t, accounts(3, 100, 100), script, false)
	sim.ops[2].Result.Snapshot.Accounts[0].Hot = 100 // before the hot transfer, cold after the cold one
	if r := check(t, sim, Options{}); !r.Pass {
		t.Errorf("Check(a split read straddling two transfers) failed:\n%s", r)
	}
	sim.ops[2].Result.Snapshot.Atomic = true
	if r := check(t, sim, Options{}); r.Violations(InvLinearizable) == 0 {
		t.Errorf("Check(an atomic read straddling two transfers) passed linearizability:\n%s", r)
	}
	sim.ops[2].Result.Snapshot.Atomic = false
	sim.ops[3].Result.Snapshot.Accounts[1].Hot = 100
	sim.ops[3].Result.Snapshot.Sums = nil
	if r := check(t, sim, Options{}); !r.Pass {
		t.Errorf("Check(a split read of every account, stale) failed, want it left to the sums:\n%s", r)
	}
	sim.ops[3].Result.Snapshot.Atomic = true
	if r := check(t, sim, Options{}); r.Violations(InvLinearizable) == 0 {
		t.Errorf("Check(an atomic read of every account, stale) passed linearizability:\n%s", r)
	}
}

// hardHistory is n concurrent transfers round a ring of accounts and a
// final snapshot no order explains: porcupine must try every order.
func hardHistory(n int) (*History, *Frozen) {
	initial := accounts(n, 10, 0)
	h := NewHistory(initial, func() time.Duration { return 0 })
	f := &Frozen{Final: Snapshot{Atomic: true, Accounts: slices.Clone(initial), Sums: &Sums{Supply: uint64(10 * n), Hot: uint64(10 * n)}}}
	for i := range n {
		op := h.Begin(i, Input{Kind: KindHotTransfer, From: addr(i), To: addr((i + 1) % n), Amount: 1, TxID: txID(i)})
		op.End(OutcomeOK, Result{Height: 1})
		f.Committed = append(f.Committed, CommittedTx{ID: txID(i), From: addr(i), Chain: ledger.Hot, Height: 1})
		f.Final.Accounts[i].HotNonce = 1
	}
	f.Final.Accounts[0].Hot, f.Final.Accounts[1].Hot = 7, 13
	return h, f
}

func TestCheckerTimeoutFails(t *testing.T) {
	h, f := hardHistory(24)
	r := Check(t.Context(), h, f, Options{Timeout: 20 * ms})
	if r.Pass || r.Linearization.Result != "timeout" || r.Violations(InvLinearizable) != 1 {
		t.Errorf("Check(hard history, 20ms) = %v, linearization %q, want a failure by timeout:\n%s", r.Pass, r.Linearization.Result, r)
	}
	if r.Elapsed > 10*time.Second {
		t.Errorf("Check(hard history, 20ms) took %v", r.Elapsed)
	}
	// The same history, small enough to finish, is illegal: the timeout
	// above is the search running out, not a pass in disguise.
	h, f = hardHistory(4)
	if r := Check(t.Context(), h, f, Options{}); r.Linearization.Result != "illegal" {
		t.Errorf("Check(small hard history) linearization = %q, want illegal:\n%s", r.Linearization.Result, r)
	}
}

func TestCheckerOutOfTimeFails(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	sim := runBase(t)
	r := Check(ctx, sim.h, sim.ledger, Options{})
	if r.Pass || r.Violations(InvLinearizable) == 0 {
		t.Errorf("Check(canceled context) = %v, want a linearizability failure:\n%s", r.Pass, r)
	}
}

func TestVisualize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.html")
	sim := runBase(t)
	if r := check(t, sim, Options{Visualize: path}); r.Linearization.Visualization != "" {
		t.Errorf("Check(passing run).Linearization.Visualization = %q, want none", r.Linearization.Visualization)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Check(passing run) wrote %s: %v", path, err)
	}
	sim.ops[1].Result.Snapshot.Accounts[0].Hot = 100
	r := check(t, sim, Options{Visualize: path})
	if r.Linearization.Visualization != path {
		t.Errorf("Check(stale read).Linearization.Visualization = %q, want %q", r.Linearization.Visualization, path)
	}
	if b, err := os.ReadFile(path); err != nil || !strings.Contains(string(b), "<html") {
		t.Errorf("ReadFile(%s) = %d bytes, %v, want porcupine's HTML", path, len(b), err)
	}
}

// failingLedger answers nothing.
type failingLedger struct{}

var errDown = errors.New("cluster down")

func (failingLedger) Txs(context.Context, []ledger.Address) ([]CommittedTx, error) {
	return nil, errDown
}
func (failingLedger) Snapshot(context.Context, []ledger.Address) (Snapshot, error) {
	return Snapshot{}, errDown
}
func (failingLedger) Nodes(context.Context) ([]NodeReport, error) { return nil, errDown }

func TestUnreadLedgerFails(t *testing.T) {
	r := Check(t.Context(), runBase(t).h, failingLedger{}, Options{})
	if r.Pass || r.Violations(InvLedger) != 3 {
		t.Errorf("Check(ledger down) = %v with %d ledger violations, want a failure with 3:\n%s", r.Pass, r.Violations(InvLedger), r)
	}
	sim := runBase(t)
	sim.ledger.Final.Sums = nil
	if r := check(t, sim, Options{}); r.Pass || r.Violations(InvLedger) == 0 {
		t.Errorf("Check(final snapshot without sums) passed:\n%s", r)
	}
}

func TestReportWrite(t *testing.T) {
	sim := runBase(t)
	sim.ledger.Reports[2].Log[3].Digest = ledger.Hash{1}
	s := check(t, sim, Options{}).String()
	for _, want := range []string{"robustness check: FAIL", "ops: 10 (ok 9, fail 1", InvRaftLog, "at log index 4: node n1 has", "accounts: a0="} {
		if !strings.Contains(s, want) {
			t.Errorf("Report.String() =\n%s\nwant it to contain %q", s, want)
		}
	}
	if s := check(t, runBase(t), Options{}).String(); !strings.HasPrefix(s, "robustness check: PASS") || strings.Contains(s, "NOT CHECKED") {
		t.Errorf("Report.String() of a passing run =\n%s", s)
	}
	// Nodes that report no log digests leave the row with nothing
	// compared: the table must say so rather than show 0 violations.
	noLogs := runBase(t)
	for i := range noLogs.ledger.Reports {
		noLogs.ledger.Reports[i].Log = nil
	}
	if s := check(t, noLogs, Options{}).String(); !regexp.MustCompile(InvRaftLog + ` +0 +NOT CHECKED`).MatchString(s) {
		t.Errorf("Report.String() without log digests =\n%s\nwant the %s row marked NOT CHECKED", s, InvRaftLog)
	}
}

// TestRequiredRows: a row Options.Require names that compared nothing
// fails the report, where an unrequired one is only marked; so does a
// required name that is no row.
func TestRequiredRows(t *testing.T) {
	noLogs := func(t *testing.T) simulated {
		sim := runBase(t)
		for i := range sim.ledger.Reports {
			sim.ledger.Reports[i].Log = nil
		}
		return sim
	}
	essential := []string{InvAcked, InvConserved, InvNodes, InvRaftLog, InvLinearizable}
	for _, tt := range []struct {
		name    string
		sim     func(*testing.T) simulated
		require []string
		failed  []string // nil: passes
		marked  string   // a table line it must show
	}{
		{"every row compared", runBase, essential, nil, ""},
		{"no logs, not required", noLogs, nil, nil, InvRaftLog + ` +0 +NOT CHECKED: nothing`},
		{"no logs, required", noLogs, essential, []string{InvRaftLog}, InvRaftLog + ` +0 +NOT CHECKED \(required\)`},
		{"no such row", runBase, []string{"no such row"}, []string{"no such row"}, `no such row +0 +NOT CHECKED \(required\)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := check(t, tt.sim(t), Options{Require: tt.require})
			if r.Pass != (tt.failed == nil) || !slices.Equal(r.Failed(), tt.failed) {
				t.Errorf("Check(Require %v) = pass %v, failed %v; want failed %v:\n%s", tt.require, r.Pass, r.Failed(), tt.failed, r)
			}
			for _, name := range tt.require {
				if !r.Row(name).Required {
					t.Errorf("Check(Require %v).Row(%q).Required = false, want true", tt.require, name)
				}
			}
			s := r.String()
			if tt.marked != "" && !regexp.MustCompile(tt.marked).MatchString(s) {
				t.Errorf("Report.String() =\n%s\nwant a line matching %q", s, tt.marked)
			}
			if verdict := "robustness check: FAIL"; strings.HasPrefix(s, verdict) == r.Pass {
				t.Errorf("Report.String() begins %q, want the verdict of pass %v", s[:min(len(s), 30)], r.Pass)
			}
		})
	}
}

// TestFreezeKeepsErrors: a ledger read with errors freezes all the same,
// keeping the errors (through JSON too), so checking the Frozen fails as
// checking the ledger did.
func TestFreezeKeepsErrors(t *testing.T) {
	f, err := Freeze(t.Context(), failingLedger{}, []ledger.Address{addr(0)})
	if !errors.Is(err, errDown) || f == nil {
		t.Fatalf("Freeze(ledger down) = %v, %v; want a Frozen and %v", f, err, errDown)
	}
	data, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var back Frozen
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	for _, l := range []*Frozen{f, &back} {
		if r := Check(t.Context(), runBase(t).h, l, Options{}); r.Pass || r.Violations(InvLedger) != 3 {
			t.Errorf("Check(frozen ledger down) = %v with %d ledger violations, want a failure with 3:\n%s", r.Pass, r.Violations(InvLedger), r)
		}
	}
}

// TestFrozenFilters: Frozen answers only for the accounts asked.
func TestFrozenFilters(t *testing.T) {
	f := runBase(t).ledger
	only := []ledger.Address{addr(2)}
	txs, _ := f.Txs(t.Context(), only)
	snap, _ := f.Snapshot(t.Context(), only)
	if len(txs) != 3 || len(snap.Accounts) != 1 || snap.Accounts[0].Address != addr(2) {
		t.Errorf("Frozen.Txs/Snapshot(a2) = %d txs, %d accounts, want 3 and a2 alone", len(txs), len(snap.Accounts))
	}
	g, err := Freeze(t.Context(), f, []ledger.Address{addr(0), addr(1), addr(2)})
	if err != nil || len(g.Committed) != len(f.Committed) || len(g.Reports) != 3 {
		t.Errorf("Freeze(frozen) = %d txs, %v", len(g.Committed), err)
	}
	if _, err := Freeze(t.Context(), failingLedger{}, only); !errors.Is(err, errDown) {
		t.Errorf("Freeze(ledger down) = %v, want %v", err, errDown)
	}
}
