package robustness

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/internal/localcluster"
)

// The faults of ARCHITECTURE §9 on real processes. Each shows it took
// effect before it returns: a new leader elected, a process gone, a store
// rebuilt.

// leaderKill: the leader is killed with SIGKILL; another node must lead.
// Healed by restarting it on its Redis.
type leaderKill struct{}

func (leaderKill) Name() string     { return "leader-kill" }
func (leaderKill) NeedsRedis() bool { return false }

func (f leaderKill) Inject(ctx context.Context, e *Env) (*Injection, error) {
	old, err := e.leader(ctx)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := e.Cluster.Kill(old.ID); err != nil {
		return nil, err
	}
	in := &Injection{Fault: f.Name(), Node: old.ID, heal: func(ctx context.Context) (string, error) {
		return e.restarted(ctx, old.ID, old.PID)
	}}
	now, err := e.waitLeader(ctx, old.ID)
	if err != nil {
		return in, err
	}
	in.EffectAfter = time.Since(start)
	in.Effect = fmt.Sprintf("leader %s (pid %d) killed; %s leads after %v", old.ID, old.PID, now.ID, in.EffectAfter.Round(time.Millisecond))
	return in, nil
}

// followerKill: a follower is killed with SIGKILL; its Redis keeps its
// state. Healed by restarting it.
type followerKill struct{}

func (followerKill) Name() string     { return "follower-kill" }
func (followerKill) NeedsRedis() bool { return false }

func (f followerKill) Inject(ctx context.Context, e *Env) (*Injection, error) {
	leader, n, err := e.leaderAndFollower(ctx)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := e.Cluster.Kill(n.ID); err != nil {
		return nil, err
	}
	in := &Injection{Fault: f.Name(), Node: n.ID, heal: func(ctx context.Context) (string, error) {
		return e.restarted(ctx, n.ID, n.PID)
	}}
	if isNode(n.PID, n) {
		return in, fmt.Errorf("%w: %s (pid %d) still runs after SIGKILL", ErrNoEffect, n.ID, n.PID)
	}
	in.EffectAfter = time.Since(start)
	in.Effect = fmt.Sprintf("follower %s (pid %d) killed, gone after %v; %s led", n.ID, n.PID, in.EffectAfter.Round(time.Millisecond), leader.ID)
	return in, nil
}

// redisKill: a node's redis-server is killed with SIGKILL under the
// running node and stays down for the hold; healed by starting it again,
// empty (it persists nothing), after which the node must rebuild its store.
type redisKill struct{}

func (redisKill) Name() string     { return "redis-kill" }
func (redisKill) NeedsRedis() bool { return true }

func (f redisKill) Inject(ctx context.Context, e *Env) (*Injection, error) {
	n, err := e.anyNode()
	if err != nil {
		return nil, err
	}
	before, err := e.metric(ctx, n.ID, metricRebuilds)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := killRedis(n); err != nil {
		return nil, err
	}
	in := &Injection{Fault: f.Name(), Node: n.ID, heal: func(ctx context.Context) (string, error) {
		if err := e.Cluster.StartAll(ctx); err != nil {
			return "", fmt.Errorf("%w: start %s's redis-server: %v", ErrNotRecovered, n.ID, err)
		}
		return e.rebuilt(ctx, n.ID, n.PID, before)
	}}
	in.EffectAfter = time.Since(start)
	in.Effect = fmt.Sprintf("redis-server of %s (pid %d, port %d) killed under the running node", n.ID, n.Redis.PID, n.Redis.Port)
	return in, nil
}

// rebuilt waits until node id rebuilt its store: its rebuild counter
// above before, or, if the node exited meanwhile and was restarted, any
// rebuild or snapshot restore in its new process.
func (e *Env) rebuilt(ctx context.Context, id string, pid int, before float64) (string, error) {
	now, err := e.Cluster.Node(id)
	if err != nil {
		return "", err
	}
	if now.PID != pid {
		return e.restoredAfterRestart(ctx, id, fmt.Sprintf("%s exited while its Redis was down and was restarted (pid %d → %d)", id, pid, now.PID))
	}
	v, err := e.waitMetric(ctx, id, metricRebuilds, before)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotRecovered, err)
	}
	return fmt.Sprintf("%s rebuilt its store (%s %v → %v)", id, metricRebuilds, before, v), nil
}

// restoredAfterRestart waits until a restarted node's new process refilled
// its empty store: by rebuilding it or restoring a snapshot into it, or,
// when the node had no snapshot yet, by replaying its log from the start
// until it caught up (no metric counts that; its status does). Without
// the last case a fault early in a run waited out the whole Effect bound
// for a metric that never moves, and that wait was reported as recovery.
func (e *Env) restoredAfterRestart(ctx context.Context, id, prefix string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, e.Effect)
	defer cancel()
	n, err := e.Cluster.Node(id)
	if err != nil {
		return "", err
	}
	for {
		rb, err1 := e.metric(ctx, id, metricRebuilds)
		rs, err2 := e.metric(ctx, id, metricRestores)
		if err1 == nil && err2 == nil && rb+rs > 0 {
			return fmt.Sprintf("%s; its store refilled (%s %v, %s %v)", prefix, metricRebuilds, rb, metricRestores, rs), nil
		}
		if st, err := client.New(n.URL).Status(ctx); err == nil && st.CaughtUp && st.Height > 0 {
			return fmt.Sprintf("%s; its store refilled by replaying the log (no snapshot to restore), caught up at height %d", prefix, st.Height), nil
		}
		if !sleepCtx(ctx, 50*time.Millisecond) {
			return "", fmt.Errorf("%w: %s neither rebuilt its store, restored a snapshot nor caught up within %v", ErrNotRecovered, id, e.Effect)
		}
	}
}

// redisWipe: a node's Redis is wiped (killed, emptied, started again at
// once) under the running node, which must notice and rebuild.
type redisWipe struct{}

func (redisWipe) Name() string     { return "redis-wipe" }
func (redisWipe) NeedsRedis() bool { return true }

func (f redisWipe) Inject(ctx context.Context, e *Env) (*Injection, error) {
	n, err := e.anyNode()
	if err != nil {
		return nil, err
	}
	before, err := e.metric(ctx, n.ID, metricRebuilds)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := e.Cluster.WipeRedis(ctx, n.ID); err != nil {
		return nil, err
	}
	in := &Injection{Fault: f.Name(), Node: n.ID}
	ev, err := e.rebuilt(ctx, n.ID, n.PID, before)
	if err != nil {
		return in, fmt.Errorf("%w: %v", ErrNoEffect, err)
	}
	in.EffectAfter = time.Since(start)
	in.Effect = fmt.Sprintf("redis of %s wiped; %s after %v", n.ID, ev, in.EffectAfter.Round(time.Millisecond))
	return in, nil
}

// nodeRedisKill: a node and its redis-server are killed together;
// healed by starting both, the node on an empty Redis.
type nodeRedisKill struct{}

func (nodeRedisKill) Name() string     { return "node-redis-kill" }
func (nodeRedisKill) NeedsRedis() bool { return true }

func (f nodeRedisKill) Inject(ctx context.Context, e *Env) (*Injection, error) {
	n, err := e.anyNode()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := e.Cluster.Kill(n.ID); err != nil {
		return nil, err
	}
	in := &Injection{Fault: f.Name(), Node: n.ID, heal: func(ctx context.Context) (string, error) {
		if err := e.Cluster.StartAll(ctx); err != nil {
			return "", fmt.Errorf("%w: start %s and its redis-server: %v", ErrNotRecovered, n.ID, err)
		}
		now, err := e.Cluster.Node(n.ID)
		if err != nil {
			return "", err
		}
		return e.restoredAfterRestart(ctx, n.ID, fmt.Sprintf("%s restarted on an empty Redis (pid %d → %d)", n.ID, n.PID, now.PID))
	}}
	if err := killRedis(n); err != nil {
		return in, err
	}
	in.EffectAfter = time.Since(start)
	in.Effect = fmt.Sprintf("%s (pid %d) and its redis-server (pid %d) killed", n.ID, n.PID, n.Redis.PID)
	return in, nil
}

// clusterKill: every node and redis-server is killed at once, as a power
// cut would; healed by starting everything, from the disks.
type clusterKill struct{}

func (clusterKill) Name() string     { return "cluster-kill" }
func (clusterKill) NeedsRedis() bool { return false }

func (f clusterKill) Inject(ctx context.Context, e *Env) (*Injection, error) {
	start := time.Now()
	err := e.Cluster.KillAll(true)
	in := &Injection{Fault: f.Name(), heal: func(ctx context.Context) (string, error) {
		if err := e.Cluster.StartAll(ctx); err != nil {
			return "", fmt.Errorf("%w: start the cluster: %v", ErrNotRecovered, err)
		}
		leader, err := e.leader(ctx)
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrNotRecovered, err)
		}
		return fmt.Sprintf("every process started again; %s leads", leader.ID), nil
	}}
	if err != nil {
		return in, err
	}
	nodes, redis, down := describeDown(e.Cluster.Status(ctx))
	if nodes != len(e.ep.members()) {
		return in, fmt.Errorf("%w: after KillAll only %s are down", ErrNoEffect, down)
	}
	in.EffectAfter = time.Since(start)
	in.Effect = fmt.Sprintf("all %d nodes and %d redis-servers killed", nodes, redis)
	return in, nil
}

// leaderPause: the leader is stopped with SIGSTOP past the election
// timeout; another node must lead. Healed with SIGCONT: the old leader
// must answer in a later term than the one it led in, following the new
// leader or, having won an election since, leading again (see resumed).
type leaderPause struct{}

func (leaderPause) Name() string     { return "leader-pause" }
func (leaderPause) NeedsRedis() bool { return false }

func (f leaderPause) Inject(ctx context.Context, e *Env) (*Injection, error) {
	old, err := e.leader(ctx)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithTimeout(ctx, time.Second)
	st, err := e.ep.local(old.ID).Status(sctx)
	cancel()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := signalNode(old, syscall.SIGSTOP); err != nil {
		return nil, err
	}
	term := uint64(0) // no election seen yet: any answer will do
	in := &Injection{Fault: f.Name(), Node: old.ID, heal: func(ctx context.Context) (string, error) {
		return e.resumed(ctx, old, term)
	}}
	if err := waitStopped(old.PID); err != nil {
		return in, fmt.Errorf("%w: %s: %v", ErrNoEffect, old.ID, err)
	}
	now, err := e.waitLeader(ctx, old.ID)
	if err != nil {
		return in, err
	}
	term = st.Term
	in.EffectAfter = time.Since(start)
	in.Effect = fmt.Sprintf("leader %s (pid %d) stopped; %s leads after %v", old.ID, old.PID, now.ID, in.EffectAfter.Round(time.Millisecond))
	return in, nil
}

// waitStopped waits, a second at most, until /proc shows pid stopped
// (state T): a signal is delivered asynchronously.
func waitStopped(pid int) error {
	var st string
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if st = procState(pid); st == "T" {
			return nil
		}
	}
	return fmt.Errorf("pid %d in state %q a second after SIGSTOP, want T", pid, st)
}

// resumed sends SIGCONT to a paused node and waits until it answers in a
// term past term (it heard of the election it missed), as a follower or
// as the leader again; with term 0 (no election seen before the heal)
// any answer will do.
func (e *Env) resumed(ctx context.Context, n localcluster.Node, term uint64) (string, error) {
	if err := signalNode(n, syscall.SIGCONT); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, e.Effect)
	defer cancel()
	for {
		sctx, scancel := context.WithTimeout(ctx, time.Second)
		st, err := e.ep.local(n.ID).Status(sctx)
		scancel()
		switch {
		case err == nil && term == 0:
			return fmt.Sprintf("%s resumed (term %d, leader %v)", n.ID, st.Term, st.Leader), nil
		case err == nil && st.Term > term && !st.Leader && st.LeaderID != "":
			return fmt.Sprintf("%s resumed, follows %s (term %d → %d)", n.ID, st.LeaderID, term, st.Term), nil
		case err == nil && st.Term > term && !st.Leader:
			// It stood for election itself on waking; the recovery wait
			// that follows sees it settle under a leader.
			return fmt.Sprintf("%s resumed at a higher term, no leader known yet (term %d → %d)", n.ID, term, st.Term), nil
		case err == nil && st.Term > term:
			return fmt.Sprintf("%s resumed and leads again (term %d → %d)", n.ID, term, st.Term), nil
		case err == nil:
			err = fmt.Errorf("still in term %d, leader %v", st.Term, st.Leader)
		}
		if !sleepCtx(ctx, 20*time.Millisecond) {
			return "", fmt.Errorf("%w: %s after SIGCONT: %v", ErrNotRecovered, n.ID, err)
		}
	}
}
