package api

import (
	"errors"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's own Prometheus collectors.
type metrics struct {
	requests  *prometheus.CounterVec   // by route and HTTP status
	latency   *prometheus.HistogramVec // by route
	submitted *prometheus.CounterVec   // submitted txs by result: accepted, rejected
	conns     *level                   // open connections (Server.ConnState)
	inFlight  *level                   // /v1/ requests being served
}

func newMetrics(reg prometheus.Registerer) *metrics {
	return &metrics{
		requests: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dualchain_api_requests_total",
			Help: "HTTP requests served, by route and status code.",
		}, []string{"route", "code"})),
		latency: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dualchain_api_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by route.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"route"})),
		submitted: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dualchain_api_submitted_txs_total",
			Help: "Transactions submitted, by result (accepted or rejected).",
		}, []string{"result"})),
		conns: register(reg, newLevel("dualchain_api_connections_open",
			"HTTP connections open now (counted by the server's ConnState hook; a /metrics scrape's own included).",
			"dualchain_api_connections_peak", "Most HTTP connections open at once since the server started.")),
		inFlight: register(reg, newLevel("dualchain_api_requests_in_flight",
			"Requests under /v1/ being served now (a --debug-api-delay wait included).",
			"dualchain_api_requests_in_flight_peak", "Most requests under /v1/ served at once since the server started.")),
	}
}

// level counts something that comes and goes (open connections, requests
// in flight) and keeps its peak: two gauges, read when scraped. A second
// Server on the same registry shares it (register), so it counts both.
type level struct {
	now, peak         atomic.Int64
	nowDesc, peakDesc *prometheus.Desc
}

func newLevel(name, help, peakName, peakHelp string) *level {
	return &level{
		nowDesc:  prometheus.NewDesc(name, help, nil, nil),
		peakDesc: prometheus.NewDesc(peakName, peakHelp, nil, nil),
	}
}

func (l *level) inc() {
	n := l.now.Add(1)
	for p := l.peak.Load(); n > p && !l.peak.CompareAndSwap(p, n); p = l.peak.Load() {
	}
}

func (l *level) dec() { l.now.Add(-1) }

// Describe and Collect make a level a prometheus.Collector.
func (l *level) Describe(ch chan<- *prometheus.Desc) {
	ch <- l.nowDesc
	ch <- l.peakDesc
}

func (l *level) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(l.nowDesc, prometheus.GaugeValue, float64(l.now.Load()))
	ch <- prometheus.MustNewConstMetric(l.peakDesc, prometheus.GaugeValue, float64(l.peak.Load()))
}

// ConnState counts the connections of the http.Server that serves s:
// set it as that server's ConnState. Without it, the connection gauges
// stay at 0.
func (s *Server) ConnState(_ net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		s.metrics.conns.inc()
	case http.StateClosed, http.StateHijacked:
		s.metrics.conns.dec()
	}
}

// countInFlight counts the /v1/ requests being served.
func (s *Server) countInFlight(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/v1/") {
			next.ServeHTTP(w, r)
			return
		}
		s.metrics.inFlight.inc()
		defer s.metrics.inFlight.dec()
		next.ServeHTTP(w, r)
	})
}

// register adds c to reg, or returns the equal collector already there (a
// second Server on the same registry shares its counters).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	panic("api: register metrics: " + err.Error()) // a conflicting definition is a bug
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe counts and times every request by its route pattern.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := r.Pattern // set by the mux on r in place
		if route == "" {
			route = "unmatched"
		}
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		elapsed := time.Since(start)
		s.metrics.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
		s.metrics.latency.WithLabelValues(route).Observe(elapsed.Seconds())
		s.log.Debug("request", "method", r.Method, "route", route, "status", sw.code, "elapsed", elapsed)
	})
}

// recoverPanics turns a handler's panic into a logged 500 internal error.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("handler panicked", "method", r.Method, "path", r.URL.Path,
				"panic", v, "stack", string(debug.Stack()))
			if sw, ok := w.(*statusWriter); ok && sw.code != 0 {
				return // the response has begun; the client sees it cut short
			}
			s.writeJSON(w, http.StatusInternalServerError,
				ErrorResponse{Error: ErrorBody{Code: CodeInternal, Message: "internal error"}})
		}()
		next.ServeHTTP(w, r)
	})
}
