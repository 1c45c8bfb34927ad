package api

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server serves a Backend over HTTP. Make one with New.
type Server struct {
	b       Backend
	cfg     Config
	log     *slog.Logger
	mux     *http.ServeMux
	metrics *metrics
	handler http.Handler
	// forwarder sends requests a follower forwards to the leader.
	forwarder *http.Client
}

// New returns a server for b. Zero or negative limits in cfg take their
// DefaultConfig values; a nil Logger discards and a nil Registry is
// replaced by a new one.
func New(b Backend, cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{b: b, cfg: cfg, mux: http.NewServeMux(), forwarder: &http.Client{Transport: forwardTransport()}}
	s.log = cfg.Logger.With("component", "api")
	s.metrics = newMetrics(cfg.Registry)
	s.routes()
	s.handler = s.countInFlight(s.observe(s.delay(s.recoverPanics(http.HandlerFunc(s.dispatch)))))
	return s
}

// delay holds every /v1/ request Config.DebugDelay before it is handled,
// or until its client goes away (answered canceled, which nobody reads).
func (s *Server) delay(next http.Handler) http.Handler {
	if s.cfg.DebugDelay <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/") {
			t := time.NewTimer(s.cfg.DebugDelay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-r.Context().Done():
				s.writeError(w, r, r.Context().Err())
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Registry == nil {
		c.Registry = prometheus.NewRegistry()
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = d.MaxBodyBytes
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = d.MaxBatch
	}
	if c.WaitTimeout <= 0 {
		c.WaitTimeout = d.WaitTimeout
	}
	return c
}

// forwardTransport keeps enough idle connections to the leader for every
// client a follower serves at once.
func forwardTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 256
	return t
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes() {
	s.mux.HandleFunc("POST /v1/transactions", s.submit)
	s.mux.HandleFunc("GET /v1/transactions/{id}", s.reads(s.getTx))
	s.mux.HandleFunc("GET /v1/transactions/{id}/trace", s.reads(s.getTrace))
	s.mux.HandleFunc("GET /v1/blocks", s.reads(s.getBlocks))
	s.mux.HandleFunc("GET /v1/blocks/latest", s.reads(s.getLatestBlock))
	s.mux.HandleFunc("GET /v1/blocks/{height}", s.reads(s.getBlock))
	s.mux.HandleFunc("GET /v1/blocks/{height}/raw", s.reads(s.getRawBlock))
	s.mux.HandleFunc("GET /v1/accounts/{addr}", s.reads(s.getAccount))
	s.mux.HandleFunc("GET /v1/status", s.getStatus)
	s.mux.HandleFunc("GET /v1/cold/accounts/{addr}", s.coldRead(s.getColdAccount))
	s.mux.HandleFunc("GET /v1/cold/blocks", s.coldRead(s.getColdBlocks))
	s.mux.HandleFunc("GET /v1/cold/blocks/latest", s.coldRead(s.getLatestColdBlock))
	s.mux.HandleFunc("GET /v1/cold/blocks/{height}", s.coldRead(s.getColdBlock))
	s.mux.HandleFunc("GET /v1/cold/proofs/{addr}", s.coldRead(s.getColdProof))
	s.mux.HandleFunc("GET /v1/bridge/transfers/{id}", s.coldRead(s.getBridgeTransfer))
	s.mux.HandleFunc("GET /v1/audit", s.coldRead(s.getAudit))
	s.mux.HandleFunc("GET /v1/admin/members", s.admin(false, s.getMembers))
	s.mux.HandleFunc("POST /v1/admin/members", s.admin(true, s.addMember))
	s.mux.HandleFunc("DELETE /v1/admin/members/{id}", s.admin(true, s.removeMember))
	s.mux.HandleFunc("POST /v1/admin/leadership", s.admin(true, s.transferLeadership))
	s.mux.HandleFunc("GET /v1/admin/raft/log", s.admin(false, s.getRaftLog))
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{}))
	if s.cfg.Pprof {
		s.profilingRoutes()
	}
}

// profilingRoutes serves net/http/pprof under /debug/pprof/ (Config.Pprof):
// the index and named profiles (heap, goroutine, allocs, block, mutex,
// threadcreate), a CPU profile (?seconds=N), an execution trace, the
// command line, and symbol lookup.
func (s *Server) profilingRoutes() {
	s.mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	s.mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	s.mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	s.mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	s.mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
	s.mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}

// dispatch serves routed requests through the mux and answers the rest
// (no route, wrong method) with a JSON error instead of the mux's text.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	rec := &headerRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	if rec.code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", rec.header.Get("Allow"))
		s.writeError(w, r, errorf(CodeMethodNotAllowed,
			fmt.Sprintf("method %s is not allowed on %s", r.Method, r.URL.Path), nil))
		return
	}
	s.writeError(w, r, errorf(CodeNotFound, fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path), nil))
}

// headerRecorder keeps the status and headers a handler writes and drops
// its body.
type headerRecorder struct {
	header http.Header
	code   int
}

func (h *headerRecorder) Header() http.Header         { return h.header }
func (h *headerRecorder) WriteHeader(code int)        { h.code = code }
func (h *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }

// writeJSON writes v as the response body with status.
func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", MediaJSON)
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.log.Debug("write response", "err", err)
	}
}

// writeError answers with err's code and message; an error without a code
// is logged and shown as "internal" (see classify).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	v := classify(r.Context(), err)
	var l errLog
	l.add(v, err)
	s.logErrors(r, &l)
	s.writeJSON(w, StatusFor(v.body.Code), ErrorResponse{Error: v.body})
}

// logErrors logs a request's errors, if any, in one line.
func (s *Server) logErrors(r *http.Request, l *errLog) {
	if l.n == 0 {
		return
	}
	s.log.Log(r.Context(), l.v.level, l.v.logMsg,
		"method", r.Method, "path", r.URL.Path, "err", l.first, "count", l.n)
}
