package localcluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dualchain/dualchain/internal/atomicfile"
	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/node"
)

// ChainID is the chain id of every local cluster's genesis.
const ChainID = "dualchain-local"

// Up makes a cluster in o.Dir and starts it: a genesis whose faucet key
// (Dir/faucet.key) holds node.DevSupply, copied to every node's data dir;
// one redis-server per node with StoreRedis; the voters, which bootstrap
// Raft with one another; then the edge nodes, which join through n1. It
// returns when every node answers GET /v1/status with the same height and
// commitment and one is the leader (or DefaultWait passes, if ctx has no
// deadline). If it fails, whatever it started is stopped and the directory
// is kept, with the nodes' logs.
func Up(ctx context.Context, o Options) (*Cluster, error) {
	o, err := o.validate()
	if err != nil {
		return nil, err
	}
	m, err := plan(o)
	if err != nil {
		return nil, err
	}
	if err := prepareDir(o.Dir); err != nil {
		return nil, err
	}
	if err := writeGenesis(o.Dir, m.Nodes); err != nil {
		return nil, err
	}
	c := newCluster(o.Dir, m, o.Log)
	if err := c.save(); err != nil {
		return nil, err
	}
	if err := c.boot(ctx); err != nil {
		if derr := c.Down(context.Background()); derr != nil {
			err = errors.Join(err, fmt.Errorf("and stopping what had started: %w", derr))
		}
		return nil, fmt.Errorf("up in %s: %w", o.Dir, err)
	}
	return c, nil
}

// boot starts the redis-servers, the voters, and once they have a
// leader the edge nodes, and waits until all agree.
func (c *Cluster) boot(ctx context.Context) error {
	ctx, cancel := withDefaultWait(ctx)
	defer cancel()
	var all []string
	for _, edge := range []bool{false, true} {
		started, err := c.startStopped(ctx, edge)
		if err != nil || len(started) == 0 {
			return err // no edge nodes: the voters agree already
		}
		for _, s := range started {
			all = append(all, s.node.ID)
		}
		c.op.Lock()
		c.logf("waiting for %d nodes to answer, agree and have a leader", len(all))
		c.op.Unlock()
		if err := c.waitConverged(ctx, all); err != nil {
			return err
		}
	}
	return nil
}

// prepareDir makes dir, which must be empty if it exists: a cluster's
// files are never mixed with another's.
func prepareDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("localcluster: %w", err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("localcluster: %w", err)
	case len(entries) > 0:
		return fmt.Errorf("%w: %s holds %s", ErrNotEmpty, dir, entries[0].Name())
	}
	return nil
}

// writeGenesis makes the faucet key and the genesis in dir, and copies
// the genesis into every node's data dir.
func writeGenesis(dir string, nodes []Node) error {
	faucet, err := ledger.NewKey()
	if err != nil {
		return err
	}
	if err := ledger.WriteKeyFile(filepath.Join(dir, node.FaucetFile), faucet); err != nil {
		return err
	}
	g := &ledger.Genesis{
		ChainID: ChainID,
		Time:    time.Now().UTC().Truncate(time.Second),
		Alloc:   []ledger.Allocation{{Address: faucet.Address, Amount: node.DevSupply}},
	}
	path := filepath.Join(dir, node.GenesisFile)
	if err := ledger.WriteGenesisFile(path, g); err != nil {
		return err
	}
	for _, n := range nodes {
		if err := copyGenesis(path, n); err != nil {
			return err
		}
	}
	return nil
}

// copyGenesis makes n's data dir (and its redis-server's) and copies the
// genesis at path into it.
func copyGenesis(path string, n Node) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("localcluster: %w", err)
	}
	if err := os.MkdirAll(n.Data, 0o755); err != nil {
		return fmt.Errorf("localcluster: %w", err)
	}
	if n.Redis != nil {
		if err := os.MkdirAll(n.Redis.Dir, 0o755); err != nil {
			return fmt.Errorf("localcluster: %w", err)
		}
	}
	if err := atomicfile.Write(filepath.Join(n.Data, node.GenesisFile), data, 0o644); err != nil {
		return fmt.Errorf("localcluster: %w", err)
	}
	return nil
}

// plan describes the cluster o asks for: its store, admin token, nodes,
// ports and command lines. Nothing runs yet.
func plan(o Options) (*manifest, error) {
	store, redisPath, why, err := PickStore(o.Store)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Log, "store: %s (%s)\n", store, why)
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	m := &manifest{ChainID: ChainID, Store: store, AdminToken: token, Binary: o.Binary, RedisServer: redisPath, NodeArgs: o.NodeArgs, place: o.Place}
	for i := range o.Nodes + o.Edges {
		edge := i >= o.Nodes
		n, err := m.newNode(o.Dir, edge)
		if err != nil {
			return nil, err
		}
		m.Nodes = append(m.Nodes, n)
	}
	peers := m.peers()
	for i := range m.Nodes {
		if m.Nodes[i].Edge {
			m.Nodes[i].Args = m.nodeArgv(m.Nodes[i], "--edge", "--join", m.Nodes[0].URL)
		} else {
			m.Nodes[i].Args = m.nodeArgv(m.Nodes[i], "--peers", peers)
		}
	}
	return m, nil
}

// newNode describes the next voter or edge node, on free ports, where
// m.place puts it (127.0.0.1 here without one); its Args are left to the
// caller.
func (m *manifest) newNode(dir string, edge bool) (Node, error) {
	id := m.nextID(edge)
	place := Placement{Host: "127.0.0.1"}
	if m.place != nil {
		p, err := m.place(len(m.Nodes))
		if err != nil {
			return Node{}, fmt.Errorf("localcluster: place %s: %w", id, err)
		}
		place = p
	}
	count := 2 // API and Raft
	if m.Store == StoreRedis {
		count++
	}
	ports, err := freePorts(count, m.usedPorts())
	if err != nil {
		return Node{}, err
	}
	n := Node{
		ID: id, Edge: edge, Data: filepath.Join(dir, id),
		URL:  "http://" + hostPort(place.Host, ports[0]),
		Raft: hostPort(place.Host, ports[1]),
		Exec: place.Exec,
	}
	if m.Store == StoreRedis {
		n.Redis = &Redis{URL: "redis://" + loopback(ports[2]) + "/0", Port: ports[2], Dir: filepath.Join(n.Data, redisSubdir)}
		if m.place != nil {
			n.Redis.Host = place.Host
		}
	}
	return n, nil
}

// nextID is n<k+1> or e<k+1> for a cluster with k voters or edge nodes.
func (m *manifest) nextID(edge bool) string {
	prefix, k := "n", 0
	if edge {
		prefix = "e"
	}
	for _, n := range m.Nodes {
		if n.Edge == edge {
			k++
		}
	}
	return prefix + strconv.Itoa(k+1)
}

// usedPorts are the ports the cluster's nodes already have.
func (m *manifest) usedPorts() map[int]bool {
	used := make(map[int]bool)
	for _, n := range m.Nodes {
		for _, addr := range []string{strings.TrimPrefix(n.URL, "http://"), n.Raft} {
			if _, p, err := net.SplitHostPort(addr); err == nil {
				port, _ := strconv.Atoi(p)
				used[port] = true
			}
		}
		if n.Redis != nil {
			used[n.Redis.Port] = true
		}
	}
	return used
}

// peers is the --peers value every voter of a new cluster gets:
// id=raft-address=api-url for each voter.
func (m *manifest) peers() string {
	var ps []string
	for _, n := range m.Nodes {
		if !n.Edge {
			ps = append(ps, n.ID+"="+n.Raft+"="+n.URL)
		}
	}
	return strings.Join(ps, ",")
}

// nodeArgv is the command line of node n: the flags every node gets, how
// it finds the cluster (membership), then the cluster's extra flags, last
// so that they may override.
func (m *manifest) nodeArgv(n Node, membership ...string) []string {
	argv := []string{m.Binary, "node",
		"--data", n.Data,
		"--http", strings.TrimPrefix(n.URL, "http://"),
		"--id", n.ID,
		"--raft", n.Raft}
	argv = append(argv, membership...)
	argv = append(argv, "--admin-token", m.AdminToken, "--store", m.Store)
	if n.Redis != nil {
		argv = append(argv, "--redis", n.Redis.URL)
	}
	return append(argv, m.NodeArgs...)
}

// newToken returns a random admin token of 32 hex digits.
func newToken() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(rand.Reader, b[:]); err != nil {
		return "", fmt.Errorf("localcluster: admin token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func loopback(port int) string { return hostPort("127.0.0.1", port) }

func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

// freePorts returns n distinct free loopback ports, none in used. The
// listeners that found them are all open at once, so the ports differ;
// they are closed on return, and another program could take one before
// its node binds it (the node then fails to start, saying so in its log).
func freePorts(n int, used map[int]bool) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("localcluster: find a free port: %w", err)
		}
		ls = append(ls, l)
		if p := l.Addr().(*net.TCPAddr).Port; !used[p] {
			ports = append(ports, p)
		}
	}
	return ports, nil
}
