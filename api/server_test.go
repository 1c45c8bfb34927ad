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

// failing is a Backend whose reads fail with err, or panic if err is nil.
type failing struct {
	*apitest.Backend
	err error
}

func (f failing) Tx(ctx context.Context, id ledger.Hash) (*ledger.TxRecord, error) {
	if f.err == nil {
		panic("backend exploded")
	}
	return nil, f.err
}

func TestErrorMapping(t *testing.T) {
	const secret = "redis at 10.0.0.7 said NOAUTH"
	tests := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"coder not_found", apitest.Errorf("not_found", "no such tx"), 404, "not_found"},
		{"coder mempool_full", apitest.Errorf("mempool_full", "full"), 503, "mempool_full"},
		{"coder nonce_too_low", apitest.Errorf("nonce_too_low", "stale"), 409, "nonce_too_low"},
		{"coder unknown code", apitest.Errorf("frobnicated", "odd"), 400, "frobnicated"},
		{"wrapped coder", fmt.Errorf("read: %w", apitest.Errorf("not_found", "gone")), 404, "not_found"},
		{"ledger too large", fmt.Errorf("x: %w", ledger.ErrTooLarge), 413, "too_large"},
		{"ledger bad signature", fmt.Errorf("x: %w", ledger.ErrBadSignature), 400, "bad_signature"},
		{"ledger bad encoding", fmt.Errorf("x: %w", ledger.ErrBadEncoding), 400, "bad_encoding"},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), 504, "timeout"},
		{"internal", errors.New(secret), 500, "internal"},
		{"panic", nil, 500, "internal"},
	}
	id := strings.Repeat("ab", 32)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(t, failing{apitest.Funded(false, 1), tt.err})
			r := get(t, h, "/v1/transactions/"+id)
			e := wantError(t, r, tt.status, tt.code)
			if tt.code == "internal" && (strings.Contains(e.Message, "redis") || strings.Contains(e.Message, "exploded")) {
				t.Errorf("internal error leaks its text: %q", e.Message)
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
