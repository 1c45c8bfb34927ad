package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/api/apitest"
	"github.com/prometheus/client_golang/prometheus"
)

// served is an API server on a real listener, its connections counted.
type served struct {
	url string
	reg *prometheus.Registry
}

// serveCounted serves b with cfg on loopback, at most maxConns
// connections at once (api.LimitListener), ConnState wired as the node
// wires it.
func serveCounted(t *testing.T, b api.Backend, cfg api.Config, maxConns int) served {
	t.Helper()
	cfg.Registry = prometheus.NewRegistry()
	s := api.New(b, cfg)
	srv := httptest.NewUnstartedServer(s.Handler())
	srv.Config.ConnState = s.ConnState
	srv.Listener = api.LimitListener(srv.Listener, maxConns)
	srv.Start()
	t.Cleanup(srv.Close)
	return served{url: srv.URL, reg: cfg.Registry}
}

// gauge reads an unlabelled gauge from reg.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no gauge %s", name)
	return 0
}

// TestDebugDelay: every /v1/ request waits Config.DebugDelay, /metrics
// does not, and a client that goes away ends the wait.
func TestDebugDelay(t *testing.T) {
	cfg := api.TestConfig()
	cfg.Logger = testLogger(t)
	cfg.DebugDelay = 200 * time.Millisecond
	s := serveCounted(t, apitest.Funded(false, 1, alice), cfg, 16)
	for _, tt := range []struct {
		path    string
		delayed bool
	}{{"/v1/status", true}, {"/v1/nope", true}, {"/metrics", false}} {
		start := time.Now()
		resp, err := http.Get(s.url + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if took := time.Since(start); (took >= cfg.DebugDelay) != tt.delayed {
			t.Errorf("GET %s took %v; delayed by %v: %v", tt.path, took, cfg.DebugDelay, tt.delayed)
		}
	}
	// A client that gives up: the request ends with it, not at the delay.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/v1/status", nil)
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("request with a 20 ms deadline = %v, want %v", err, context.DeadlineExceeded)
	}
	waitGauge(t, s.reg, "dualchain_api_requests_in_flight", 0, cfg.DebugDelay/2)

	bad := api.TestConfig()
	bad.DebugDelay = -time.Second
	if err := bad.Validate(); err == nil {
		t.Error("Validate of a negative delay = nil, want an error")
	}
}

// waitGauge waits up to within for gauge name to read want.
func waitGauge(t *testing.T, reg *prometheus.Registry, name string, want float64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for gauge(t, reg, name) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v after %v, want %v", name, gauge(t, reg, name), within, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// barrier is a backend whose Status calls all wait until n of them are
// in flight at once.
type barrier struct {
	api.Backend
	n       int
	mu      sync.Mutex
	arrived int
	all     chan struct{}
}

func (b *barrier) Status(ctx context.Context) (api.Status, error) {
	b.mu.Lock()
	if b.arrived++; b.arrived == b.n {
		close(b.all)
	}
	b.mu.Unlock()
	select {
	case <-b.all:
	case <-ctx.Done():
		return api.Status{}, ctx.Err()
	}
	return b.Backend.Status(ctx)
}

// TestConnectionGauges opens workers connections at once, each holding a
// request in flight until all are: the peaks count exactly that many, the
// current values fall back once they end and close. With 1,000 workers it
// also shows the node's default --max-conns (4,096) lets an exporter's
// 1,000 workers in at once.
func TestConnectionGauges(t *testing.T) {
	for _, workers := range []int{1, 7, 1000} {
		t.Run(fmt.Sprint(workers), func(t *testing.T) {
			b := &barrier{Backend: apitest.Funded(false, 1, alice), n: workers, all: make(chan struct{})}
			s := serveCounted(t, b, api.TestConfig(), 4096)
			tr := &http.Transport{MaxConnsPerHost: workers, MaxIdleConnsPerHost: workers,
				DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext}
			hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			for range workers {
				wg.Go(func() {
					resp, err := hc.Get(s.url + "/v1/status")
					if err != nil {
						errs <- err
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if got := gauge(t, s.reg, "dualchain_api_requests_in_flight_peak"); got != float64(workers) {
				t.Errorf("requests in flight peak = %v, want %d", got, workers)
			}
			if got := gauge(t, s.reg, "dualchain_api_connections_peak"); got != float64(workers) {
				t.Errorf("connections peak = %v, want %d", got, workers)
			}
			if got := gauge(t, s.reg, "dualchain_api_requests_in_flight"); got != 0 {
				t.Errorf("requests in flight after = %v, want 0", got)
			}
			tr.CloseIdleConnections()
			waitGauge(t, s.reg, "dualchain_api_connections_open", 0, 5*time.Second)
		})
	}
}
