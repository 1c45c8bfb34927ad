package consensus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// Member is one server in the group's configuration.
type Member struct {
	ID    string `json:"id"`
	Addr  string `json:"raft_addr"`
	Voter bool   `json:"voter"` // false: a non-voter, which replicates but never votes or leads
}

// AddMember adds a server to the group, or changes its address or
// suffrage; adding a member that is already there as given does nothing.
// This replica must be the leader. The new server catches up from a
// snapshot and the log.
func (r *Replica) AddMember(ctx context.Context, m Member) error {
	members, err := r.Members()
	if err != nil {
		return err
	}
	for _, cur := range members {
		if cur == m {
			return nil
		}
	}
	var f raft.IndexFuture
	if m.Voter {
		f = r.raft.AddVoter(raft.ServerID(m.ID), raft.ServerAddress(m.Addr), 0, enqueueTimeout(ctx))
	} else {
		f = r.raft.AddNonvoter(raft.ServerID(m.ID), raft.ServerAddress(m.Addr), 0, enqueueTimeout(ctx))
	}
	if err := wait(ctx, f); err != nil {
		return fmt.Errorf("consensus: add %s: %w", m.ID, err)
	}
	r.logger.Info("member added", "id", m.ID, "addr", m.Addr, "voter", m.Voter)
	return nil
}

// RemoveMember removes a server from the group; removing one that is not
// there does nothing. This replica must be the leader; a leader may remove
// itself, after which it steps down.
func (r *Replica) RemoveMember(ctx context.Context, id string) error {
	f := r.raft.RemoveServer(raft.ServerID(id), 0, enqueueTimeout(ctx))
	if err := wait(ctx, f); err != nil {
		return fmt.Errorf("consensus: remove %s: %w", id, err)
	}
	r.logger.Info("member removed", "id", id)
	return nil
}

// TransferLeadership asks the leader (this replica) to hand leadership to
// the member id, or with id empty to the most up-to-date voter.
func (r *Replica) TransferLeadership(ctx context.Context, id string) error {
	var f raft.Future
	if id == "" {
		f = r.raft.LeadershipTransfer()
	} else {
		m, err := r.member(id)
		if err != nil {
			return err
		}
		f = r.raft.LeadershipTransferToServer(raft.ServerID(m.ID), raft.ServerAddress(m.Addr))
	}
	if err := wait(ctx, f); err != nil {
		return fmt.Errorf("consensus: transfer leadership: %w", err)
	}
	return nil
}

func (r *Replica) member(id string) (Member, error) {
	members, err := r.Members()
	if err != nil {
		return Member{}, err
	}
	for _, m := range members {
		if m.ID == id {
			return m, nil
		}
	}
	return Member{}, fmt.Errorf("consensus: %w: %q", ErrNotMember, id)
}

// ErrNotMember reports a server id that is not in the configuration.
var ErrNotMember = errors.New("not a member")

// Members returns the latest configuration, committed or not.
func (r *Replica) Members() ([]Member, error) {
	f := r.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("consensus: configuration: %w", err)
	}
	var out []Member
	for _, s := range f.Configuration().Servers {
		out = append(out, Member{ID: string(s.ID), Addr: string(s.Address), Voter: s.Suffrage == raft.Voter})
	}
	return out, nil
}

// State is what a replica knows of the group, for status pages.
type State struct {
	Role              string // "leader", "follower", "candidate" or "shutdown"
	Term              uint64
	LeaderID          string
	CommitIndex       uint64
	AppliedIndex      uint64
	LastSnapshotIndex uint64
}

// State returns the replica's view of the group now.
func (r *Replica) State() State {
	leaderID, _ := r.Leader()
	var snap uint64
	if metas, err := r.snaps.List(); err == nil && len(metas) > 0 {
		snap = metas[0].Index
	}
	st := State{
		Role: map[raft.RaftState]string{
			raft.Leader: "leader", raft.Follower: "follower", raft.Candidate: "candidate", raft.Shutdown: "shutdown",
		}[r.raft.State()],
		Term: r.raft.CurrentTerm(), LeaderID: leaderID,
		CommitIndex: r.raft.CommitIndex(), AppliedIndex: r.raft.AppliedIndex(), LastSnapshotIndex: snap,
	}
	return st
}

// VerifyLeader confirms with a quorum that this replica is still the
// leader, and waits until its FSM has applied every entry committed before
// the check: a read after it sees every write acknowledged before it began.
// A leader new to its term first commits an entry of that term (see
// commitInTerm).
func (r *Replica) VerifyLeader(ctx context.Context) error {
	if err := r.commitInTerm(ctx); err != nil {
		return fmt.Errorf("consensus: verify leader: %w", err)
	}
	commit := r.raft.CommitIndex()
	if err := wait(ctx, r.raft.VerifyLeader()); err != nil {
		return fmt.Errorf("consensus: verify leader: %w", err)
	}
	for !r.appliedThrough(commit) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("consensus: verify leader: %w", ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}

// commitInTerm returns once this leader's commit index holds an entry of
// its current term. Until then its commit index may be short of what its
// predecessor committed and acknowledged (Raft §8: a new leader learns it
// only by committing an entry of its own): hashicorp/raft's VerifyLeader
// does not wait for that, and a read served at that commit index would
// miss acknowledged writes. If the entry at the commit index is of an
// older term, a barrier (an entry of this term) is committed and applied.
func (r *Replica) commitInTerm(ctx context.Context) error {
	var l raft.Log
	term := r.raft.CurrentTerm()
	if err := r.store.GetLog(r.raft.CommitIndex(), &l); err == nil && l.Term == term {
		return nil
	}
	return wait(ctx, r.raft.Barrier(enqueueTimeout(ctx)))
}

// CaughtUp reports whether this replica knows a leader and its FSM has
// applied every entry it knows to be committed. A restarted replica is not
// caught up until it has heard from a leader and replayed its log.
func (r *Replica) CaughtUp() bool {
	if id, _ := r.Leader(); id == "" {
		return false
	}
	commit := r.raft.CommitIndex()
	return commit > 0 && r.appliedThrough(commit)
}

// appliedThrough reports whether the FSM has applied every command entry
// up to index. Raft hands the FSM only command entries, so the FSM's own
// index stops short of Raft's no-op and configuration entries: the entries
// after it are read to see whether any is a command.
func (r *Replica) appliedThrough(index uint64) bool {
	applied := r.applied.Load()
	var l raft.Log
	for i := index; i > applied; i-- {
		if err := r.store.GetLog(i, &l); err != nil {
			return false // compacted: a snapshot the FSM has not restored covers it
		}
		if l.Type == raft.LogCommand {
			return false
		}
	}
	return true
}
