package consensus_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dualchain/dualchain/consensus"
	"github.com/dualchain/dualchain/consensus/consensustest"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// link is what a linkTransport lets through to one target.
type link int

const (
	linkOpen       link = iota
	linkCut             // nothing
	linkHeartbeats      // heartbeats only: empty appends that name no entry and no commit index
)

// linkTransport is a real TCP transport on 127.0.0.1 whose outgoing RPCs
// a test cuts per target. What it receives, it receives as any replica
// does: the receiving side is the one under test. Pipelining is refused,
// so every append goes through AppendEntries.
type linkTransport struct {
	*raft.NetworkTransport
	mu    sync.Mutex
	links map[raft.ServerAddress]link
}

func newLinkTransport(t *testing.T) *linkTransport {
	t.Helper()
	nt, err := raft.NewTCPTransportWithConfig("127.0.0.1:0", nil, &raft.NetworkTransportConfig{
		MaxPool: 3, Timeout: 2 * time.Second, Logger: hclog.NewNullLogger(),
	})
	if err != nil {
		t.Fatalf("NewTCPTransport = %v", err)
	}
	return &linkTransport{NetworkTransport: nt, links: make(map[raft.ServerAddress]link)}
}

func (l *linkTransport) set(target raft.ServerAddress, s link) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.links[target] = s
}

func (l *linkTransport) link(target raft.ServerAddress) link {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.links[target]
}

// isHeartbeat is raft.NetworkTransport's test for its heartbeat fast path.
func isHeartbeat(a *raft.AppendEntriesRequest) bool {
	return a.Term != 0 && a.PrevLogEntry == 0 && a.PrevLogTerm == 0 && len(a.Entries) == 0 && a.LeaderCommitIndex == 0
}

func (l *linkTransport) AppendEntriesPipeline(raft.ServerID, raft.ServerAddress) (raft.AppendPipeline, error) {
	return nil, raft.ErrPipelineReplicationNotSupported
}

func (l *linkTransport) AppendEntries(id raft.ServerID, target raft.ServerAddress, args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) error {
	if s := l.link(target); s == linkCut || s == linkHeartbeats && !isHeartbeat(args) {
		return errCut
	}
	return l.NetworkTransport.AppendEntries(id, target, args, resp)
}

// open is errCut unless target's link is open: RPCs other than appends
// pass whole links only.
func (l *linkTransport) open(target raft.ServerAddress) error {
	if l.link(target) != linkOpen {
		return errCut
	}
	return nil
}

func (l *linkTransport) RequestVote(id raft.ServerID, target raft.ServerAddress, args *raft.RequestVoteRequest, resp *raft.RequestVoteResponse) error {
	if err := l.open(target); err != nil {
		return err
	}
	return l.NetworkTransport.RequestVote(id, target, args, resp)
}

func (l *linkTransport) RequestPreVote(id raft.ServerID, target raft.ServerAddress, args *raft.RequestPreVoteRequest, resp *raft.RequestPreVoteResponse) error {
	if err := l.open(target); err != nil {
		return err
	}
	return l.NetworkTransport.RequestPreVote(id, target, args, resp)
}

func (l *linkTransport) InstallSnapshot(id raft.ServerID, target raft.ServerAddress, args *raft.InstallSnapshotRequest, resp *raft.InstallSnapshotResponse, data io.Reader) error {
	if err := l.open(target); err != nil {
		return err
	}
	return l.NetworkTransport.InstallSnapshot(id, target, args, resp, data)
}

func (l *linkTransport) TimeoutNow(id raft.ServerID, target raft.ServerAddress, args *raft.TimeoutNowRequest, resp *raft.TimeoutNowResponse) error {
	if err := l.open(target); err != nil {
		return err
	}
	return l.NetworkTransport.TimeoutNow(id, target, args, resp)
}

// TestDeposedLeaderCannotWriteUnderTheNewTerm: a leader cut off from the
// others is deposed, and the new leader's heartbeats (nothing else) reach
// it before it notices; then it is asked to propose. The proposal must be
// refused: written, it would carry the new leader's term at an index where
// the new leader has an entry of its own, no node would see the conflict,
// and the deposed leader would apply its entry there while the others
// apply the new leader's (hashicorp/raft#695). Found by the robustness
// soak's leader-pause fault as bug 15: the resumed leader proposed a cold
// block at once, and its cold chain forked from the others'.
//
// The old leader's timeouts are long, so its lease outlasts the new
// leader's election: only the heartbeat tells it of the new term.
func TestDeposedLeaderCannotWriteUnderTheNewTerm(t *testing.T) {
	c := &cluster{tb: t, logger: consensustest.Logger(t, slog.LevelWarn)}
	var trans []*linkTransport
	var servers []consensus.Server
	for i := range 3 {
		cfg := consensus.TestConfig()
		cfg.NodeID = fmt.Sprintf("n%d", i+1)
		cfg.DataDir = t.TempDir()
		// n1 sends heartbeats every 0.8-1.6 s and keeps its lease for 8 s
		// without hearing from a quorum; n2 and n3 elect after 2-4 s
		// without hearing from a leader.
		cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = 2*time.Second, 2*time.Second, time.Second
		if i == 0 {
			cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = 8*time.Second, 8*time.Second, 8*time.Second
		}
		trans = append(trans, newLinkTransport(t))
		cfg.Transport = trans[i]
		c.cfgs = append(c.cfgs, cfg)
		c.fsms = append(c.fsms, consensustest.NewMemoryFSM())
		servers = append(servers, consensus.Server{ID: cfg.NodeID, Addr: string(trans[i].LocalAddr())})
	}
	t.Cleanup(c.close)
	for i := range c.cfgs {
		c.reps = append(c.reps, c.open(i))
	}
	// Every replica starts from the same configuration, so n2 or n3 is
	// elected without waiting for n1's long timeout; then n1 takes over.
	for i, r := range c.reps {
		if err := r.Bootstrap(servers); err != nil {
			t.Fatalf("Bootstrap(n%d) = %v, want nil", i+1, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if l := c.waitLeader(ctx); l != 0 {
		if err := c.reps[l].TransferLeadership(ctx, "n1"); err != nil {
			t.Fatalf("TransferLeadership(n1) = %v, want nil", err)
		}
	}
	if l := c.waitLeader(ctx); l != 0 {
		t.Fatalf("leader is n%d, want n1", l+1)
	}
	old := c.reps[0]
	if _, err := old.Apply(ctx, []byte("before")); err != nil {
		t.Fatalf("Apply(before) = %v, want nil", err)
	}
	for i, f := range c.fsms {
		if err := f.(*consensustest.MemoryFSM).WaitLen(ctx, 1); err != nil {
			t.Fatalf("n%d never applied the first entry: %v", i+1, err)
		}
	}
	term := old.Raft().CurrentTerm()

	// Cut n1 off; n2 or n3 is elected in a later term.
	a := trans[0].LocalAddr()
	trans[0].set(trans[1].LocalAddr(), linkCut)
	trans[0].set(trans[2].LocalAddr(), linkCut)
	trans[1].set(a, linkCut)
	trans[2].set(a, linkCut)
	next := -1
	for next < 0 {
		for _, i := range []int{1, 2} {
			if c.reps[i].IsLeader() && c.reps[i].Raft().CurrentTerm() > term {
				next = i
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no new leader among n2 and n3: %v", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	if !old.IsLeader() {
		t.Fatalf("n1 stepped down before the new leader's heartbeat could reach it: the test's timeouts are too tight")
	}

	// Only the new leader's heartbeats reach n1: it learns the new term.
	trans[next].set(a, linkHeartbeats)
	for old.IsLeader() || old.Raft().CurrentTerm() <= term {
		select {
		case <-ctx.Done():
			t.Fatalf("n1 never heard the new leader's heartbeat: %v", ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	p, err := old.Propose(ctx, []byte("deposed"))
	if err != nil {
		t.Fatalf("Propose(deposed) = %v, want nil (Wait reports the outcome)", err)
	}
	// Heal, and let the new leader commit an entry past anything n1 wrote.
	for _, tr := range trans {
		for _, u := range trans {
			tr.set(u.LocalAddr(), linkOpen)
		}
	}
	waitCtx, waitCancel := context.WithTimeout(ctx, 10*time.Second)
	_, perr := p.Wait(waitCtx)
	waitCancel()
	if perr == nil {
		t.Errorf("the deposed leader's proposal committed; want it refused")
	} else if !errors.Is(perr, raft.ErrNotLeader) && !errors.Is(perr, raft.ErrLeadershipLost) {
		t.Errorf("the deposed leader's proposal: %v, want raft.ErrNotLeader or raft.ErrLeadershipLost", perr)
	}
	if _, err := c.reps[next].Apply(ctx, []byte("after")); err != nil {
		t.Fatalf("Apply(after) on the new leader = %v, want nil", err)
	}
	for i := range c.fsms {
		for !c.fsmHolds(i, "after") {
			select {
			case <-ctx.Done():
				t.Fatalf("n%d never applied the new leader's entry: %v", i+1, ctx.Err())
			case <-time.After(10 * time.Millisecond):
			}
		}
	}

	// Every replica applied the same entries at the same indexes.
	want := c.fsms[next].(*consensustest.MemoryFSM).Entries()
	for i, f := range c.fsms {
		got := f.(*consensustest.MemoryFSM).Entries()
		if !slices.EqualFunc(got, want, func(x, y consensus.Entry) bool {
			return x.Index == y.Index && x.Term == y.Term && string(x.Data) == string(y.Data)
		}) {
			t.Errorf("n%d applied %s; the new leader n%d applied %s", i+1, describe(got), next+1, describe(want))
		}
	}
}

// describe lists entries as index/term:data.
func describe(es []consensus.Entry) string {
	s := ""
	for _, e := range es {
		s += fmt.Sprintf(" %d/%d:%s", e.Index, e.Term, e.Data)
	}
	return "[" + s + " ]"
}
