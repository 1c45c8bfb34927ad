package robust

import (
	"bytes"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestHistoryConcurrentClients(t *testing.T) {
	h := NewHistory(accounts(2, 10, 10), nil)
	const clients, each = 8, 50
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for range each {
				op := h.Begin(c, Input{Kind: KindRead, From: addr(0)})
				op.End(OutcomeOK, Result{Snapshot: &Snapshot{Accounts: accounts(1, 10, 10)}})
			}
		})
	}
	wg.Wait()
	ops := h.Ops()
	if len(ops) != clients*each {
		t.Fatalf("Ops() = %d ops, want %d", len(ops), clients*each)
	}
	for i, op := range ops {
		if op.ID != i || op.Outcome != OutcomeOK || op.Return < op.Call || i > 0 && op.Call < ops[i-1].Call {
			t.Fatalf("Ops()[%d] = id %d, %s, [%v, %v] after a call at %v: want id %d, ok, in order", i, op.ID, op.Outcome, op.Call, op.Return, ops[max(i-1, 0)].Call, i)
		}
	}
	if now := h.Now(); now < ops[len(ops)-1].Return {
		t.Errorf("Now() = %v, before the last return %v", now, ops[len(ops)-1].Return)
	}
}

func TestEndTwicePanics(t *testing.T) {
	op := NewHistory(nil, nil).Begin(0, Input{Kind: KindRead})
	op.End(OutcomeFail, Result{})
	defer func() {
		if err, _ := recover().(error); !errors.Is(err, ErrEndedTwice) {
			t.Errorf("End twice panicked with %v, want %v", err, ErrEndedTwice)
		}
	}()
	op.End(OutcomeOK, Result{})
}

func TestSaveLoad(t *testing.T) {
	sim := simulate(t, accounts(2, 100, 100), unknownScript(), false)
	var buf bytes.Buffer
	if err := sim.h.Save(&buf); err != nil {
		t.Fatalf("Save() = %v", err)
	}
	saved := buf.String()
	h, err := Load(&buf)
	if err != nil {
		t.Fatalf("Load(Save()) = %v", err)
	}
	if !reflect.DeepEqual(h.Ops(), sim.h.Ops()) || !reflect.DeepEqual(h.Initial(), sim.h.Initial()) {
		t.Errorf("Load(Save()) =\n%+v\nwant\n%+v", h.Ops(), sim.h.Ops())
	}
	want := check(t, sim, Options{})
	if got := Check(t.Context(), h, sim.ledger, Options{}); got.Pass != want.Pass || !reflect.DeepEqual(got.Invariants, want.Invariants) {
		t.Errorf("Check(loaded) =\n%s\nwant\n%s", got, want)
	}
	// A loaded history goes on: the unended op ends, new ops come later.
	last := h.Ops()[len(h.Ops())-1]
	h.ops[len(h.ops)-1].End(OutcomeUnknown, Result{})
	if op := h.Begin(0, Input{Kind: KindRead}); op.Call < last.Call {
		t.Errorf("Begin on a loaded history: call %v, before the last recorded %v", op.Call, last.Call)
	}

	path := filepath.Join(t.TempDir(), "history.json")
	if err := sim.h.SaveFile(path); err != nil {
		t.Fatalf("SaveFile() = %v", err)
	}
	if h, err := LoadFile(path); err != nil || !reflect.DeepEqual(h.Ops(), sim.h.Ops()) {
		t.Errorf("LoadFile(SaveFile()) = %v, ops equal %v", err, err == nil && reflect.DeepEqual(h.Ops(), sim.h.Ops()))
	}
	if !strings.Contains(saved, `"kind": "hot_transfer"`) || !strings.Contains(saved, `"status": "insufficient_funds"`) && !strings.Contains(saved, `"status": "ok"`) {
		t.Errorf("Save() =\n%s\nwant readable kinds and statuses", saved)
	}
}

func TestLoadBad(t *testing.T) {
	for _, in := range []string{
		"not json",
		`{"version": 2, "ops": []}`,
		`{"version": 1, "ops": [{"id": 1, "kind": "read"}]}`,
		`{"version": 1, "ops": [{"id": 0, "kind": "read", "from": "nonsense"}]}`,
	} {
		if _, err := Load(strings.NewReader(in)); !errors.Is(err, ErrBadHistory) {
			t.Errorf("Load(%q) = %v, want %v", in, err, ErrBadHistory)
		}
	}
}
