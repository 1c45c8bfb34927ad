package robustness

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/dualchain/dualchain/internal/localcluster"
)

// Options describe one run. Zero fields take DefaultOptions' values.
type Options struct {
	Seed     int64         // picks the faults, their victims and the workload's choices
	Duration time.Duration // of workload and faults, before the final heal and check
	Binary   string        // the dualchain binary the nodes run
	Dir      string        // the run's directory (cluster data, saved artifacts); must be empty or absent
	Nodes    int           // Raft voters
	Clients  int           // workload clients, one account and one op in flight each
	// Faults are the names of the faults to inject (FaultNames); nil is
	// every one the store allows (the Redis faults need StoreRedis), an
	// empty non-nil slice none.
	Faults []string
	// Store is the nodes' hot store: localcluster.StoreRedis, or "" for
	// redis when redis-server is installed, else the in-memory store.
	Store    string
	NodeArgs []string // extra flags for every node; nil is DefaultNodeArgs
	// Netns puts every node and its redis-server in a network namespace
	// of its own, which the network faults need (faults_net.go); the zero
	// value, NetnsAuto, does where it can.
	Netns NetnsMode

	Quiet      [2]time.Duration // quiet period between faults, from..to
	Hold       [2]time.Duration // how long a fault is held before it is healed, from..to
	WarmUp     time.Duration    // workload before the first fault
	PauseEvery int              // ops between the workload's pauses (window cuts)
	// OpTimeout bounds one op, its retries included; an op that runs out
	// ends unknown. AttemptTimeout bounds one request.
	OpTimeout      time.Duration
	AttemptTimeout time.Duration
	// Recover bounds the wait for a healed cluster to converge.
	Recover      time.Duration
	CheckTimeout time.Duration // of robust.Check's linearizability check
	Log          io.Writer     // progress lines; nil for none
	// Keep saves the history, the frozen ledger and the summary in Dir
	// even when the run passes (a failing run always does).
	Keep bool
}

// DefaultNodeArgs make snapshots and log compaction happen within
// seconds, so that rebuilds and snapshot installs are exercised.
var DefaultNodeArgs = []string{
	"--snapshot-threshold", strconv.Itoa(256),
	"--trailing-logs", strconv.Itoa(128),
	"--snapshot-interval", "500ms",
}

// DefaultOptions are the options of a short run on three nodes.
func DefaultOptions() Options {
	return Options{
		Duration: 2 * time.Minute, Nodes: 3, Clients: 4,
		Quiet:  [2]time.Duration{3 * time.Second, 6 * time.Second},
		Hold:   [2]time.Duration{1500 * time.Millisecond, 3 * time.Second},
		WarmUp: 5 * time.Second, PauseEvery: 2000,
		OpTimeout: 20 * time.Second, AttemptTimeout: 5 * time.Second,
		Recover: time.Minute, CheckTimeout: 2 * time.Minute,
	}
}

// withDefaults fills o's zero fields from DefaultOptions.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	for _, f := range []struct{ v, def *time.Duration }{
		{&o.Duration, &d.Duration}, {&o.WarmUp, &d.WarmUp}, {&o.OpTimeout, &d.OpTimeout},
		{&o.AttemptTimeout, &d.AttemptTimeout}, {&o.Recover, &d.Recover}, {&o.CheckTimeout, &d.CheckTimeout},
	} {
		if *f.v == 0 {
			*f.v = *f.def
		}
	}
	if o.Quiet == ([2]time.Duration{}) {
		o.Quiet = d.Quiet
	}
	if o.Hold == ([2]time.Duration{}) {
		o.Hold = d.Hold
	}
	o.Nodes = cmpOr(o.Nodes, d.Nodes)
	o.Clients = cmpOr(o.Clients, d.Clients)
	o.PauseEvery = cmpOr(o.PauseEvery, d.PauseEvery)
	if o.NodeArgs == nil {
		o.NodeArgs = DefaultNodeArgs
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o
}

func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// Validate checks o (with its defaults filled in).
func (o Options) Validate() error {
	o = o.withDefaults()
	switch {
	case o.Binary == "":
		return fmt.Errorf("%w: no dualchain binary", ErrBadOptions)
	case o.Dir == "":
		return fmt.Errorf("%w: no directory", ErrBadOptions)
	case o.Nodes < 1 || o.Clients < 1:
		return fmt.Errorf("%w: %d nodes and %d clients: want at least 1 of each", ErrBadOptions, o.Nodes, o.Clients)
	case o.Quiet[1] < o.Quiet[0] || o.Hold[1] < o.Hold[0]:
		return fmt.Errorf("%w: quiet %v and hold %v: want from <= to", ErrBadOptions, o.Quiet, o.Hold)
	case o.Netns < NetnsAuto || o.Netns > NetnsOff:
		return fmt.Errorf("%w: netns mode %d", ErrBadOptions, o.Netns)
	}
	for _, name := range o.Faults {
		if !slices.Contains(FaultNames(), name) {
			return fmt.Errorf("%w: fault %q: want one of %v", ErrBadOptions, name, FaultNames())
		}
	}
	if o.Store != "" && o.Store != localcluster.StoreRedis && o.Store != localcluster.StoreMemory && o.Store != localcluster.StorePebble {
		return fmt.Errorf("%w: store %q", ErrBadOptions, o.Store)
	}
	return nil
}
