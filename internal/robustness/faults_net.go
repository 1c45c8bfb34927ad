package robustness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/dualchain/dualchain/internal/netfault"
)

// Network faults (ARCHITECTURE §9): with Options.Netns, every node and
// its redis-server run in a network namespace of their own
// (internal/netfault), and these faults break the network between the
// nodes with iptables rules there. The workload's clients sit on the
// bridge, outside every partition, and still reach each node's API: only
// the Raft links break, as in a split between servers that clients on
// either side still reach.

// NetnsMode says whether a run puts its nodes in network namespaces.
type NetnsMode int

// Values of Options.Netns.
const (
	// NetnsAuto: namespaces where netfault.Available (root, ip and
	// iptables installed); otherwise the network faults are left out, with
	// the reason printed.
	NetnsAuto NetnsMode = iota
	NetnsOn             // namespaces, or the run fails
	NetnsOff            // no namespaces: the network faults are left out
)

// netFaultsNeed is what the network faults need, for the summary's
// list of faults left out.
const netFaultsNeed = "network namespaces"

// isNetFault reports whether f needs the nodes in namespaces.
func isNetFault(f Fault) bool {
	switch f.(type) {
	case partitionLeader, partitionFollower, flakyLinks:
		return true
	}
	return false
}

// setupNet makes the run's namespaces (sweeping those of dead runs
// first) and returns where localcluster places each node; nil, and the
// network faults left out, without namespaces.
func (r *runner) setupNet(ctx context.Context) (localcluster.PlaceFunc, error) {
	if r.o.Netns == NetnsOff {
		r.noNet = "Options.Netns is NetnsOff"
		return nil, nil
	}
	if err := netfault.Available(); err != nil {
		if r.o.Netns == NetnsOn {
			return nil, err
		}
		r.noNet = err.Error()
		return nil, nil
	}
	nw, err := netfault.New(ctx, r.o.Nodes)
	if err != nil {
		return nil, err
	}
	r.net = nw
	r.logf("network namespaces: %d nodes on %s, this process on %s", r.o.Nodes, nw.Subnet(), nw.BridgeIP())
	pctx := context.WithoutCancel(ctx)
	return func(i int) (localcluster.Placement, error) {
		prefix, host, err := nw.Place(pctx, i)
		return localcluster.Placement{Exec: prefix, Host: host}, err
	}, nil
}

// closeNet deletes the namespaces, once the cluster is down.
func (r *runner) closeNet() error {
	if r.net == nil {
		return nil
	}
	return r.net.Close()
}

// dropWithoutNetns leaves out the network faults of a run without
// namespaces, saying why.
func (r *runner) dropWithoutNetns(faults []Fault, skipped []string) ([]Fault, []string) {
	if r.net != nil {
		return faults, skipped
	}
	var kept, dropped []Fault
	for _, f := range faults {
		if isNetFault(f) {
			dropped = append(dropped, f)
			skipped = append(skipped, f.Name())
		} else {
			kept = append(kept, f)
		}
	}
	if len(dropped) > 0 {
		r.logf("%d network faults left out: no %s (%s)", len(dropped), netFaultsNeed, r.noNet)
	}
	return kept, skipped
}

// netIndex is node n's index in the Net: the namespace whose address
// its Raft address has.
func (e *Env) netIndex(n localcluster.Node) (int, error) {
	host, _, err := net.SplitHostPort(n.Raft)
	if err != nil {
		return 0, err
	}
	for i := range e.net.Nodes() {
		if e.net.IP(i).String() == host {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%w: %s (Raft %s) is in no namespace", ErrNoEffect, n.ID, n.Raft)
}

// netIndexes maps ids to Net indexes.
func (e *Env) netIndexes(ids []string) ([]int, error) {
	var out []int
	for _, id := range ids {
		n, err := e.Cluster.Node(id)
		if err != nil {
			return nil, err
		}
		i, err := e.netIndex(n)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, nil
}

// partition splits the members into side (the minority) and the rest,
// and returns the rest.
func (e *Env) partition(ctx context.Context, side []string) ([]string, error) {
	rest := slices.DeleteFunc(slices.Clone(e.ep.members()), func(id string) bool { return slices.Contains(side, id) })
	a, err := e.netIndexes(side)
	if err != nil {
		return nil, err
	}
	b, err := e.netIndexes(rest)
	if err != nil {
		return nil, err
	}
	return rest, e.net.Partition(ctx, a, b)
}

// healNet lifts every network fault and returns what the faults did.
func (e *Env) healNet(ctx context.Context) (netfault.Stats, error) {
	var s netfault.Stats
	for i := range e.net.Nodes() {
		if st, err := e.net.Stats(ctx, i); err == nil {
			s = s.Add(st)
		}
	}
	if err := e.net.Heal(ctx); err != nil {
		return s, fmt.Errorf("%w: heal the network: %v", ErrNotRecovered, err)
	}
	return s, nil
}

// newLeaderAmong waits until one of ids leads in a term after term.
func (e *Env) newLeaderAmong(ctx context.Context, ids []string, term uint64) (string, *api.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, e.Effect)
	defer cancel()
	for {
		for i, st := range e.ep.statusesOf(ctx, ids, time.Second) {
			if st != nil && st.Leader && st.Term > term {
				return ids[i], st, nil
			}
		}
		if !sleepCtx(ctx, 50*time.Millisecond) {
			return "", nil, fmt.Errorf("%w: none of %v leads in a term after %d within %v", ErrNoEffect, ids, term, e.Effect)
		}
	}
}

// commitsPast waits until node id's commit index passes index, and
// returns its status: the side it is on commits.
func (e *Env) commitsPast(ctx context.Context, id string, index uint64) (*api.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, e.Effect)
	defer cancel()
	var last error
	for {
		st, err := e.status(ctx, id)
		if err == nil && st.CommitIndex > index {
			return &st, nil
		}
		if err == nil {
			err = fmt.Errorf("commit index %d", st.CommitIndex)
		}
		last = err
		if !sleepCtx(ctx, 50*time.Millisecond) {
			return nil, fmt.Errorf("%s did not commit past %d within %v: %v", id, index, e.Effect, last)
		}
	}
}

// caughtUp waits until node id has applied index and follows a leader.
func (e *Env) caughtUp(ctx context.Context, id string, index uint64) (*api.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, e.Effect)
	defer cancel()
	var last error
	for {
		st, err := e.status(ctx, id)
		if err == nil && st.AppliedIndex >= index && st.LeaderID != "" {
			return &st, nil
		}
		if err == nil {
			err = fmt.Errorf("applied %d, leader %q", st.AppliedIndex, st.LeaderID)
		}
		last = err
		if !sleepCtx(ctx, 50*time.Millisecond) {
			return nil, fmt.Errorf("%w: %s did not apply index %d within %v: %v", ErrNotRecovered, id, index, e.Effect, last)
		}
	}
}

// stuckTries is how often stuckAt asks a node that does not answer.
const stuckTries = 3

// stuckAt checks that node id has not committed past index: the side it
// is on cannot. A node that does not answer shows nothing (the clients
// on the bridge reach every node's API, cut off or not): after
// stuckTries tries that is ErrNoEffect, not evidence that it stopped.
func (e *Env) stuckAt(ctx context.Context, id string, index uint64) error {
	var err error
	for try := range stuckTries {
		if try > 0 && !sleepCtx(ctx, 200*time.Millisecond) {
			break
		}
		var st api.Status
		if st, err = e.status(ctx, id); err != nil {
			continue
		}
		if st.CommitIndex > index {
			return fmt.Errorf("%w: %s, cut off, committed up to %d (was %d)", ErrNoEffect, id, st.CommitIndex, index)
		}
		return nil
	}
	return fmt.Errorf("%w: %s, cut off, did not answer %d times, so its commit index (%d) was not seen to stay: %v", ErrNoEffect, id, stuckTries, index, err)
}

// settledCommit waits until node id's commit index holds still for
// settle, and returns it: a node just cut off may still apply what it
// had been told.
func (e *Env) settledCommit(ctx context.Context, id string, settle time.Duration) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, e.Effect)
	defer cancel()
	prev := ^uint64(0)
	for {
		st, err := e.status(ctx, id)
		if err == nil && st.CommitIndex == prev {
			return prev, nil
		}
		if err == nil {
			prev = st.CommitIndex
		}
		if !sleepCtx(ctx, settle) {
			return 0, fmt.Errorf("%w: %s's commit index did not settle within %v (%v)", ErrNoEffect, id, e.Effect, err)
		}
	}
}

// partitionLeader: the leader (with one follower when the cluster has
// five voters, so the split is 2|3) is cut off from the others. A new
// leader must be elected on the majority side, which goes on committing,
// while the old leader commits nothing. Healed by lifting the partition:
// the old leader must rejoin and catch up.
type partitionLeader struct{}

func (partitionLeader) Name() string     { return "partition-leader" }
func (partitionLeader) NeedsRedis() bool { return false }

func (f partitionLeader) Inject(ctx context.Context, e *Env) (*Injection, error) {
	old, err := e.leader(ctx)
	if err != nil {
		return nil, err
	}
	before, err := e.status(ctx, old.ID)
	if err != nil {
		return nil, err
	}
	minority := []string{old.ID}
	members := e.ep.members()
	for len(minority) < (len(members)-1)/2 {
		n, err := e.follower(old.ID)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(minority, n.ID) {
			minority = append(minority, n.ID)
		}
	}
	start := time.Now()
	majority, err := e.partition(ctx, minority)
	in := &Injection{Fault: f.Name(), Node: old.ID}
	in.heal = func(ctx context.Context) (string, error) {
		return e.healPartition(ctx, old.ID, majority, "the old leader")
	}
	if err != nil {
		return in, err
	}
	now, st, err := e.newLeaderAmong(ctx, majority, before.Term)
	if err != nil {
		return in, err
	}
	in.EffectAfter = time.Since(start)
	oldCommit, err := e.settledCommit(ctx, old.ID, 300*time.Millisecond)
	if err != nil {
		return in, err
	}
	after, err := e.commitsPast(ctx, now, max(st.CommitIndex, oldCommit))
	if err != nil {
		return in, fmt.Errorf("%w: the majority with %s leading: %v", ErrNoEffect, now, err)
	}
	if err := e.stuckAt(ctx, old.ID, oldCommit); err != nil {
		return in, err
	}
	in.Effect = fmt.Sprintf("%s|%s: %s leads in term %d after %v and commits (index %d); the old leader %s stays at commit index %d",
		strings.Join(minority, ","), strings.Join(majority, ","), now, st.Term, in.EffectAfter.Round(time.Millisecond), after.CommitIndex, old.ID, oldCommit)
	in.heal = func(ctx context.Context) (string, error) {
		return e.healCutOff(ctx, old.ID, oldCommit, majority, "the old leader")
	}
	return in, nil
}

// healCutOff heals a partition that had taken effect: it checks that
// node id, cut off, is still at commit index index (before the lift,
// after which it catches up), then lifts the partition whatever that
// showed (healPartition), and returns both results. A fault begun is
// always healed: a minority that committed is reported, not left cut off
// for the rest of the run.
func (e *Env) healCutOff(ctx context.Context, id string, index uint64, majority []string, who string) (string, error) {
	stuck := e.stuckAt(ctx, id, index)
	if stuck != nil {
		stuck = fmt.Errorf("while cut off: %w", stuck)
	}
	healed, err := e.healPartition(ctx, id, majority, who)
	return healed, errors.Join(stuck, err)
}

// healPartition lifts every network fault and waits until node id (who
// was cut off) has applied what the majority had committed.
func (e *Env) healPartition(ctx context.Context, id string, majority []string, who string) (string, error) {
	target := uint64(0)
	for _, st := range e.ep.statusesOf(ctx, majority, time.Second) {
		if st != nil {
			target = max(target, st.CommitIndex)
		}
	}
	stats, err := e.healNet(ctx)
	if err != nil {
		return "", err
	}
	st, err := e.caughtUp(ctx, id, target)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("partition lifted (%d packets dropped); %s %s rejoined and applied index %d, following %s in term %d",
		stats.Blocked, who, id, st.AppliedIndex, st.LeaderID, st.Term), nil
}

// partitionFollower: one follower is cut off from every other node (a
// minority of one). The majority must keep its leader and commit, while
// the follower's commit index stops. Healed by lifting the partition: it
// must catch up.
type partitionFollower struct{}

func (partitionFollower) Name() string     { return "partition-follower" }
func (partitionFollower) NeedsRedis() bool { return false }

func (f partitionFollower) Inject(ctx context.Context, e *Env) (*Injection, error) {
	_, n, err := e.leaderAndFollower(ctx)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	majority, err := e.partition(ctx, []string{n.ID})
	in := &Injection{Fault: f.Name(), Node: n.ID}
	in.heal = func(ctx context.Context) (string, error) { return e.healPartition(ctx, n.ID, majority, "follower") }
	if err != nil {
		return in, err
	}
	stopped, err := e.settledCommit(ctx, n.ID, 500*time.Millisecond)
	if err != nil {
		return in, err
	}
	lst, err := e.leader(ctx)
	if err != nil {
		return in, err
	}
	after, err := e.commitsPast(ctx, lst.ID, stopped+3)
	if err != nil {
		return in, fmt.Errorf("%w: the majority: %v", ErrNoEffect, err)
	}
	if err := e.stuckAt(ctx, n.ID, stopped); err != nil {
		return in, err
	}
	in.EffectAfter = time.Since(start)
	in.Effect = fmt.Sprintf("follower %s cut off: its commit index stopped at %d while %s (leading) committed up to %d",
		n.ID, stopped, lst.ID, after.CommitIndex)
	in.heal = func(ctx context.Context) (string, error) {
		return e.healCutOff(ctx, n.ID, stopped, majority, "follower")
	}
	return in, nil
}

// flakyLinks: every node's links lose 10-20% of packets and delay the
// rest by 20-50 ms with jitter (so they reorder). The counters must show
// packets dropped, delayed and reordered, and the delayer's errors at
// most 1% of what it delayed (maxQueueErrs), at injection and again at
// the heal; the cluster must still commit. Healed by making the links
// good.
type flakyLinks struct{}

func (flakyLinks) Name() string     { return "flaky-links" }
func (flakyLinks) NeedsRedis() bool { return false }

func (f flakyLinks) Inject(ctx context.Context, e *Env) (*Injection, error) {
	delay := time.Duration(20+e.rng.IntN(31)) * time.Millisecond
	link := netfault.Link{Loss: 0.10 + 0.10*e.rng.Float64(), Delay: delay, Jitter: delay / 2}
	ids := e.ep.members()
	idx, err := e.netIndexes(ids)
	if err != nil {
		return nil, err
	}
	leader, err := e.leader(ctx)
	if err != nil {
		return nil, err
	}
	before, err := e.status(ctx, leader.ID)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	in := &Injection{Fault: f.Name(), heal: func(ctx context.Context) (string, error) {
		s, err := e.healNet(ctx)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("links good again; while flaky %d packets lost, %d delayed (mean %v), %d reordered, %d queue errors",
			s.Lost, s.Delayed, s.MeanHeld.Round(time.Millisecond), s.Reordered, s.QueueErrs), queueErrs(s)
	}}
	for _, i := range idx {
		if err := e.net.Flaky(ctx, i, link); err != nil {
			return in, err
		}
	}
	committed, err := e.commitsAnywhere(ctx, ids, before.CommitIndex+10)
	if err != nil {
		return in, err
	}
	s, err := e.netStats(ctx, idx)
	if err != nil {
		return in, err
	}
	if s.Lost == 0 || s.Delayed == 0 || s.Reordered == 0 {
		return in, fmt.Errorf("%w: links %+v on every node, yet %d lost, %d delayed, %d reordered", ErrNoEffect, link, s.Lost, s.Delayed, s.Reordered)
	}
	if err := queueErrs(s); err != nil {
		return in, err
	}
	in.EffectAfter = time.Since(start)
	in.Effect = fmt.Sprintf("%.0f%% loss, %v±%v on every node's links: %d packets lost, %d delayed (mean %v), %d reordered, %d queue errors; the cluster committed %d → %d",
		100*link.Loss, link.Delay, link.Jitter, s.Lost, s.Delayed, s.MeanHeld.Round(time.Millisecond), s.Reordered, s.QueueErrs, before.CommitIndex, committed)
	return in, nil
}

// maxQueueErrs is the share of the delayed packets the delayer's errors
// may reach. Each error is a verdict the kernel refused, which leaves its
// packet held in the kernel's queue with no verdict, or a receive that
// failed, which may leave several so: lost, and counted in no Lost. A
// few are noise, far below the spread of the 10-20% loss the fault sets
// on purpose. Past 1% the links are not the ones the fault reports: more
// loss than it set, and a queue filling with held packets, past which
// fail-open lets packets through undelayed. Zero would fail a run on one
// transient receive error (a full socket buffer in a burst).
const maxQueueErrs = 0.01

// queueErrs reports, as ErrNoEffect, a flaky link whose delayer failed
// on more than maxQueueErrs of the packets it delayed.
func queueErrs(s netfault.Stats) error {
	if float64(s.QueueErrs) <= maxQueueErrs*float64(s.Delayed) {
		return nil
	}
	return fmt.Errorf("%w: the delayer failed %d times, past %.0f%% of the %d packets it delayed: the packets those errors held were lost uncounted",
		ErrNoEffect, s.QueueErrs, 100*maxQueueErrs, s.Delayed)
}

// commitsAnywhere waits until a node of ids that leads has committed past
// index, and returns its commit index: leadership may move on flaky links.
func (e *Env) commitsAnywhere(ctx context.Context, ids []string, index uint64) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, e.Effect)
	defer cancel()
	for {
		for _, st := range e.ep.statusesOf(ctx, ids, 2*time.Second) {
			if st != nil && st.Leader && st.CommitIndex > index {
				return st.CommitIndex, nil
			}
		}
		if !sleepCtx(ctx, 100*time.Millisecond) {
			return 0, fmt.Errorf("%w: no leader of %v committed past %d within %v", ErrNoEffect, ids, index, e.Effect)
		}
	}
}

// netStats sums the fault counters of nodes idx.
func (e *Env) netStats(ctx context.Context, idx []int) (netfault.Stats, error) {
	var s netfault.Stats
	var errs []error
	for _, i := range idx {
		st, err := e.net.Stats(ctx, i)
		errs = append(errs, err)
		s = s.Add(st)
	}
	return s, errors.Join(errs...)
}
