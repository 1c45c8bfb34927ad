package localcluster

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// DefaultWait bounds the waits of Up, Restart, StartAll, AddNode and
// WaitConverged when their context has no deadline.
const DefaultWait = 2 * time.Minute

// waitPoll is how often a wait asks the nodes again.
const waitPoll = 50 * time.Millisecond

// logTail is how much of a node's log an error quotes.
const logTail = 4000

// withDefaultWait bounds ctx by DefaultWait unless it has a deadline.
func withDefaultWait(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, DefaultWait)
}

// waitAnswers waits until node n, running as pid, answers GET /v1/status.
// Its process exiting first is ErrExited, with the end of its log.
func (c *Cluster) waitAnswers(ctx context.Context, n Node, pid int) error {
	ctx, cancel := withDefaultWait(ctx)
	defer cancel()
	tick := time.NewTicker(waitPoll)
	defer tick.Stop()
	for {
		st, err := c.fetchStatus(ctx, n.URL)
		if err == nil && st.NodeID != "" && st.NodeID != n.ID {
			return fmt.Errorf("localcluster: %s: %s answers as node %q: another process holds its port", n.ID, n.URL, st.NodeID)
		}
		if !exists(pid) {
			return exitedError(n, pid)
		}
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("localcluster: %s (pid %d) did not answer at %s: %w (last: %v); %s", n.ID, pid, n.URL, ctx.Err(), err, logExcerpt(filepath.Join(n.Data, NodeLogFile)))
		case <-tick.C:
		}
	}
}

// exitedError is ErrExited for node n, with the end of its log.
func exitedError(n Node, pid int) error {
	return fmt.Errorf("%w: %s (pid %d); %s", ErrExited, n.ID, pid, logExcerpt(filepath.Join(n.Data, NodeLogFile)))
}

// logExcerpt names the log at path and quotes its end, each line after
// "| ".
func logExcerpt(path string) string {
	tail := strings.TrimRight(tailFile(path, logTail), "\n")
	return fmt.Sprintf("the end of %s:\n| %s", path, strings.ReplaceAll(tail, "\n", "\n| "))
}

// WaitConverged waits until every running node answers with the same
// height and commitment, and exactly one of them is the leader. It fails
// at once when no node is running, and with ErrNotConverged, saying what
// differed last, when ctx ends (or DefaultWait passes, if ctx has no
// deadline).
func (c *Cluster) WaitConverged(ctx context.Context) error {
	return c.waitConverged(ctx, nil)
}

// waitConverged is WaitConverged; the nodes in required must moreover be
// running, and one of them exiting is ErrExited with its log.
func (c *Cluster) waitConverged(ctx context.Context, required []string) error {
	ctx, cancel := withDefaultWait(ctx)
	defer cancel()
	tick := time.NewTicker(waitPoll)
	defer tick.Stop()
	for {
		why, err := c.converged(c.Status(ctx), required)
		if err != nil || why == "" {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %s (%v)", ErrNotConverged, why, ctx.Err())
		case <-tick.C:
		}
	}
}

// converged returns "" if the running nodes agree, else why they do not;
// it is an error when they never can (nothing runs, a required node exited).
func (c *Cluster) converged(sts []NodeStatus, required []string) (string, error) {
	var up []NodeStatus
	for _, s := range sts {
		if s.Running {
			up = append(up, s)
			continue
		}
		if slices.Contains(required, s.ID) {
			n, err := c.Node(s.ID)
			if err != nil {
				return "", err
			}
			return "", exitedError(n, s.PID)
		}
	}
	if len(up) == 0 {
		return "", fmt.Errorf("%w: no node of the cluster is running", ErrNotRunning)
	}
	return agreement(up), nil
}

// agreement returns "" if every node in sts answered with the same height
// and commitment and exactly one is the leader, else why not.
func agreement(sts []NodeStatus) string {
	var views, leaders []string
	for _, s := range sts {
		if s.Status == nil {
			return fmt.Sprintf("%s does not answer: %v", s.ID, s.Err)
		}
		views = append(views, fmt.Sprintf("%s at height %d, commitment %s", s.ID, s.Status.Height, ShortHash(s.Status.Commitment.String())))
		if s.Status.Leader {
			leaders = append(leaders, s.ID)
		}
	}
	first := sts[0].Status
	for _, s := range sts[1:] {
		if s.Status.Height != first.Height || s.Status.Commitment != first.Commitment {
			return "nodes differ: " + strings.Join(views, "; ")
		}
	}
	switch len(leaders) {
	case 1:
		return ""
	case 0:
		return "no node is the leader"
	}
	return "more than one node says it leads: " + strings.Join(leaders, ", ")
}

// ShortHash returns the first 12 hex digits of a hash, as tables show it.
func ShortHash(hex string) string {
	if len(hex) > 12 {
		return hex[:12]
	}
	return hex
}
