package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/dualchain/dualchain/internal/progress"
	"github.com/dualchain/dualchain/ledger"
)

// metricRebuilds counts, on a node's /metrics, the times it found its
// store wiped and rebuilt it (node/metrics.go).
const metricRebuilds = "dualchain_store_rebuilds_total"

func (r *run) wipeTitle() string {
	return "Wipe a follower's Redis (kill its redis-server, delete its data, start it empty); the node must rebuild and rejoin"
}

// wipeRedis wipes a follower's Redis under a stream of transfers, waits
// until the node has rebuilt its store, and until every node agrees.
func (r *run) wipeRedis(ctx context.Context, s *Step) (string, error) {
	if r.c.Store() != localcluster.StoreRedis {
		return "", skipError{"the " + r.c.Store() + " store lives inside each node's process, so there is no redis-server to wipe " +
			"(killing a whole node, step 6, is what losing it means); run on Redis (--store redis) to see this step"}
	}
	leader, _, err := r.leader(ctx)
	if err != nil {
		return "", err
	}
	f := r.c.Nodes()[r.others(leader)[0]].ID
	before, err := r.metric(ctx, f, metricRebuilds)
	if err != nil {
		return "", err
	}
	task := r.say.start(fmt.Sprintf("transfers committed while %s rebuilds", f), 0)
	st := r.startStream(ctx, r.load[:2], []int{r.node(leader)}, task)
	pause(ctx, beforeFault)
	noticed, err := r.wipeAndRebuild(ctx, f, before)
	n, serr := st.stop()
	task.Done()
	if err != nil || serr != nil {
		return "", firstErr(err, serr)
	}
	node, _ := r.c.Node(f)
	r.say.linef("%s's redis-server killed with SIGKILL, its data deleted, started again empty (pid %d)", f, node.Redis.PID)
	r.say.linef("%s found its store empty and rebuilt it from its cold chain's mirror and the writes since, %s after the wipe (%s %v → %v)",
		f, progress.Seconds(noticed), metricRebuilds, before, before+1)
	sts, err := r.converge(ctx)
	if err != nil {
		return "", err
	}
	r.say.linef("%s transfers committed meanwhile; every node now at height %d, commitment %s", progress.Count(n), sts[0].Status.Height, short(sts[0].Status.Commitment))
	s.Figures["node"], s.Figures["seconds_to_rebuild"] = f, noticed.Seconds()
	return fmt.Sprintf("%s rebuilt in %s and rejoined with the same commitment as the others", f, progress.Seconds(noticed)), nil
}

// wipeAndRebuild wipes node f's Redis and waits until its rebuild counter
// passes before; it returns how long that took.
func (r *run) wipeAndRebuild(ctx context.Context, f string, before float64) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := r.c.WipeRedis(ctx, f); err != nil {
		return 0, err
	}
	r.recordProcesses()
	wiped := time.Now()
	for {
		v, err := r.metric(ctx, f, metricRebuilds)
		if err == nil && v > before {
			return time.Since(wiped), nil
		}
		if !pause(ctx, 20*time.Millisecond) {
			return 0, fmt.Errorf("%s did not rebuild its store: %s stayed %v (%v; last: %v)", f, metricRebuilds, before, ctx.Err(), err)
		}
	}
}

// metric reads an unlabelled counter from node id's /metrics.
func (r *run) metric(ctx context.Context, id, name string) (float64, error) {
	n, err := r.c.Node(id)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	v, err := client.New(n.URL, client.WithHTTPClient(r.http)).Metric(ctx, name)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", id, err)
	}
	return v, nil
}

func (r *run) restartTitle() string {
	return "Restart the whole cluster from disk: kill every process with SIGKILL, as a power cut would, and start them all again"
}

// holding is an account's balances and nonces on both chains.
type holding struct {
	hot, hotNonce, cold, coldNonce uint64
}

// restartAll kills every node and redis-server, starts them again, and
// checks that every node comes back with the same balances and the same
// blocks.
func (r *run) restartAll(ctx context.Context, s *Step) (string, error) {
	sts, err := r.converge(ctx)
	if err != nil {
		return "", err
	}
	head := *sts[0].Status
	before, err := r.holdings(ctx, 0)
	if err != nil {
		return "", err
	}
	took, err := r.powerCycle(ctx)
	if err != nil {
		return "", err
	}
	after, err := r.converge(ctx)
	if err != nil {
		return "", err
	}
	r.say.linef("started again and agreed in %s: every node at height %d (was %d), commitment %s",
		progress.Seconds(took), after[0].Status.Height, head.Height, short(after[0].Status.Commitment))
	if err := r.sameEverywhere(ctx, before, head.Height, head.Commitment); err != nil {
		return "", err
	}
	s.Figures["seconds_to_restart"] = took.Seconds()
	s.Figures["height_before"], s.Figures["height_after"] = head.Height, after[0].Status.Height
	return fmt.Sprintf("back in %s with every balance and nonce unchanged on all %d nodes", progress.Seconds(took), len(after)), nil
}

// powerCycle kills every process of the cluster and starts it again, and
// returns how long until every node answered.
func (r *run) powerCycle(ctx context.Context) (time.Duration, error) {
	task := r.say.start("killing every process and starting the cluster again", 0)
	defer task.Done()
	if err := r.c.KillAll(true); err != nil {
		return 0, err
	}
	start := time.Now()
	what := "every node"
	if r.c.Store() == localcluster.StoreRedis {
		what = "every node and every redis-server (they keep nothing on disk: each comes back empty)"
	}
	err := r.c.StartAll(ctx)
	r.recordProcesses()
	if err != nil {
		return 0, err
	}
	took := time.Since(start)
	task.Done()
	r.say.linef("killed %s with SIGKILL; started again from the nodes' Raft logs, snapshots and cold chains", what)
	return took, nil
}

// holdings reads every demo account's balances and nonces from node i.
func (r *run) holdings(ctx context.Context, i int) (map[ledger.Address]holding, error) {
	out := make(map[ledger.Address]holding)
	for _, a := range r.accounts() {
		hot, err := r.clients[i].Account(ctx, a.addr())
		if err != nil {
			return nil, fmt.Errorf("%s's hot account: %w", a.name, err)
		}
		cold, err := r.clients[i].ColdAccount(ctx, a.addr())
		if err != nil {
			return nil, fmt.Errorf("%s's cold account: %w", a.name, err)
		}
		out[a.addr()] = holding{hot.Balance, hot.Nonce, cold.Balance, cold.Nonce}
	}
	return out, nil
}

// sameEverywhere checks that every node holds before's balances and
// nonces, and the same hot block at height with commitment.
func (r *run) sameEverywhere(ctx context.Context, before map[ledger.Address]holding, height uint64, commitment ledger.Hash) error {
	for i, n := range r.c.Nodes() {
		got, err := r.holdings(ctx, i)
		if err != nil {
			return fmt.Errorf("%s: %w", n.ID, err)
		}
		for _, a := range r.accounts() {
			if got[a.addr()] != before[a.addr()] {
				return fmt.Errorf("%s: %s holds %+v after the restart, %+v before", n.ID, a.name, got[a.addr()], before[a.addr()])
			}
		}
		b, err := r.clients[i].Block(ctx, height)
		if err != nil {
			return fmt.Errorf("%s: hot block %d: %w", n.ID, height, err)
		}
		if b.Commitment != commitment {
			return fmt.Errorf("%s: hot block %d has commitment %s after the restart, %s before", n.ID, height, b.Commitment, commitment)
		}
	}
	r.say.linef("balances and nonces of %d accounts, hot and cold, as before on every node; hot block %d still has commitment %s",
		len(r.accounts()), height, short(commitment))
	return nil
}
