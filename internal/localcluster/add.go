package localcluster

import (
	"context"
	"errors"
	"path/filepath"

	"github.com/dualchain/dualchain/node"
)

// AddNode adds a node to the running cluster and returns its id: a voter
// n<k+1>, or with edge an edge node e<k+1>, on new ports, with the
// cluster's genesis and, with StoreRedis, its own redis-server. It joins
// through the leader (n1 when no leader answers) and catches up by
// snapshot and log; AddNode returns once it answers GET /v1/status, not
// once it has caught up (see WaitConverged). A node that fails to start
// stays recorded, stopped, with its log.
func (c *Cluster) AddNode(ctx context.Context, edge bool) (string, error) {
	n, pid, err := c.addNode(ctx, edge, c.joinURL(ctx))
	if err != nil {
		return n.ID, err
	}
	return n.ID, c.waitAnswers(ctx, n, pid)
}

func (c *Cluster) addNode(ctx context.Context, edge bool, join string) (Node, int, error) {
	c.op.Lock()
	defer c.op.Unlock()
	c.mu.Lock()
	n, err := c.m.newNode(c.dir, edge)
	if err == nil {
		membership := []string{"--join", join}
		if edge {
			membership = append([]string{"--edge"}, membership...)
		}
		n.Args = c.m.nodeArgv(n, membership...)
	}
	c.mu.Unlock()
	if err != nil {
		return n, 0, err
	}
	if err := copyGenesis(filepath.Join(c.dir, node.GenesisFile), n); err != nil {
		return n, 0, err
	}
	if err := c.record(n); err != nil {
		return n, 0, err
	}
	c.logf("%s: added, joining through %s", n.ID, join)
	if n.Redis != nil {
		if err := c.startRedis(ctx, n.ID); err != nil {
			return n, 0, err
		}
	}
	return c.startNode(n.ID)
}

// record appends n to the cluster's nodes and writes cluster.json.
func (c *Cluster) record(n Node) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m.Nodes = append(c.m.Nodes, n)
	return c.m.write(c.dir)
}

// joinURL is the API of the voter that leads, else of the first voter
// that answers, else of the first voter (n1).
func (c *Cluster) joinURL(ctx context.Context) string {
	var answering string
	for _, s := range c.Status(ctx) {
		switch {
		case s.Edge || s.Status == nil:
		case s.Status.Leader:
			return s.URL
		case answering == "":
			answering = s.URL
		}
	}
	if answering != "" {
		return answering
	}
	for _, n := range c.Nodes() {
		if !n.Edge {
			return n.URL
		}
	}
	return "" // unreachable: Up makes at least one voter
}

// RemoveNode stops node id and its redis-server (SIGTERM, SIGKILL after
// 10 s or when ctx ends) and takes it out of the cluster: Nodes, Status,
// StartAll, Down and WaitConverged no longer see it, and Node, Restart
// and Kill refuse it with ErrRemoved, so nothing starts it again. Its
// record stays in cluster.json, marked removed, and its data directory
// is kept, for post-mortems; its id and ports are never given to another
// node. RemoveNode does not change Raft's configuration: remove the
// member through the leader first (DELETE /v1/admin/members/{id}), or the
// others go on counting a voter that is gone.
func (c *Cluster) RemoveNode(ctx context.Context, id string) error {
	c.op.Lock()
	defer c.op.Unlock()
	n, err := c.Node(id)
	if err != nil {
		return err
	}
	if err := c.stopNode(ctx, n, stopGrace); err != nil && !errors.Is(err, ErrNotRunning) {
		return err
	}
	if n.Redis != nil {
		if err := c.stopRedis(ctx, n, stopGrace); err != nil && !errors.Is(err, ErrNotRunning) {
			return err
		}
	}
	if err := c.update(id, func(n *Node) { n.Removed = true }); err != nil {
		return err
	}
	c.logf("%s: removed (stopped; its data is kept in %s)", id, n.Data)
	return nil
}
