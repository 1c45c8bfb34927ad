package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/consensus"
	"github.com/hashicorp/raft"
)

// openReplica starts Raft over the state machine (restoring its latest
// snapshot) and, for a node with no Raft state that is not joining, starts
// a new cluster: of Peers, or of this node alone.
func (n *Node) openReplica() error {
	rlog := n.cfg.Logger.With("node_id", n.cfg.NodeID)
	r, err := consensus.Open(n.cfg.raftConfig(), n.sm, rlog)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	n.replica = r
	if n.cfg.Join != "" {
		return nil
	}
	servers := []consensus.Server{{ID: n.cfg.NodeID, Addr: r.Addr()}}
	if len(n.cfg.Peers) > 0 {
		servers = servers[:0]
		for _, p := range n.cfg.Peers {
			servers = append(servers, consensus.Server{ID: p.ID, Addr: p.RaftAddr})
		}
	}
	err = r.Bootstrap(servers)
	switch {
	case err == nil:
		n.logger.Info("started a new cluster", "voters", len(servers))
	case errors.Is(err, raft.ErrCantBootstrap): // it has state: it is a member already
	default:
		return fmt.Errorf("node: %w", err)
	}
	return nil
}

// self is this node's directory record.
func (n *Node) self() memberInfo {
	return memberInfo{ID: n.cfg.NodeID, URL: n.url, Edge: n.cfg.Edge}
}

// registerMembers runs on a new leader: it records in the directory its own
// API URL and those of the peers it was started with, where the directory
// lacks or has another, so every node can find the leader's API.
func (n *Node) registerMembers(ctx context.Context) {
	want := []memberInfo{n.self()}
	for _, p := range n.cfg.Peers {
		if p.ID != n.cfg.NodeID {
			want = append(want, memberInfo{ID: p.ID, URL: p.URL})
		}
	}
	for _, m := range want {
		if cur, ok := n.dir.get(m.ID); ok && (cur == m || m.ID != n.cfg.NodeID) {
			continue // peers may have moved since: only this node's own record is forced
		}
		if err := n.propose(ctx, m); err != nil {
			n.logger.Warn("could not record a member's URL", "member", m.ID, "err", err)
			return
		}
	}
}

// propose commits a directory record.
func (n *Node) propose(ctx context.Context, m memberInfo) error {
	data, err := encodeMemberEntry(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err = n.replica.Apply(ctx, data)
	return err
}

// join asks the cluster at cfg.Join to add this node, until it is a member.
// The node that answers forwards the request to the leader, which adds the
// node to Raft's configuration (the node then catches up from a snapshot
// and the log) and records its API URL.
func (n *Node) join(ctx context.Context) error {
	body, err := json.Marshal(api.Member{ID: n.cfg.NodeID, RaftAddr: n.replica.Addr(), URL: n.url, Voter: !n.cfg.Edge})
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	for attempt := 0; ; attempt++ {
		err := n.askToJoin(ctx, hc, body)
		if err == nil {
			n.logger.Info("joined the cluster", "via", n.cfg.Join, "edge", n.cfg.Edge)
			return nil
		}
		n.logger.Warn("join failed; retrying", "via", n.cfg.Join, "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-n.clock.After(backoff(attempt + 4)):
		}
	}
}

func (n *Node) askToJoin(ctx context.Context, hc *http.Client, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.cfg.Join+"/v1/admin/members", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", api.MediaJSON)
	req.Header.Set("Authorization", "Bearer "+n.cfg.AdminToken)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e api.ErrorResponse
		json.NewDecoder(resp.Body).Decode(&e)
		return fmt.Errorf("%s: %s (%s)", resp.Status, e.Error.Message, e.Error.Code)
	}
	return nil
}

// Leader returns where transactions go: this node, or the leader's API.
func (b backend) Leader(ctx context.Context) (string, bool, error) {
	id, _ := b.n.replica.Leader()
	switch {
	case id == "":
		return "", false, ErrNoLeader
	case id == b.n.cfg.NodeID:
		return b.n.url, true, nil
	}
	m, ok := b.n.dir.get(id)
	if !ok || m.URL == "" {
		return "", false, detail(ErrNoLeader, "the leader %s has not published its API address yet", id)
	}
	return m.URL, false, nil
}

// Linearize confirms leadership with a quorum and waits until everything
// committed is applied here.
func (b backend) Linearize(ctx context.Context) error {
	if err := b.n.replica.VerifyLeader(ctx); err != nil {
		return detail(ErrNoLeader, "%v", err)
	}
	return nil
}

// WaitHeight waits until this node has applied the block at height.
func (b backend) WaitHeight(ctx context.Context, height uint64) error {
	return b.n.heights.wait(ctx, height, func() uint64 { return b.n.chain.Head().Height })
}

// Members lists Raft's configuration with the directory's URLs.
func (b backend) Members(ctx context.Context) ([]api.Member, error) {
	ms, err := b.n.replica.Members()
	if err != nil {
		return nil, err
	}
	out := make([]api.Member, len(ms))
	for i, m := range ms {
		info, _ := b.n.dir.get(m.ID)
		out[i] = api.Member{ID: m.ID, RaftAddr: m.Addr, URL: info.URL, Voter: m.Voter}
	}
	return out, nil
}

// AddMember adds a node (the leader runs it) and records its API URL.
func (b backend) AddMember(ctx context.Context, m api.Member) error {
	if err := b.n.replica.AddMember(ctx, consensus.Member{ID: m.ID, Addr: m.RaftAddr, Voter: m.Voter}); err != nil {
		return clusterErr(err)
	}
	return clusterErr(b.n.propose(ctx, memberInfo{ID: m.ID, URL: m.URL, Edge: !m.Voter}))
}

// RemoveMember removes a node from the cluster.
func (b backend) RemoveMember(ctx context.Context, id string) error {
	return clusterErr(b.n.replica.RemoveMember(ctx, id))
}

// TransferLeadership hands leadership to another voter.
func (b backend) TransferLeadership(ctx context.Context, id string) error {
	return clusterErr(b.n.replica.TransferLeadership(ctx, id))
}

// clusterErr gives a membership change's failure a code clients can act on.
func clusterErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return detail(ErrNoLeader, "%v", err)
	case errors.Is(err, consensus.ErrNotMember):
		return detail(ErrNotFound, "%v", err)
	}
	return err
}

// heightWatch wakes those waiting for a block height to be applied.
type heightWatch struct {
	mu sync.Mutex
	ch chan struct{} // closed and replaced when a block is applied
}

func newHeightWatch() *heightWatch { return &heightWatch{ch: make(chan struct{})} }

// advance wakes every waiter.
func (w *heightWatch) advance(uint64) {
	w.mu.Lock()
	close(w.ch)
	w.ch = make(chan struct{})
	w.mu.Unlock()
}

// wait returns once current() reaches height, or ctx's error.
func (w *heightWatch) wait(ctx context.Context, height uint64, current func() uint64) error {
	for {
		w.mu.Lock()
		ch := w.ch
		w.mu.Unlock()
		if current() >= height {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}
