package localcluster

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dualchain/dualchain/node"
)

// Files in a node's directory, DIR/<id>, beside what the node keeps there.
// The cluster's directory holds cluster.json, node.GenesisFile (copied to
// each node's) and node.FaucetFile, the key that holds the whole supply.
const (
	NodeLogFile = "node.log" // DIR/<id>/node.log: the node's stdout and stderr
	redisSubdir = "redis"    // DIR/<id>/redis: its redis-server's dir and log
	redisLog    = "redis.log"
)

// statusTimeout bounds one GET /v1/status.
const statusTimeout = 2 * time.Second

// Cluster is a local cluster of node processes described by its
// directory's cluster.json. Make one with Up or Load. Its methods are safe
// for concurrent use; those that start or stop processes run one at a
// time.
type Cluster struct {
	dir  string
	log  io.Writer
	http *http.Client

	op sync.Mutex // held by whatever starts or stops processes
	mu sync.Mutex // guards m
	m  *manifest
}

// Load returns the cluster recorded in dir/cluster.json, whatever of it is
// running. It is ErrNoCluster when there is none.
func Load(dir string) (*Cluster, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("localcluster: %w", err)
	}
	m, err := readManifest(abs)
	if err != nil {
		return nil, err
	}
	return newCluster(abs, m, io.Discard), nil
}

func newCluster(dir string, m *manifest, log io.Writer) *Cluster {
	return &Cluster{dir: dir, log: log, m: m, http: &http.Client{Timeout: statusTimeout}}
}

// SetLog sends the cluster's progress lines to w (nil for none).
func (c *Cluster) SetLog(w io.Writer) {
	if w == nil {
		w = io.Discard
	}
	c.op.Lock()
	c.log = w
	c.op.Unlock()
}

// logf writes a progress line; the caller holds c.op.
func (c *Cluster) logf(format string, args ...any) {
	fmt.Fprintf(c.log, format+"\n", args...)
}

// Dir is the cluster's directory (absolute).
func (c *Cluster) Dir() string { return c.dir }

// FaucetKey is the path of the key file that holds the genesis supply.
func (c *Cluster) FaucetKey() string { return filepath.Join(c.dir, node.FaucetFile) }

// ChainID is the chain id of the cluster's genesis.
func (c *Cluster) ChainID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.ChainID
}

// Store is StoreRedis, StoreMemory or StorePebble.
func (c *Cluster) Store() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.Store
}

// AdminToken is the token the nodes' admin endpoints want.
func (c *Cluster) AdminToken() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.AdminToken
}

// Nodes returns a copy of every node's record, in the order they were
// added: Up's voters, its edge nodes, then AddNode's; not those
// RemoveNode took out.
func (c *Cluster) Nodes() []Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Node, 0, len(c.m.Nodes))
	for _, n := range c.m.Nodes {
		if !n.Removed {
			out = append(out, n.clone())
		}
	}
	return out
}

// Node returns a copy of the record of node id (n1, e1, ...), or
// ErrUnknownNode naming the nodes there are.
func (c *Cluster) Node(id string) (Node, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, err := c.indexLocked(id)
	if err != nil {
		return Node{}, err
	}
	return c.m.Nodes[i].clone(), nil
}

// indexLocked returns the index of node id in c.m.Nodes, ErrRemoved if
// RemoveNode took it out (so nothing starts it again); c.mu is held.
func (c *Cluster) indexLocked(id string) (int, error) {
	ids := make([]string, 0, len(c.m.Nodes))
	for i, n := range c.m.Nodes {
		switch {
		case n.ID == id && n.Removed:
			return 0, fmt.Errorf("%w: %s (its data is kept in %s)", ErrRemoved, id, n.Data)
		case n.ID == id:
			return i, nil
		case !n.Removed:
			ids = append(ids, n.ID)
		}
	}
	return 0, fmt.Errorf("%w %q (the cluster has %s)", ErrUnknownNode, id, strings.Join(ids, ", "))
}

// update changes node id's record with f and writes cluster.json.
func (c *Cluster) update(id string, f func(n *Node)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, err := c.indexLocked(id)
	if err != nil {
		return err
	}
	f(&c.m.Nodes[i])
	return c.m.write(c.dir)
}

// save writes cluster.json.
func (c *Cluster) save() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m.write(c.dir)
}

// SetPlace sets where the nodes AddNode adds run (see Options.Place): a
// cluster read by Load has no Place of its own.
func (c *Cluster) SetPlace(place PlaceFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m.place = place
}

// nodeRunning reports whether n's recorded PID is its process.
func nodeRunning(n Node) bool { return n.PID > 0 && isNode(n.PID, n.Args, n.Exec...) }

// redisRunning reports whether n's recorded redis-server PID is its
// redis-server.
func redisRunning(n Node) bool {
	return n.Redis != nil && n.Redis.PID > 0 && isRedis(n.Redis.PID, n.Redis.Port, n.Redis.Dir, n.Exec...)
}
