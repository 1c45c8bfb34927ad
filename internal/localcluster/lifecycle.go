package localcluster

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// startNode starts node id with its recorded argv, appending its output
// to its log, and records its PID. It does not wait for the node to
// answer. The caller holds c.op.
func (c *Cluster) startNode(id string) (Node, int, error) {
	n, err := c.Node(id)
	if err != nil {
		return n, 0, err
	}
	pid, err := startDetached(slices.Concat(n.Exec, n.Args), "", filepath.Join(n.Data, NodeLogFile))
	if err != nil {
		return n, 0, fmt.Errorf("%s: %w", id, err)
	}
	if err := c.update(id, func(n *Node) { n.PID = pid }); err != nil {
		return n, pid, err
	}
	c.logf("%s: started (pid %d), API %s, Raft %s, log %s", id, pid, n.URL, n.Raft, filepath.Join(n.Data, NodeLogFile))
	return n, pid, nil
}

// stopNode stops node n (see stopProcess) and records that it is stopped.
func (c *Cluster) stopNode(ctx context.Context, n Node, grace time.Duration) error {
	err := stopProcess(ctx, n.PID, func() bool { return isNode(n.PID, n.Args, n.Exec...) }, grace)
	if err != nil && !errors.Is(err, ErrNotRunning) {
		return fmt.Errorf("stop %s: %w", n.ID, err)
	}
	if uerr := c.update(n.ID, func(n *Node) { n.PID = 0 }); uerr != nil {
		return uerr
	}
	return err
}

// Kill ends node id's process with SIGKILL, as a crash would, and waits
// until it is gone; its redis-server is left running. A node that is not
// running is ErrNotRunning.
func (c *Cluster) Kill(id string) error {
	c.op.Lock()
	defer c.op.Unlock()
	n, err := c.Node(id)
	if err != nil {
		return err
	}
	if err := c.stopNode(context.Background(), n, 0); err != nil {
		if errors.Is(err, ErrNotRunning) {
			return fmt.Errorf("%w: %s", err, id)
		}
		return err
	}
	c.logf("%s: killed (pid %d)", id, n.PID)
	return nil
}

// Restart starts node id again with the arguments it was first started
// with, and waits until it answers GET /v1/status (its log is quoted if it
// exits first). A node still running is first stopped with SIGTERM
// (SIGKILL after 10 s, or when ctx ends). Its redis-server is not
// touched: StartAll starts whatever is not running.
func (c *Cluster) Restart(ctx context.Context, id string) error {
	n, pid, err := c.restart(ctx, id)
	if err != nil {
		return err
	}
	return c.waitAnswers(ctx, n, pid)
}

func (c *Cluster) restart(ctx context.Context, id string) (Node, int, error) {
	c.op.Lock()
	defer c.op.Unlock()
	n, err := c.Node(id)
	if err != nil {
		return n, 0, err
	}
	if err := c.stopNode(ctx, n, stopGrace); err == nil {
		c.logf("%s: stopped (pid %d)", id, n.PID)
	} else if !errors.Is(err, ErrNotRunning) {
		return n, 0, err
	}
	return c.startNode(id)
}

// KillAll ends every node's process with SIGKILL, as a power cut would,
// and with withRedis every redis-server too, and waits until they are
// gone. Data directories are kept.
func (c *Cluster) KillAll(withRedis bool) error {
	c.op.Lock()
	defer c.op.Unlock()
	ctx := context.Background()
	err := c.stopAll(ctx, 0, c.stopNode)
	if withRedis && c.Store() == StoreRedis {
		err = errors.Join(err, c.stopAll(ctx, 0, c.stopRedis))
	}
	if withRedis && c.Store() == StoreRedis {
		c.logf("killed every node and redis-server")
	} else {
		c.logf("killed every node")
	}
	return err
}

// Down stops every node with SIGTERM, then every redis-server, each
// killed if it has not exited after 10 s or when ctx ends, and waits until
// they are gone. The directory is kept: StartAll starts the cluster again
// where it stopped.
func (c *Cluster) Down(ctx context.Context) error {
	c.op.Lock()
	defer c.op.Unlock()
	err := c.stopAll(ctx, stopGrace, c.stopNode)
	if c.Store() == StoreRedis {
		err = errors.Join(err, c.stopAll(ctx, stopGrace, c.stopRedis))
	}
	if err == nil {
		c.logf("stopped every process of the cluster in %s", c.dir)
	}
	return err
}

// stopAll runs stop on every node concurrently; not running is no error.
func (c *Cluster) stopAll(ctx context.Context, grace time.Duration, stop func(context.Context, Node, time.Duration) error) error {
	nodes := c.Nodes()
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			if err := stop(ctx, n, grace); !errors.Is(err, ErrNotRunning) {
				errs[i] = err
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// StartAll starts whatever of the cluster is not running: the
// redis-servers first, then the voters, then the edge nodes, and waits
// until every node it started answers GET /v1/status. It does not wait for
// the nodes to agree: see WaitConverged.
func (c *Cluster) StartAll(ctx context.Context) error {
	ctx, cancel := withDefaultWait(ctx)
	defer cancel()
	for _, edge := range []bool{false, true} {
		started, err := c.startStopped(ctx, edge)
		if err != nil {
			return err
		}
		for _, s := range started {
			if err := c.waitAnswers(ctx, s.node, s.pid); err != nil {
				return err
			}
		}
	}
	return nil
}

type startedNode struct {
	node Node
	pid  int
}

// startStopped starts the redis-servers, then the nodes, that are not
// running, of the voters or of the edge nodes.
func (c *Cluster) startStopped(ctx context.Context, edge bool) ([]startedNode, error) {
	c.op.Lock()
	defer c.op.Unlock()
	var started []startedNode
	for _, n := range c.Nodes() {
		if n.Edge != edge || n.Redis == nil || redisRunning(n) {
			continue
		}
		if err := c.startRedis(ctx, n.ID); err != nil {
			return nil, err
		}
	}
	for _, n := range c.Nodes() {
		if n.Edge != edge || nodeRunning(n) {
			continue
		}
		n, pid, err := c.startNode(n.ID)
		if err != nil {
			return nil, err
		}
		started = append(started, startedNode{n, pid})
	}
	return started, nil
}
