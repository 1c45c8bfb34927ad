package robustness

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dualchain/dualchain/internal/failpoint"
	"github.com/dualchain/dualchain/internal/localcluster"
)

// TestFailpointsProbe: a node without /debug/failpoints (404) gets the
// failpoint faults left out of the run; one with it keeps them, and so
// does a probe that failed otherwise.
func TestFailpointsProbe(t *testing.T) {
	with := httptest.NewServer(failpoint.Handler(failpoint.New()))
	defer with.Close()
	without := httptest.NewServer(http.NotFoundHandler())
	defer without.Close()
	fps := []string{"crash-point", "disk-slow", "disk-error", "clock-skew"}
	for _, tt := range []struct {
		url     string
		dropped []string
	}{{with.URL, nil}, {without.URL, fps}} {
		all, err := fpList(t.Context(), localcluster.Node{ID: "n1", URL: tt.url})
		if (tt.dropped == nil) != (err == nil) || err != nil && !errors.Is(err, errNoFailpoints) {
			t.Errorf("fpList(%s) = %d points, %v; want an error wrapping %v: %v", tt.url, len(all), err, errNoFailpoints, tt.dropped != nil)
		}
		kept, dropped := withoutFailpoints(Faults(), err)
		if !slices.Equal(dropped, tt.dropped) || len(kept)+len(dropped) != len(Faults()) {
			t.Errorf("withoutFailpoints(probe %v) dropped %v (kept %d of %d), want %v", err, dropped, len(kept), len(Faults()), tt.dropped)
		}
	}
	probe := errors.New("connection refused")
	if kept, dropped := withoutFailpoints(Faults(), probe); dropped != nil || len(kept) != len(Faults()) {
		t.Errorf("withoutFailpoints(probe %v) dropped %v, want none: only a 404 shows a binary without failpoints", probe, dropped)
	}
}

// flakyFailpoints serves a registry's failpoints API, but answers the
// first fails requests with status.
func flakyFailpoints(t *testing.T, reg *failpoint.Registry, fails int32, status int) *httptest.Server {
	t.Helper()
	var n atomic.Int32
	h := failpoint.Handler(reg)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= fails {
			http.Error(w, "starting", status)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestFailpointFaults: only a 404 drops the failpoint faults. A node
// that fails the probe for a while and then answers keeps them; one that
// keeps failing it is ErrProbe, with no fault dropped.
func TestFailpointFaults(t *testing.T) {
	fps := []string{"crash-point", "disk-slow", "disk-error", "clock-skew"}
	tests := []struct {
		name    string
		srv     *httptest.Server
		dropped []string
		err     error
	}{
		{"503 then 200", flakyFailpoints(t, failpoint.New(), 3, http.StatusServiceUnavailable), nil, nil},
		{"404", flakyFailpoints(t, failpoint.New(), 1<<30, http.StatusNotFound), fps, nil},
		{"always 503", flakyFailpoints(t, failpoint.New(), 1<<30, http.StatusServiceUnavailable), nil, ErrProbe},
	}
	for _, tt := range tests {
		start := time.Now()
		kept, dropped, err := failpointFaults(t.Context(), localcluster.Node{ID: "n1", URL: tt.srv.URL}, Faults(), time.Second)
		if !errors.Is(err, tt.err) || tt.err == nil && err != nil {
			t.Errorf("%s: failpointFaults = %v, want %v", tt.name, err, tt.err)
		}
		if !slices.Equal(dropped, tt.dropped) || len(kept)+len(dropped) != len(Faults()) {
			t.Errorf("%s: failpointFaults dropped %v (kept %d of %d), want %v", tt.name, dropped, len(kept), len(Faults()), tt.dropped)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: failpointFaults took %v, want its bound of 1s kept", tt.name, d)
		}
	}
}

// TestWithFailpointsFailsRun: the runner's probe of a node that keeps
// failing it is ErrProbe, which fails the run, and leaves every fault in.
func TestWithFailpointsFailsRun(t *testing.T) {
	srv := flakyFailpoints(t, failpoint.New(), 1<<30, http.StatusInternalServerError)
	e := envOf(t, srv.URL, time.Second)
	n, err := e.Cluster.Node("n1")
	if err != nil {
		t.Fatal(err)
	}
	r := &runner{o: Options{}.withDefaults(), c: e.Cluster, ep: newEndpoints([]localcluster.Node{n})}
	ctx, cancel := context.WithTimeout(t.Context(), time.Second) // shorter than probeFor
	defer cancel()
	faults, skipped, err := r.withFailpoints(ctx, Faults(), []string{"redis-kill"})
	if !errors.Is(err, ErrProbe) || len(faults) != len(Faults()) || !slices.Equal(skipped, []string{"redis-kill"}) {
		t.Errorf("withFailpoints = %d faults, skipped %v, %v; want all %d, skipped [redis-kill], %v", len(faults), skipped, err, len(Faults()), ErrProbe)
	}
}

// TestDisksFast: disk-slow's heal requires the cold chain's syncs to
// have slept, waiting for them if they have not yet, and disarms both
// points whatever it saw.
func TestDisksFast(t *testing.T) {
	tests := []struct {
		name    string
		syncAt  time.Duration // -1: never
		wantErr error
	}{
		{"synced before", 0, nil},
		{"synced during the heal", 200 * time.Millisecond, nil},
		{"never synced", -1, ErrNoEffect},
	}
	for _, tt := range tests {
		reg := failpoint.New()
		srv := flakyFailpoints(t, reg, 0, 0)
		n := localcluster.Node{ID: "n1", URL: srv.URL}
		before := reg.All()
		term, err := failpoint.ParseTerm("sleep(1ms)")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{failpoint.RaftLogStore, failpoint.PebbleSync} {
			if err := reg.Arm(p, term); err != nil {
				t.Fatal(err)
			}
		}
		reg.Eval(failpoint.RaftLogStore)
		if tt.syncAt >= 0 {
			time.AfterFunc(tt.syncAt, func() { reg.Eval(failpoint.PebbleSync) })
		}
		healed, err := (&Env{}).disksFast(t.Context(), n, before, time.Second)
		if !errors.Is(err, tt.wantErr) || tt.wantErr == nil && err != nil {
			t.Errorf("%s: disksFast = %q, %v; want %v", tt.name, healed, err, tt.wantErr)
		}
		if tt.wantErr == nil && !strings.Contains(healed, failpoint.PebbleSync+" 1 times") {
			t.Errorf("%s: disksFast = %q, want %s counted once", tt.name, healed, failpoint.PebbleSync)
		}
		for p, st := range reg.All() {
			if st.Action != "" {
				t.Errorf("%s: after disksFast %s is armed with %q, want every point disarmed", tt.name, p, st.Action)
			}
		}
	}
}
