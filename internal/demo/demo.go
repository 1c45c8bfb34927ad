package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"time"

	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/dualchain/dualchain/internal/progress"
)

// Errors returned by Run and Config.Validate, wrapped with details.
var (
	// ErrBadConfig reports a Config the demo cannot run with.
	ErrBadConfig = errors.New("demo: bad config")
	// ErrFailed reports a demo that ran and whose verdict is FAIL.
	ErrFailed = errors.New("demo: failed")
)

// Limits of Config.
const (
	MinNodes     = 3 // the leader's death must leave a majority
	MaxNodes     = 9
	MinTransfers = 100
	MaxTransfers = 100_000
)

// Config describes one run of the demo.
type Config struct {
	Binary    string // the dualchain binary the nodes run
	Dir       string // the cluster's directory, empty or absent; "" for a new temporary one
	Nodes     int    // Raft voters
	Store     string // localcluster.StoreRedis, StoreMemory, StorePebble, or "" for redis when installed
	Transfers int    // the burst of hot transfers of step 2
	// Keep leaves the cluster running at the end and says how to use it;
	// otherwise every process is stopped and a temporary Dir removed.
	Keep bool
	// Out gets the narration; Progress the progress of long steps (nil:
	// a Display on Out).
	Out      io.Writer
	Progress *progress.Display
	// Command is how the user runs dualchain, for the commands printed
	// with Keep.
	Command string
}

// DefaultConfig is the demo of `dualchain demo` with no flags, but for
// Binary and Out.
func DefaultConfig() Config {
	return Config{Nodes: 3, Transfers: 10_000, Command: "dualchain", Out: io.Discard}
}

// Validate checks c, and that Dir, if given, is empty or absent.
func (c Config) Validate() error {
	switch {
	case c.Binary == "":
		return fmt.Errorf("%w: no dualchain binary", ErrBadConfig)
	case c.Nodes < MinNodes || c.Nodes > MaxNodes:
		return fmt.Errorf("%w: %d nodes: want %d to %d (killing the leader must leave a majority)", ErrBadConfig, c.Nodes, MinNodes, MaxNodes)
	case c.Transfers < MinTransfers || c.Transfers > MaxTransfers:
		return fmt.Errorf("%w: %d transfers: want %d to %d", ErrBadConfig, c.Transfers, MinTransfers, MaxTransfers)
	case c.Out == nil:
		return fmt.Errorf("%w: no output", ErrBadConfig)
	}
	if _, _, _, err := localcluster.PickStore(c.Store); err != nil {
		return err
	}
	return checkDir(c.Dir)
}

// checkDir fails unless dir is "", absent, or an empty directory: a
// cluster's files are never mixed with others.
func checkDir(dir string) error {
	if dir == "" {
		return nil
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("%w: --dir %s: %v", ErrBadConfig, dir, err)
	case len(entries) > 0:
		return fmt.Errorf("%w: %s holds %s: give an empty or absent directory (or none, for a temporary one)", ErrBadConfig, dir, entries[0].Name())
	}
	return nil
}

// Run runs the demo and returns its report. The error is ErrBadConfig, or
// a failure to make the temporary directory, or ErrFailed when the demo ran
// and something failed (the report says what); the report is complete in
// every case but the first two. When ctx ends, the step under way fails,
// the rest are skipped, and the cluster is stopped as at any other end.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	r, err := newRun(cfg)
	if err != nil {
		return Report{}, err
	}
	start := time.Now()
	r.steps(ctx)
	r.finish(ctx)
	r.rep.Seconds = time.Since(start).Seconds()
	r.rep.Interrupted = ctx.Err() != nil
	r.verdict()
	switch {
	case r.rep.Interrupted:
		return r.rep, fmt.Errorf("%w: interrupted: %w", ErrFailed, ctx.Err())
	case !r.rep.Pass:
		return r.rep, fmt.Errorf("%w: %d of %d steps and checks did not pass", ErrFailed, r.rep.failures(), len(r.rep.Steps)+len(r.rep.Checks))
	}
	return r.rep, nil
}

// run is one run of the demo: its cluster, accounts and report.
type run struct {
	cfg     Config
	tempDir bool // Dir was made by the demo: removed at the end unless Keep
	say     *narrator
	rep     Report

	c         *localcluster.Cluster
	http      *http.Client // of every request to the nodes
	transport *http.Transport
	clients   []*client.Client // by position in c.Nodes()
	send      *sender
	book      *book
	chainID   string

	faucet, alice, bob *account
	load               []*account
}

func newRun(cfg Config) (*run, error) {
	r := &run{cfg: cfg, book: newBook()}
	r.http, r.transport = newHTTPClient()
	if cfg.Dir == "" {
		dir, err := os.MkdirTemp("", "dualchain-demo-")
		if err != nil {
			return nil, fmt.Errorf("demo: make a directory for the cluster: %w", err)
		}
		r.cfg.Dir, r.tempDir = dir, true
	}
	if r.cfg.Progress == nil {
		r.cfg.Progress = progress.New(cfg.Out, indent)
	}
	r.say = &narrator{w: cfg.Out, prog: r.cfg.Progress}
	r.rep = Report{Nodes: cfg.Nodes, Dir: r.cfg.Dir, Kept: cfg.Keep}
	return r, nil
}
