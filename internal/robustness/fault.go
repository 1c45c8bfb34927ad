package robustness

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/dualchain/dualchain/internal/netfault"
)

// A Fault is one kind of failure the runner injects. Inject does it to
// the cluster, returns once it has taken effect with the evidence that it
// did (or ErrNoEffect), and returns how to heal it. Faults that need a
// setup of their own (network namespaces, failpoints, a wrapped store)
// are new implementations.
type Fault interface {
	Name() string
	// NeedsRedis reports whether the fault acts on redis-servers: it is
	// left out of runs on another store.
	NeedsRedis() bool
	Inject(ctx context.Context, e *Env) (*Injection, error)
}

// Env is what faults act on.
type Env struct {
	Cluster *localcluster.Cluster
	ep      *endpoints
	rng     *rand.Rand
	net     *netfault.Net // the nodes' namespaces (faults_net.go); nil without
	// Effect bounds the wait for a fault to take effect, and for a healed
	// one to show it recovered.
	Effect time.Duration
}

// Injection is a fault that took effect.
type Injection struct {
	Fault  string
	Node   string // the victim; "" for every node
	Effect string // the evidence that it took effect
	// EffectAfter is the time from injecting it to seeing its effect.
	EffectAfter time.Duration

	once sync.Once
	heal func(ctx context.Context) (string, error)
	// Healed is the evidence of healing, once Heal returned.
	Healed string
	err    error
}

// Heal undoes the fault (restarts what it stopped, resumes what it
// paused) and returns once that shows; it runs once, later calls return
// the first's error.
func (in *Injection) Heal(ctx context.Context) error {
	in.once.Do(func() {
		if in.heal != nil {
			in.Healed, in.err = in.heal(ctx)
		}
	})
	return in.err
}

// Faults returns every fault this package has, in FaultNames' order.
func Faults() []Fault {
	return []Fault{leaderKill{}, followerKill{}, redisKill{}, redisWipe{}, nodeRedisKill{}, clusterKill{}, leaderPause{},
		crashPoint{}, diskSlow{}, diskError{}, clockSkew{}, leaderTransfer{}, memberReplace{}, followerLag{},
		partitionLeader{}, partitionFollower{}, flakyLinks{}}
}

// FaultNames are the names of Faults().
func FaultNames() []string {
	var out []string
	for _, f := range Faults() {
		out = append(out, f.Name())
	}
	return out
}

// pickFaults returns the faults named, or every one if names is nil,
// without those that need Redis when the store has none.
func pickFaults(names []string, redis bool) (picked []Fault, dropped []string) {
	for _, f := range Faults() {
		if names != nil && !slices.Contains(names, f.Name()) {
			continue
		}
		if f.NeedsRedis() && !redis {
			dropped = append(dropped, f.Name())
			continue
		}
		picked = append(picked, f)
	}
	return picked, dropped
}

// leader waits until a node leads, and returns it, with its record.
func (e *Env) leader(ctx context.Context) (localcluster.Node, error) {
	return e.waitLeader(ctx, "")
}

// waitLeader waits until a node other than not leads.
func (e *Env) waitLeader(ctx context.Context, not string) (localcluster.Node, error) {
	ctx, cancel := context.WithTimeout(ctx, e.Effect)
	defer cancel()
	var last error
	for attempt := 0; ; attempt++ {
		id, err := e.ep.leader(ctx, 500*time.Millisecond)
		if err == nil && id != not {
			return e.Cluster.Node(id)
		}
		if err == nil {
			err = fmt.Errorf("%s still leads", id)
		}
		last = err
		if !sleepCtx(ctx, 20*time.Millisecond) {
			return localcluster.Node{}, fmt.Errorf("%w: no leader but %q within %v: %v", ErrNoEffect, not, e.Effect, last)
		}
	}
}

// follower picks a node that does not lead, at random.
func (e *Env) follower(leader string) (localcluster.Node, error) {
	var ids []string
	for _, id := range e.ep.members() {
		if id != leader {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return localcluster.Node{}, fmt.Errorf("%w: a one-node cluster has no follower", ErrNoEffect)
	}
	return e.Cluster.Node(ids[e.rng.IntN(len(ids))])
}

// leaderAndFollower waits until a node leads and picks a follower of it
// at random: the victim of the faults that act on a follower.
func (e *Env) leaderAndFollower(ctx context.Context) (leader, follower localcluster.Node, err error) {
	if leader, err = e.leader(ctx); err != nil {
		return leader, follower, err
	}
	follower, err = e.follower(leader.ID)
	return leader, follower, err
}

// anyNode picks a node at random.
func (e *Env) anyNode() (localcluster.Node, error) {
	ids := e.ep.members()
	return e.Cluster.Node(ids[e.rng.IntN(len(ids))])
}

// metric reads an unlabelled counter from node id's /metrics.
func (e *Env) metric(ctx context.Context, id, name string) (float64, error) {
	n, err := e.Cluster.Node(id)
	if err != nil {
		return 0, err
	}
	return client.New(n.URL).Metric(ctx, name)
}

// waitMetric waits until node id's metric name exceeds above, and returns
// it.
func (e *Env) waitMetric(ctx context.Context, id, name string, above float64) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, e.Effect)
	defer cancel()
	var last error
	for {
		v, err := e.metric(ctx, id, name)
		if err == nil && v > above {
			return v, nil
		}
		if err == nil {
			err = fmt.Errorf("%s = %v", name, v)
		}
		last = err
		if !sleepCtx(ctx, 50*time.Millisecond) {
			return 0, fmt.Errorf("%s: %s not above %v within %v: %v", id, name, above, e.Effect, last)
		}
	}
}

// restarted restarts node id (its Redis untouched) and returns evidence
// that a new process answers.
func (e *Env) restarted(ctx context.Context, id string, oldPID int) (string, error) {
	if err := e.Cluster.Restart(ctx, id); err != nil {
		return "", fmt.Errorf("%w: restart %s: %v", ErrNotRecovered, id, err)
	}
	n, err := e.Cluster.Node(id)
	if err != nil {
		return "", err
	}
	if n.PID == oldPID || !isNode(n.PID, n) {
		return "", fmt.Errorf("%w: %s runs as pid %d, was %d", ErrNotRecovered, id, n.PID, oldPID)
	}
	return fmt.Sprintf("%s restarted (pid %d → %d)", id, oldPID, n.PID), nil
}

// describeDown lists what of the cluster is not running.
func describeDown(sts []localcluster.NodeStatus) (nodes, redis int, text string) {
	var parts []string
	for _, s := range sts {
		if !s.Running {
			nodes++
			parts = append(parts, s.ID)
		}
		if s.Redis != nil && !s.Redis.Running {
			redis++
			parts = append(parts, s.ID+"'s redis")
		}
	}
	return nodes, redis, strings.Join(parts, ", ")
}
