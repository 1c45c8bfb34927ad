package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/api/apitest"
	"github.com/dualchain/dualchain/ledger"
	"github.com/prometheus/client_golang/prometheus"
)

var (
	alice = apitest.Key(1)
	bob   = apitest.Key(2)
	carol = apitest.Key(3)
)

// testLogger logs to t.Log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tlogWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tlogWriter struct{ t *testing.T }

func (w tlogWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func newHandler(t *testing.T, b api.Backend) http.Handler {
	cfg := api.TestConfig()
	cfg.Logger = testLogger(t)
	return api.New(b, cfg).Handler()
}

type response struct {
	code   int
	header http.Header
	body   []byte
}

func do(t *testing.T, h http.Handler, method, target, contentType string, body []byte) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

func get(t *testing.T, h http.Handler, target string) response {
	t.Helper()
	return do(t, h, http.MethodGet, target, "", nil)
}

// decode decodes a JSON response body strictly.
func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %T from %.300s: %v", v, r.body, err)
	}
	return v
}

// wantError checks that r is a JSON error with status and code.
func wantError(t *testing.T, r response, status int, code string) api.ErrorBody {
	t.Helper()
	if r.code != status {
		t.Errorf("status = %d, want %d (body %s)", r.code, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != api.MediaJSON {
		t.Errorf("Content-Type = %q, want %q", ct, api.MediaJSON)
	}
	var e struct {
		Error api.ErrorBody `json:"error"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body %s: %v", r.body, err)
	}
	if e.Error.Code != code || e.Error.Message == "" {
		t.Errorf("error = %+v, want code %q and a message", e.Error, code)
	}
	return e.Error
}

func TestRoutingErrors(t *testing.T) {
	h := newHandler(t, apitest.Funded(false, 100, alice))
	tests := []struct {
		method, target string
		status         int
		code           string
	}{
		{"GET", "/v1/nope", 404, "not_found"},
		{"GET", "/", 404, "not_found"},
		{"DELETE", "/v1/status", 405, "method_not_allowed"},
		{"GET", "/v1/transactions", 405, "method_not_allowed"},
		{"PUT", "/v1/transactions/abc", 405, "method_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			r := do(t, h, tt.method, tt.target, "", nil)
			wantError(t, r, tt.status, tt.code)
			if tt.status == 405 && r.header.Get("Allow") == "" {
				t.Errorf("405 without an Allow header")
			}
		})
	}
}

// TestPprof checks that net/http/pprof is served only with Config.Pprof.
func TestPprof(t *testing.T) {
	targets := []string{"/debug/pprof/", "/debug/pprof/heap?debug=1", "/debug/pprof/cmdline"}
	for _, on := range []bool{false, true} {
		cfg := api.TestConfig()
		cfg.Logger, cfg.Pprof = testLogger(t), on
		h := api.New(apitest.Funded(false, 100, alice), cfg).Handler()
		for _, target := range targets {
			t.Run(fmt.Sprintf("pprof=%v %s", on, target), func(t *testing.T) {
				r := get(t, h, target)
				if !on {
					wantError(t, r, 404, "not_found")
					return
				}
				if r.code != 200 || len(r.body) == 0 {
					t.Errorf("GET %s = %d (%d bytes), want 200 and a body", target, r.code, len(r.body))
				}
			})
		}
	}
}

// logRecorder is a slog.Handler that keeps the records a test's server
// logs (but the per-request access line) and passes them to t.Log.
type logRecorder struct {
	t       *testing.T
	mu      sync.Mutex
	records []slog.Record
}

func newLoggedHandler(t *testing.T, b api.Backend, cfg api.Config) (http.Handler, *logRecorder) {
	rec := &logRecorder{t: t}
	cfg.Logger = slog.New(rec)
	return api.New(b, cfg).Handler(), rec
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.t.Logf("%s %s", r.Level, r.Message)
	if r.Message == "request" {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r.Clone())
	return nil
}

// only returns the one record logged, failing the test if there was not
// exactly one.
func (l *logRecorder) only(t *testing.T) slog.Record {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.records) != 1 {
		t.Fatalf("%d log records, want 1: %v", len(l.records), l.records)
	}
	return l.records[0]
}

func (l *logRecorder) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.records)
}

func attr(r slog.Record, key string) slog.Value {
	var v slog.Value
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value
		}
		return true
	})
	return v
}

// failing is a Backend whose reads fail with err, or with the request's
// context error if err is errFromCtx, or panic if err is nil.
type failing struct {
	*apitest.Backend
	err error
}

var errFromCtx = errors.New("use ctx.Err()")

func (f failing) Tx(ctx context.Context, id ledger.Hash) (*ledger.TxRecord, error) {
	switch f.err {
	case nil:
		panic("backend exploded")
	case errFromCtx:
		return nil, fmt.Errorf("redis 10.0.0.7: %w", ctx.Err())
	}
	return nil, f.err
}

func TestErrorMapping(t *testing.T) {
	const secret = "redis at 10.0.0.7 said NOAUTH"
	const none = slog.Level(-100) // nothing logged
	tests := []struct {
		name     string
		err      error
		canceled bool // the client went away before the backend answered
		status   int
		code     string
		level    slog.Level
	}{
		{"coder not_found", apitest.Errorf("not_found", "no such tx"), false, 404, "not_found", none},
		{"coder mempool_full", apitest.Errorf("mempool_full", "full"), false, 503, "mempool_full", none},
		{"coder nonce_too_low", apitest.Errorf("nonce_too_low", "stale"), false, 409, "nonce_too_low", none},
		{"coder unknown code", apitest.Errorf("frobnicated", "odd"), false, 400, "frobnicated", none},
		{"wrapped coder", fmt.Errorf("read: %w", apitest.Errorf("not_found", "gone")), false, 404, "not_found", none},
		{"backend ledger too large", fmt.Errorf("%s: %w", secret, ledger.ErrTooLarge), false, 500, "internal", slog.LevelError},
		{"backend ledger bad signature", fmt.Errorf("%s: %w", secret, ledger.ErrBadSignature), false, 500, "internal", slog.LevelError},
		{"backend corrupt record", fmt.Errorf("%s: decode record: %w", secret, ledger.ErrBadEncoding), false, 500, "internal", slog.LevelError},
		{"backend deadline", fmt.Errorf("%s: %w", secret, context.DeadlineExceeded), false, 504, "timeout", slog.LevelWarn},
		{"backend canceled itself", fmt.Errorf("%s: %w", secret, context.Canceled), false, 500, "internal", slog.LevelError},
		{"client went away", errFromCtx, true, api.StatusClientClosedRequest, "canceled", slog.LevelDebug},
		{"internal", errors.New(secret), false, 500, "internal", slog.LevelError},
		{"panic", nil, false, 500, "internal", slog.LevelError},
	}
	id := strings.Repeat("ab", 32)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, logs := newLoggedHandler(t, failing{apitest.Funded(false, 1), tt.err}, api.TestConfig())
			ctx, cancel := context.WithCancel(context.Background())
			if tt.canceled {
				cancel()
			}
			defer cancel()
			req := httptest.NewRequestWithContext(ctx, "GET", "/v1/transactions/"+id, nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			e := wantError(t, response{rec.Code, rec.Header(), rec.Body.Bytes()}, tt.status, tt.code)
			if tt.level != none && (strings.Contains(e.Message, "10.0.0.7") || strings.Contains(e.Message, "exploded") || strings.Contains(e.Message, "ledger")) {
				t.Errorf("error message leaks the backend's text: %q", e.Message)
			}
			if tt.level == none {
				if n := logs.len(); n != 0 {
					t.Errorf("%d log records for a coded error, want 0", n)
				}
				return
			}
			if r := logs.only(t); r.Level != tt.level {
				t.Errorf("logged %q at %v, want %v", r.Message, r.Level, tt.level)
			}
		})
	}
}

func TestStatusFor(t *testing.T) {
	tests := []struct {
		code string
		want int
	}{
		{"bad_request", 400}, {"not_found", 404}, {"too_large", 413}, {"batch_too_large", 413},
		{"unsupported_media_type", 415}, {"nonce_too_low", 409}, {"nonce_too_high", 409},
		{"nonce_taken", 409}, {"unknown_tx", 404}, {"block_failed", 503}, {"mempool_full", 503}, {"timeout", 504}, {"internal", 500},
		{"never_heard_of_it", 400},
	}
	for _, tt := range tests {
		if got := api.StatusFor(tt.code); got != tt.want {
			t.Errorf("StatusFor(%q) = %d, want %d", tt.code, got, tt.want)
		}
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := api.TestConfig()
	cfg.Registry = reg
	h := api.New(apitest.Funded(false, 100, alice), cfg).Handler()
	get(t, h, "/v1/status")
	get(t, h, "/v1/nope")
	r := get(t, h, "/metrics")
	if r.code != 200 {
		t.Fatalf("GET /metrics = %d, want 200", r.code)
	}
	for _, want := range []string{
		`dualchain_api_requests_total{code="200",route="GET /v1/status"} 1`,
		`dualchain_api_requests_total{code="404",route="unmatched"} 1`,
		`dualchain_api_request_duration_seconds_count{route="GET /v1/status"} 1`,
	} {
		if !bytes.Contains(r.body, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// A second server on the same registry shares the collectors.
	api.New(apitest.Funded(false, 1), cfg)
}
