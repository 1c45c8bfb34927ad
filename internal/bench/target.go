package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/dualchain/dualchain/ledger"
)

// ErrNoLeader reports a target none of whose nodes knows a leader.
var ErrNoLeader = errors.New("bench: no node of the target knows a leader")

// ErrWrongExec reports a workload the target's nodes do not run: the vm
// workload needs nodes started with --exec vm, the others nodes that run
// the token natively.
var ErrWrongExec = errors.New("bench: the nodes' execution mode does not fit the workload")

// Target is the cluster a run loads: its nodes' APIs and the key that
// funds the run's accounts.
type Target struct {
	URLs   []string
	Faucet *ledger.Key
}

// conn is a Target resolved: the leader's client and what the cluster is.
type conn struct {
	leader  *client.Client
	url     string     // the leader's API
	status  api.Status // the leader's
	nodes   int        // voters that answered
	chainID string
}

// connect asks every node of t for its status and returns a client of the
// leader with connections for concurrency requests.
func (t Target) connect(ctx context.Context, concurrency int) (*conn, error) {
	if len(t.URLs) == 0 {
		return nil, fmt.Errorf("%w: no node URL", ErrBadConfig)
	}
	var (
		c       conn
		leader  string
		lastErr error
	)
	for _, u := range t.URLs {
		st, err := client.New(u).Status(ctx)
		if err != nil {
			lastErr = fmt.Errorf("node %s: %w", u, err)
			continue
		}
		if !st.Edge {
			c.nodes++
		}
		switch {
		case st.Leader:
			leader, c.status = u, st
		case leader == "" && st.LeaderURL != "":
			leader = st.LeaderURL
		}
	}
	if leader == "" {
		if lastErr != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoLeader, lastErr)
		}
		return nil, ErrNoLeader
	}
	c.url, c.leader = leader, client.New(leader, client.WithMaxConns(concurrency+2))
	if !c.status.Leader { // the leader is not among t.URLs
		st, err := c.leader.Status(ctx)
		if err != nil {
			return nil, fmt.Errorf("leader %s: %w", leader, err)
		}
		c.status = st
	}
	c.chainID = c.status.ChainID
	return &c, nil
}

// checkExec fails a workload the leader's execution mode would run on the
// wrong path.
func (c *conn) checkExec(workload string) error {
	exec := c.status.Exec
	switch {
	case workload == VM && exec != "vm":
		return fmt.Errorf("%w: the vm workload needs nodes that run every call in the VM (started with --exec vm; "+
			"`dualchain bench --workload vm` starts its own); this one runs %q", ErrWrongExec, exec)
	case workload != VM && workload != Contract && exec == "vm":
		return fmt.Errorf("%w: these nodes run every call in the VM (--exec vm): use --workload vm", ErrWrongExec)
	}
	return nil
}

// ClusterOptions is a local cluster a run starts for itself.
type ClusterOptions struct {
	Binary string    // the dualchain binary the nodes run
	Dir    string    // where the cluster lives; "" for a temporary directory, removed by Stop
	Nodes  int       // voters
	Store  string    // localcluster.StoreRedis, StoreMemory, StorePebble or "" (redis when installed)
	Exec   string    // the nodes' --exec: native or vm ("" for native)
	Args   []string  // more flags for every node
	Log    io.Writer // cluster progress lines; nil for none
}

// Cluster is a local cluster a run started.
type Cluster struct {
	*localcluster.Cluster
	temp string // removed by Stop
}

// StartCluster starts a local cluster as `dualchain cluster up` does and
// returns it with the Target that loads it.
func StartCluster(ctx context.Context, o ClusterOptions) (*Cluster, Target, error) {
	c := &Cluster{}
	dir := o.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "dualchain-bench-")
		if err != nil {
			return nil, Target{}, err
		}
		c.temp, dir = tmp, filepath.Join(tmp, "cluster")
	}
	args := append([]string(nil), o.Args...)
	if o.Exec != "" {
		args = append(args, "--exec", o.Exec)
	}
	lc, err := localcluster.Up(ctx, localcluster.Options{Binary: o.Binary, Dir: dir, Nodes: o.Nodes, Store: o.Store, NodeArgs: args, Log: o.Log})
	if err != nil {
		c.removeTemp()
		return nil, Target{}, err
	}
	c.Cluster = lc
	t, err := ClusterTarget(lc)
	if err != nil {
		_ = c.Stop(context.WithoutCancel(ctx))
		return nil, Target{}, err
	}
	return c, t, nil
}

// Stop stops every process of the cluster and removes its temporary
// directory.
func (c *Cluster) Stop(ctx context.Context) error {
	err := c.Down(ctx)
	if err == nil {
		c.removeTemp()
	}
	return err
}

func (c *Cluster) removeTemp() {
	if c.temp != "" {
		_ = os.RemoveAll(c.temp)
	}
}

// ClusterTarget is the Target of a local cluster: its voters (edge nodes
// do not take writes) and its faucet.
func ClusterTarget(lc *localcluster.Cluster) (Target, error) {
	faucet, err := ledger.LoadKeyFile(lc.FaucetKey())
	if err != nil {
		return Target{}, err
	}
	t := Target{Faucet: faucet}
	for _, n := range lc.Nodes() {
		if !n.Edge {
			t.URLs = append(t.URLs, n.URL)
		}
	}
	return t, nil
}

// LeaderURL is the API URL of t's leader.
func LeaderURL(ctx context.Context, t Target) (string, error) {
	c, err := t.connect(ctx, 1)
	if err != nil {
		return "", err
	}
	return c.url, nil
}
