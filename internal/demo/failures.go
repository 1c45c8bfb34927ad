package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/dualchain/dualchain/internal/progress"
)

// Timing of the failure steps.
const (
	streamPoll    = 10 * time.Millisecond
	beforeFault   = 300 * time.Millisecond // the stream runs this long before a fault
	afterElection = 100                    // transfers the stream must commit after the new leader
)

func (r *run) killTitle() string {
	return "Kill the leader with SIGKILL while transfers stream through the other nodes; restart it"
}

// killLeader kills the leader under a stream of transfers through the
// followers, measures the election, waits for transfers to commit under
// the new leader, and restarts the old one, which must catch up.
func (r *run) killLeader(ctx context.Context, s *Step) (string, error) {
	old, _, err := r.leader(ctx)
	if err != nil {
		return "", err
	}
	oldNode, _ := r.c.Node(old)
	task := r.say.start("transfers committed while the leader dies", 0)
	st := r.startStream(ctx, r.load[:2], r.others(old), task)
	pause(ctx, beforeFault)
	newID, election, acked, err := r.killAndElect(ctx, st, old)
	n, serr := st.stop()
	task.Done()
	if err != nil || serr != nil {
		return "", firstErr(err, serr)
	}
	term := r.term(ctx, newID)
	r.say.linef("%s (pid %d), the leader, killed with SIGKILL; %s elected leader in term %d, %s after the kill",
		old, oldNode.PID, newID, term, progress.Seconds(election))
	r.say.linef("%s transfers committed through the followers meanwhile, %s of them under the new leader (%s)",
		progress.Count(n), progress.Count(n-acked), r.send.resends())
	s.Figures["old_leader"], s.Figures["new_leader"], s.Figures["election_ms"] = old, newID, election.Milliseconds()
	s.Figures["transfers_meanwhile"] = n
	if err := r.rejoin(ctx, old); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s took over in %s; no transfer lost; %s back as a follower", newID, progress.Seconds(election), old), nil
}

// killAndElect kills old, waits for a new leader and for the stream to
// commit under it, and returns the new leader, how long the election took
// and how many transfers were committed when it ended.
func (r *run) killAndElect(ctx context.Context, st *stream, old string) (string, time.Duration, int64, error) {
	if err := ctx.Err(); err != nil {
		return "", 0, 0, err
	}
	if err := r.c.Kill(old); err != nil {
		return "", 0, 0, err
	}
	killed := time.Now()
	newID, _, err := r.leader(ctx, old)
	if err != nil {
		return "", 0, 0, err
	}
	election := time.Since(killed)
	acked := st.acked.Load()
	return newID, election, acked, st.waitAcked(ctx, acked+afterElection)
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// others are the positions of every node but id.
func (r *run) others(id string) []int {
	var out []int
	for i, n := range r.c.Nodes() {
		if n.ID != id {
			out = append(out, i)
		}
	}
	return out
}

// term is node id's Raft term, 0 if it does not say.
func (r *run) term(ctx context.Context, id string) uint64 {
	st, err := r.clients[r.node(id)].Status(ctx)
	if err != nil {
		return 0
	}
	return st.Term
}

// rejoin restarts node id and waits until every node agrees again.
func (r *run) rejoin(ctx context.Context, id string) error {
	start := time.Now()
	if err := r.c.Restart(ctx, id); err != nil {
		return err
	}
	r.recordProcesses()
	sts, err := r.converge(ctx)
	if err != nil {
		return err
	}
	n, _ := r.c.Node(id)
	r.say.linef("%s restarted (pid %d) and caught up from its log in %s: every node at height %d, commitment %s",
		id, n.PID, progress.Seconds(time.Since(start)), sts[0].Status.Height, short(sts[0].Status.Commitment))
	return nil
}

// converge waits until every node runs, has caught up, and reports the
// same height, head and commitment under one leader.
func (r *run) converge(ctx context.Context) ([]localcluster.NodeStatus, error) {
	for {
		if err := r.c.WaitConverged(ctx); err != nil {
			return nil, err
		}
		sts := r.c.Status(ctx)
		why := disagreement(sts)
		if why == "" {
			return sts, nil
		}
		if !pause(ctx, streamPoll) {
			return nil, fmt.Errorf("nodes do not agree: %s (%w)", why, ctx.Err())
		}
	}
}

// disagreement is "" if every node answered, caught up, at one height,
// head and commitment, else why not.
func disagreement(sts []localcluster.NodeStatus) string {
	for _, s := range sts {
		switch {
		case s.Status == nil:
			return fmt.Sprintf("%s does not answer: %v", s.ID, s.Err)
		case !s.Status.CaughtUp:
			return fmt.Sprintf("%s has not caught up", s.ID)
		}
	}
	first := sts[0].Status
	for _, s := range sts[1:] {
		if st := s.Status; st.Height != first.Height || st.Head != first.Head || st.Commitment != first.Commitment {
			return fmt.Sprintf("%s at height %d, %s at %d", sts[0].ID, first.Height, s.ID, st.Height)
		}
	}
	return ""
}
