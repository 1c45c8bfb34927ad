package robustness

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/dualchain/dualchain/internal/robust"
	"github.com/dualchain/dualchain/ledger"
)

// TestScheduleDealsEveryFault: each round of the schedule deals every
// fault once, and a seed gives the same schedule again.
func TestScheduleDealsEveryFault(t *testing.T) {
	faults := Faults()
	deal := func(seed int64) []string {
		s := newSchedule(seed, faults)
		var out []string
		for range 3 * len(faults) {
			out = append(out, s.next().Name())
		}
		return out
	}
	got := deal(42)
	for round := range 3 {
		names := slices.Clone(got[round*len(faults) : (round+1)*len(faults)])
		slices.Sort(names)
		want := FaultNames()
		slices.Sort(want)
		if !slices.Equal(names, want) {
			t.Errorf("round %d of the schedule = %v, want every fault once", round, names)
		}
	}
	if again := deal(42); !slices.Equal(again, got) {
		t.Errorf("schedule(42) = %v, then %v; want the same", got, again)
	}
	if other := deal(43); slices.Equal(other, got) {
		t.Errorf("schedule(43) = schedule(42) = %v, want another order", got)
	}
	if f := newSchedule(1, nil).next(); f != nil {
		t.Errorf("next() of an empty schedule = %v, want nil", f)
	}
}

func TestScheduleBetween(t *testing.T) {
	s := newSchedule(1, nil)
	r := [2]time.Duration{time.Second, 2 * time.Second}
	for range 100 {
		if d := s.between(r); d < r[0] || d >= r[1] {
			t.Fatalf("between(%v) = %v, want within", r, d)
		}
	}
	if d := s.between([2]time.Duration{time.Second, time.Second}); d != time.Second {
		t.Errorf("between(1s, 1s) = %v, want 1s", d)
	}
}

func TestPickFaults(t *testing.T) {
	tests := []struct {
		names      []string
		redis      bool
		want, skip []string
	}{
		{nil, true, FaultNames(), nil},
		{nil, false, slices.DeleteFunc(FaultNames(), func(n string) bool { return strings.Contains(n, "redis-") }), []string{"redis-kill", "redis-wipe", "node-redis-kill"}},
		{[]string{"redis-wipe", "leader-kill"}, true, []string{"leader-kill", "redis-wipe"}, nil},
		{[]string{}, true, nil, nil},
	}
	for _, tt := range tests {
		picked, skipped := pickFaults(tt.names, tt.redis)
		var got []string
		for _, f := range picked {
			got = append(got, f.Name())
		}
		if !slices.Equal(got, tt.want) || !slices.Equal(skipped, tt.skip) {
			t.Errorf("pickFaults(%v, redis %v) = %v, %v; want %v, %v", tt.names, tt.redis, got, skipped, tt.want, tt.skip)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := Options{Binary: "dualchain", Dir: "d"}
	tests := []struct {
		name string
		o    func(Options) Options
		want error
	}{
		{"defaults", func(o Options) Options { return o }, nil},
		{"no binary", func(o Options) Options { o.Binary = ""; return o }, ErrBadOptions},
		{"no dir", func(o Options) Options { o.Dir = ""; return o }, ErrBadOptions},
		{"unknown fault", func(o Options) Options { o.Faults = []string{"meteor"}; return o }, ErrBadOptions},
		{"bad store", func(o Options) Options { o.Store = "tape"; return o }, ErrBadOptions},
		{"quiet backwards", func(o Options) Options { o.Quiet = [2]time.Duration{2, 1}; return o }, ErrBadOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.o(ok).Validate(); !errors.Is(err, tt.want) {
				t.Errorf("Validate() = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	rc := &ledger.Receipt{Status: ledger.StatusOK}
	rejected := func(code string) []api.TxResult {
		return []api.TxResult{{Status: api.StatusRejected, Error: &api.ErrorBody{Code: code, Message: code}}}
	}
	tests := []struct {
		name string
		res  []api.TxResult
		err  error
		want answer
	}{
		{"committed", []api.TxResult{{Status: api.StatusCommitted, Receipt: rc, Block: 7}}, nil, answerCommitted},
		{"pending", []api.TxResult{{Status: api.StatusPending}}, nil, answerUncertain},
		{"insufficient funds", rejected("insufficient_funds"), nil, answerRejected},
		{"replay", rejected("nonce_too_low"), nil, answerReplay},
		{"not leader", rejected("not_leader"), nil, answerUncertain},
		{"block failed", rejected("block_failed"), nil, answerUncertain},
		{"connection refused", nil, errors.New("dial tcp: connection refused"), answerUncertain},
		{"no leader", nil, &client.Error{Code: api.CodeNoLeader}, answerUncertain},
		{"bad request", nil, &client.Error{Code: api.CodeBadRequest}, answerRejected},
	}
	for _, tt := range tests {
		if got, _, _ := classify(tt.res, tt.err); got != tt.want {
			t.Errorf("classify(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestThroughput(t *testing.T) {
	s := time.Second
	var ops []robust.Op
	for at := 500 * time.Millisecond; at < 10*s; at += 500 * time.Millisecond {
		ops = append(ops, robust.Op{Client: 0, Outcome: robust.OutcomeOK, Return: at})
	}
	ops = append(ops, robust.Op{Client: 0, Outcome: robust.OutcomeFail, Return: s},
		robust.Op{Client: 5, Outcome: robust.OutcomeOK, Return: s}) // a pause's read
	// Before [0,2), a fault [2,4), between [4,6), a fault [6,8), after [8,10).
	got := throughput(ops, 4, [][2]time.Duration{{2 * s, 4 * s}, {6 * s, 8 * s}}, 10*s)
	want := Throughput{Before: 1.5, During: 2, Between: 2, After: 2}
	if got != want {
		t.Errorf("throughput() = %+v, want %+v", got, want)
	}
	if got := throughput(ops, 4, nil, 10*s); got.Before != 1.9 {
		t.Errorf("throughput(no faults).Before = %v, want 1.9", got.Before)
	}
}

func TestFaultStats(t *testing.T) {
	ms := time.Millisecond
	events := []FaultEvent{
		{Fault: "leader-kill", EffectAfter: 100 * ms, Recovery: 300 * ms},
		{Fault: "redis-wipe", EffectAfter: 50 * ms, Recovery: 10 * ms},
		{Fault: "leader-kill", EffectAfter: 300 * ms, Recovery: 100 * ms},
		{Fault: "leader-kill", EffectAfter: 200 * ms, Err: "not recovered"},
	}
	got := faultStats(events)
	want := []FaultStat{
		{Fault: "leader-kill", Injected: 3, Survived: 2, Effect: 200 * ms, Recovery: [3]time.Duration{100 * ms, 200 * ms, 300 * ms}},
		{Fault: "redis-wipe", Injected: 1, Survived: 1, Effect: 50 * ms, Recovery: [3]time.Duration{10 * ms, 10 * ms, 10 * ms}},
	}
	if !slices.Equal(got, want) {
		t.Errorf("faultStats() = %+v, want %+v", got, want)
	}
}

func TestAgree(t *testing.T) {
	ids := []string{"n1", "n2", "n3"}
	st := func(leader bool, height uint64, caught bool) *api.Status {
		return &api.Status{Leader: leader, LeaderID: "n1", Height: height, CaughtUp: caught}
	}
	tests := []struct {
		name string
		sts  []*api.Status
		want string // a part of the answer; "" for agreement
	}{
		{"agree", []*api.Status{st(true, 100, true), st(false, 99, true), st(false, 100, true)}, ""},
		{"silent", []*api.Status{st(true, 100, true), nil, st(false, 100, true)}, "n2 does not answer"},
		{"behind", []*api.Status{st(true, 1000, true), st(false, 10, true), st(false, 1000, true)}, "behind"},
		{"catching up", []*api.Status{st(true, 100, true), st(false, 100, false), st(false, 100, true)}, "caught up"},
		{"two leaders", []*api.Status{st(true, 100, true), st(true, 100, true), st(false, 100, true)}, "2 nodes"},
	}
	for _, tt := range tests {
		got := agree(ids, tt.sts)
		if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
			t.Errorf("agree(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSampleHeights(t *testing.T) {
	if got := sampleHeights(0, 8); len(got) != 0 {
		t.Errorf("sampleHeights(0, 8) = %v, want none", got)
	}
	got := sampleHeights(100, 4)
	want := []uint64{25, 50, 75, 96, 97, 98, 99, 100}
	if !slices.Equal(got, want) {
		t.Errorf("sampleHeights(100, 4) = %v, want %v", got, want)
	}
}

// TestStrongReads: the strong clients ask for consistency=strong on
// reads, not on submissions.
func TestStrongReads(t *testing.T) {
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.Method+" "+r.URL.Query().Get("consistency"))
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	ep := newEndpoints([]localcluster.Node{{ID: "n1", URL: srv.URL}})
	if _, err := ep.strong("n1").Audit(t.Context()); err != nil {
		t.Fatalf("Audit() = %v", err)
	}
	if _, err := ep.local("n1").Audit(t.Context()); err != nil {
		t.Fatalf("Audit() = %v", err)
	}
	if want := []string{"GET strong", "GET "}; !slices.Equal(queries, want) {
		t.Errorf("queries = %q, want %q", queries, want)
	}
}

// TestNewTxKinds: each kind signs the transaction its chain and contract
// expect, and signing is deterministic.
func TestNewTxKinds(t *testing.T) {
	key, err := ledger.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []robust.Kind{robust.KindHotTransfer, robust.KindSettle, robust.KindDeposit, robust.KindColdTransfer} {
		tx := newTx("c", key, kind, key.Address, 5, 3)
		if tx.Chain != kind.Chain() || tx.Nonce != 3 || tx.From != key.Address {
			t.Errorf("newTx(%s) = chain %v nonce %d, want chain %v nonce 3", kind, tx.Chain, tx.Nonce, kind.Chain())
		}
		if err := tx.Validate(); err != nil {
			t.Errorf("newTx(%s).Validate() = %v", kind, err)
		}
		if again := newTx("c", key, kind, key.Address, 5, 3); again.ID() != tx.ID() {
			t.Errorf("newTx(%s) twice: ids %s and %s, want one", kind, tx.ID(), again.ID())
		}
	}
}

// TestHealOwnContext: a heal runs on a context of its own, so a fault
// whose Inject used up (or whose run cancelled) the fault's context is
// still healed.
func TestHealOwnContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var seen error
	in := &Injection{heal: func(ctx context.Context) (string, error) {
		seen = ctx.Err()
		return "lifted", nil
	}}
	r := &runner{o: DefaultOptions()}
	if healed, err := r.heal(ctx, in); healed != "lifted" || err != nil || seen != nil {
		t.Errorf("heal(cancelled context) = %q, %v, with the heal's context %v; want lifted on a live context", healed, err, seen)
	}
}

// TestSaveNamesUnsaved: a run that ended before it read the final ledger
// says in its summary that ledger.json is missing, and why.
func TestSaveNamesUnsaved(t *testing.T) {
	dir := t.TempDir()
	r := &runner{o: Options{Dir: dir}}
	if err := r.saveFiles(); err != nil {
		t.Fatalf("saveFiles() = %v", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"not saved: " + HistoryFile + ": ", "not saved: " + LedgerFile + ": the run ended before it read the final ledger"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("%s =\n%s\nwant a line %q", SummaryFile, data, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, LedgerFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Stat(%s) = %v, want it absent", LedgerFile, err)
	}
}
