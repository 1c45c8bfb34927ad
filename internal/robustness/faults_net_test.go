package robustness

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/dualchain/dualchain/internal/netfault"
)

func TestDropWithoutNetns(t *testing.T) {
	net := []string{"partition-leader", "partition-follower", "flaky-links"}
	tests := []struct {
		name     string
		r        *runner
		wantKept bool
	}{
		{"no namespaces", &runner{o: Options{}.withDefaults(), noNet: "not root"}, false},
		{"namespaces", &runner{o: Options{}.withDefaults(), net: &netfault.Net{}}, true},
	}
	for _, tt := range tests {
		kept, skipped := tt.r.dropWithoutNetns(Faults(), []string{"redis-kill"})
		var names []string
		for _, f := range kept {
			names = append(names, f.Name())
		}
		for _, n := range net {
			if slices.Contains(names, n) != tt.wantKept || slices.Contains(skipped, n) == tt.wantKept {
				t.Errorf("%s: dropWithoutNetns kept %v, skipped %v; want %s kept %v", tt.name, names, skipped, n, tt.wantKept)
			}
		}
		if !slices.Contains(skipped, "redis-kill") || !slices.Contains(names, "leader-kill") {
			t.Errorf("%s: dropWithoutNetns kept %v, skipped %v; want leader-kill kept and redis-kill still skipped", tt.name, names, skipped)
		}
	}
}

func TestSetupNetOff(t *testing.T) {
	r := &runner{o: Options{Netns: NetnsOff}.withDefaults()}
	place, err := r.setupNet(t.Context())
	if place != nil || err != nil || r.net != nil || r.noNet == "" {
		t.Errorf("setupNet(NetnsOff) = place %v, %v, net %v, reason %q; want nothing made and a reason", place != nil, err, r.net, r.noNet)
	}
	if err := (Options{Binary: "b", Dir: "d", Netns: NetnsOff + 1}).Validate(); err == nil {
		t.Errorf("Validate(Netns %d) = nil, want an error", NetnsOff+1)
	}
}

// statusServer serves /v1/status: 503 to the first fails requests, then
// status(k) to the k-th (from 0) that it answers.
func statusServer(t *testing.T, fails int32, status func(k int32) api.Status) *httptest.Server {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := n.Add(1) - 1
		if r.URL.Path != "/v1/status" || k < fails {
			http.Error(w, `{"error":"unavailable"}`, http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(status(k - fails))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestStuckAt: a cut-off node must answer to show its commit index
// stayed; one that never answers is no evidence (ErrNoEffect), one that
// answers after a failure or two is asked again.
func TestStuckAt(t *testing.T) {
	at := func(commit uint64) func(int32) api.Status {
		return func(int32) api.Status { return api.Status{CommitIndex: commit} }
	}
	tests := []struct {
		name  string
		fails int32
		st    func(int32) api.Status
		want  error
	}{
		{"stayed", 0, at(10), nil},
		{"committed", 0, at(12), ErrNoEffect},
		{"stayed, answered on the last try", stuckTries - 1, at(10), nil},
		{"never answered", 1 << 30, at(10), ErrNoEffect},
	}
	for _, tt := range tests {
		srv := statusServer(t, tt.fails, tt.st)
		e := &Env{ep: newEndpoints([]localcluster.Node{{ID: "n1", URL: srv.URL}})}
		if err := e.stuckAt(t.Context(), "n1", 10); !errors.Is(err, tt.want) || tt.want == nil && err != nil {
			t.Errorf("%s: stuckAt(n1, 10) = %v, want %v", tt.name, err, tt.want)
		}
	}
}

// TestHealCutOff: a partition's heal lifts it even when the cut-off node
// is found to have committed, and reports that joined with its own
// result. (A zero Net has no rules to lift: healPartition's report, which
// it gives only once the node caught up after the lift, shows it ran.)
func TestHealCutOff(t *testing.T) {
	tests := []struct {
		name  string
		stuck api.Status // what the cut-off node answers before the lift
		want  error
	}{
		{"stayed", api.Status{CommitIndex: 10, AppliedIndex: 10}, nil},
		{"committed while cut off", api.Status{CommitIndex: 15, AppliedIndex: 15, Leader: true}, ErrNoEffect},
	}
	caughtUp := api.Status{CommitIndex: 20, AppliedIndex: 20, LeaderID: "n2", Term: 3}
	for _, tt := range tests {
		cut := statusServer(t, 0, func(k int32) api.Status {
			if k == 0 {
				return tt.stuck
			}
			return caughtUp
		})
		majority := statusServer(t, 0, func(int32) api.Status { return caughtUp })
		e := &Env{ep: newEndpoints([]localcluster.Node{{ID: "n1", URL: cut.URL}, {ID: "n2", URL: majority.URL}}),
			net: &netfault.Net{}, Effect: 2 * time.Second}
		healed, err := e.healCutOff(t.Context(), "n1", 10, []string{"n2"}, "follower")
		if !errors.Is(err, tt.want) || tt.want == nil && err != nil {
			t.Errorf("%s: healCutOff = %v, want %v", tt.name, err, tt.want)
		}
		if !strings.Contains(healed, "partition lifted") || !strings.Contains(healed, "applied index 20") {
			t.Errorf("%s: healCutOff = %q, want the partition lifted and n1 caught up", tt.name, healed)
		}
	}
}

// TestQueueErrs: flaky-links fails when its delayer's errors pass 1% of
// the packets it delayed.
func TestQueueErrs(t *testing.T) {
	tests := []struct {
		delayed, errs uint64
		want          error
	}{
		{0, 0, nil},
		{1000, 0, nil},
		{1000, 10, nil},
		{1000, 11, ErrNoEffect},
		{0, 1, ErrNoEffect},
	}
	for _, tt := range tests {
		err := queueErrs(netfault.Stats{Delayed: tt.delayed, QueueErrs: tt.errs})
		if !errors.Is(err, tt.want) || tt.want == nil && err != nil {
			t.Errorf("queueErrs(%d delayed, %d errors) = %v, want %v", tt.delayed, tt.errs, err, tt.want)
		}
	}
}
