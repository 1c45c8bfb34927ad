package consensus_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dualchain/dualchain/consensus"
	"github.com/dualchain/dualchain/consensus/consensustest"
	"github.com/hashicorp/raft"
)

// gatedTransport is an InmemTransport whose AppendEntries a test holds
// back: those telling a commit index from failCommitFrom on fail (so
// followers never learn an entry committed), and, once hold is set, those
// carrying entries wait until it is closed (heartbeats, which carry none,
// pass). Pipelining is refused, so every append goes through here.
type gatedTransport struct {
	*raft.InmemTransport
	mu             sync.Mutex
	failCommitFrom uint64
	hold           chan struct{}
}

var errCut = errors.New("cut by the test")

func (g *gatedTransport) AppendEntriesPipeline(raft.ServerID, raft.ServerAddress) (raft.AppendPipeline, error) {
	return nil, raft.ErrPipelineReplicationNotSupported
}

func (g *gatedTransport) AppendEntries(id raft.ServerID, target raft.ServerAddress, args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) error {
	g.mu.Lock()
	fail, hold := g.failCommitFrom, g.hold
	g.mu.Unlock()
	if fail > 0 && args.LeaderCommitIndex >= fail {
		return errCut
	}
	if hold != nil && len(args.Entries) > 0 {
		<-hold
	}
	return g.InmemTransport.AppendEntries(id, target, args, resp)
}

// gatedCluster is three replicas over gatedTransports, bootstrapped by
// the first, which it waits to lead.
func gatedCluster(t *testing.T) (*cluster, []*gatedTransport) {
	t.Helper()
	c := &cluster{tb: t, logger: consensustest.Logger(t, slog.LevelWarn)}
	var trans []*gatedTransport
	var servers []consensus.Server
	for i := range 3 {
		cfg := consensus.TestConfig()
		cfg.NodeID = fmt.Sprintf("n%d", i+1)
		cfg.DataDir = t.TempDir()
		_, tr := raft.NewInmemTransport(raft.ServerAddress(cfg.NodeID))
		trans = append(trans, &gatedTransport{InmemTransport: tr})
		cfg.Transport = trans[i]
		c.cfgs = append(c.cfgs, cfg)
		c.fsms = append(c.fsms, consensustest.NewMemoryFSM())
		servers = append(servers, consensus.Server{ID: cfg.NodeID, Addr: cfg.NodeID})
	}
	for _, a := range trans {
		for _, b := range trans {
			if a != b {
				a.Connect(b.LocalAddr(), b.InmemTransport)
			}
		}
	}
	t.Cleanup(c.close)
	for i := range c.cfgs {
		c.reps = append(c.reps, c.open(i))
	}
	if err := c.reps[0].Bootstrap(servers); err != nil {
		t.Fatalf("Bootstrap(%v) = %v, want nil", servers, err)
	}
	return c, trans
}

func (c *cluster) fsmHolds(i int, data string) bool {
	return slices.ContainsFunc(c.fsms[i].(*consensustest.MemoryFSM).Entries(), func(e consensus.Entry) bool { return string(e.Data) == data })
}

// TestVerifyLeaderOnANewLeaderSeesAcknowledgedWrites: the leader commits
// an entry the followers hold but do not know is committed, and dies; the
// new leader cannot commit an entry of its own term yet (its appends are
// held back, its heartbeats pass). VerifyLeader must not return until the
// new leader knows the entry is committed and has applied it: a strong
// read served earlier would miss an acknowledged write. Found by the
// robustness suite's partition-leader fault (a read on the new leader just
// after its election missed a transfer acknowledged before the split).
func TestVerifyLeaderOnANewLeaderSeesAcknowledgedWrites(t *testing.T) {
	c, trans := gatedCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if i := c.waitLeader(ctx); i != 0 {
		t.Fatalf("leader is n%d, want n1 (it bootstrapped)", i+1)
	}
	if _, err := c.reps[0].Apply(ctx, []byte("before")); err != nil {
		t.Fatal(err)
	}
	trans[0].mu.Lock()
	trans[0].failCommitFrom = c.reps[0].State().CommitIndex + 1 // the next entry on
	trans[0].mu.Unlock()
	index, err := c.reps[0].Apply(ctx, []byte("acknowledged"))
	if err != nil {
		t.Fatalf("Apply(acknowledged) = %v", err)
	}
	hold := make(chan struct{})
	for _, g := range trans[1:] {
		g.mu.Lock()
		g.hold = hold
		g.mu.Unlock()
	}
	released := false
	release := func() {
		if !released {
			close(hold)
			released = true
		}
	}
	defer release()
	c.stop(0)
	leader := c.waitLeader(ctx, 0)
	if st := c.reps[leader].State(); st.CommitIndex >= index {
		t.Fatalf("new leader n%d knows commit index %d, want below %d (the test's premise)", leader+1, st.CommitIndex, index)
	}
	short, stop := context.WithTimeout(ctx, 500*time.Millisecond)
	err = c.reps[leader].VerifyLeader(short)
	stop()
	if err == nil && !c.fsmHolds(leader, "acknowledged") {
		t.Fatalf("VerifyLeader on new leader n%d = nil with entry %d, acknowledged, not applied: a strong read would miss it", leader+1, index)
	}
	release()
	if err := c.reps[leader].VerifyLeader(ctx); err != nil {
		t.Fatalf("VerifyLeader after the appends flow = %v", err)
	}
	if !c.fsmHolds(leader, "acknowledged") {
		t.Errorf("VerifyLeader on n%d = nil, entry %d not applied", leader+1, index)
	}
}
