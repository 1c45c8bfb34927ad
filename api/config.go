package api

import (
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Limits on reads that are not configurable: they bound one response.
const (
	MaxRangeBlocks = 100    // blocks in one GET /v1/blocks?from=&to= (and /v1/cold/blocks)
	MaxRangeTxs    = 10_000 // a range stops early (with "next") past this many txs
	// MaxRangeFrames: a range with ?traces=true also stops early past this
	// many trace frames (a frame is about 200 bytes of JSON).
	MaxRangeFrames = 100_000
)

// Config configures a Server.
type Config struct {
	Logger       *slog.Logger         // nil: discard
	Registry     *prometheus.Registry // served at /metrics; nil: a new one
	MaxBodyBytes int64                // largest request body
	MaxBatch     int                  // most transactions in one submission
	WaitTimeout  time.Duration        // longest ?wait=commit
	// AdminToken guards the admin endpoints and the requests nodes forward
	// to the leader; empty disables the admin endpoints.
	AdminToken string
	// Pprof serves Go's net/http/pprof profiles under /debug/pprof/,
	// unauthenticated: for profiling a node on loopback, never on a
	// network others reach (a profile shows the node's internals, and a
	// CPU profile or trace costs it while it runs).
	Pprof bool
	// DebugDelay holds every /v1/ request this long before it is handled
	// (less if the client goes away first): a slow API on a dev node, to
	// measure clients against. Zero, the default, adds nothing.
	DebugDelay time.Duration
}

// DefaultConfig returns limits that fit a batch of 10,000 transfers in JSON.
func DefaultConfig() Config {
	return Config{
		Logger:       slog.Default(),
		MaxBodyBytes: 16 << 20,
		MaxBatch:     10_000,
		WaitTimeout:  10 * time.Second,
	}
}

// TestConfig returns small limits and a short wait for tests.
func TestConfig() Config {
	c := DefaultConfig()
	c.Logger = nil
	c.MaxBodyBytes = 64 << 10
	c.MaxBatch = 8
	c.WaitTimeout = 2 * time.Second
	return c
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.MaxBodyBytes < 1:
		return errors.New("api: max body bytes must be positive")
	case c.MaxBatch < 1:
		return errors.New("api: max batch must be at least 1")
	case c.WaitTimeout <= 0:
		return errors.New("api: wait timeout must be positive")
	case c.DebugDelay < 0:
		return errors.New("api: debug delay must not be negative")
	}
	return nil
}
