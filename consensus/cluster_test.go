package consensus_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/dualchain/dualchain/consensus"
)

// cluster is n replicas on 127.0.0.1, each with its own data dir, bootstrapped
// by the first. Its cleanup closes every replica still open.
type cluster struct {
	tb     testing.TB
	logger *slog.Logger
	cfgs   []consensus.Config
	reps   []*consensus.Replica
	fsms   []consensus.FSM
}

func newCluster(tb testing.TB, n int, base consensus.Config, newFSM func() consensus.FSM, logger *slog.Logger) *cluster {
	tb.Helper()
	c := &cluster{tb: tb, logger: logger}
	for i := range n {
		cfg := base
		cfg.NodeID = fmt.Sprintf("n%d", i+1)
		cfg.DataDir = tb.TempDir()
		c.cfgs = append(c.cfgs, cfg)
		c.fsms = append(c.fsms, newFSM())
	}
	// Registered after TempDir's cleanups, so it runs before them.
	tb.Cleanup(c.close)
	var servers []consensus.Server
	for i, cfg := range c.cfgs {
		c.reps = append(c.reps, c.open(i))
		servers = append(servers, consensus.Server{ID: cfg.NodeID, Addr: c.reps[i].Addr()})
	}
	if err := c.reps[0].Bootstrap(servers); err != nil {
		tb.Fatalf("Bootstrap(%v) = %v, want nil", servers, err)
	}
	return c
}

// open opens replica i from c.cfgs[i] and c.fsms[i].
func (c *cluster) open(i int) *consensus.Replica {
	c.tb.Helper()
	r, err := consensus.Open(c.cfgs[i], c.fsms[i], c.logger)
	if err != nil {
		c.tb.Fatalf("Open(%s) = %v, want nil", c.cfgs[i].NodeID, err)
	}
	return r
}

// restart closes replica i (if open) and opens it again from the same data
// dir and address with fsm.
func (c *cluster) restart(i int, fsm consensus.FSM) {
	c.tb.Helper()
	c.stop(i)
	c.cfgs[i].BindAddr = c.reps[i].Addr()
	c.fsms[i] = fsm
	c.reps[i] = c.open(i)
}

func (c *cluster) stop(i int) {
	c.tb.Helper()
	if err := c.reps[i].Close(); err != nil && !errors.Is(err, consensus.ErrClosed) {
		c.tb.Fatalf("Close(%s) = %v, want nil", c.cfgs[i].NodeID, err)
	}
}

func (c *cluster) close() {
	for _, r := range c.reps {
		if err := r.Close(); err != nil && !errors.Is(err, consensus.ErrClosed) {
			c.tb.Errorf("Close(%s) = %v, want nil", r.ID(), err)
		}
	}
}

// waitLeader waits until one of the replicas not in down is the leader and
// the others among them agree, and returns its position.
func (c *cluster) waitLeader(ctx context.Context, down ...int) int {
	c.tb.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if i, ok := c.agreedLeader(down); ok {
			return i
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			c.tb.Fatalf("no leader: %v", ctx.Err())
		}
	}
}

func (c *cluster) agreedLeader(down []int) (int, bool) {
	leader := -1
	for i, r := range c.reps {
		if slices.Contains(down, i) {
			continue
		}
		if r.IsLeader() {
			leader = i
		}
	}
	if leader < 0 {
		return 0, false
	}
	for i, r := range c.reps {
		if id, _ := r.Leader(); !slices.Contains(down, i) && id != c.cfgs[leader].NodeID {
			return 0, false
		}
	}
	return leader, true
}
