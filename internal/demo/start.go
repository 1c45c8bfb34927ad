package demo

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/dualchain/dualchain/internal/progress"
	"github.com/dualchain/dualchain/ledger"
)

// clientConns is the keep-alive connections kept to each node: the
// burst's workers and the lookups share them.
const clientConns = 16

// newHTTPClient is the HTTP client of every request the demo sends to the
// nodes. Its connections are closed before the nodes are stopped: a node
// shutting down waits up to 5 s for a connection that never carried a
// request (net/http's rule for new connections), which a pool can hold.
func newHTTPClient() (*http.Client, *http.Transport) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 0, clientConns
	return &http.Client{Transport: t}, t
}

// intro says what the demo runs on: the store, and why, and where.
func (r *run) intro() {
	store, _, why, _ := localcluster.PickStore(r.cfg.Store) // Validate checked it
	r.rep.Store, r.rep.StoreReason = store, why
	r.say.printf("dualchain demo: a local cluster of %d nodes, narrated step by step and verified", r.cfg.Nodes)
	switch store {
	case localcluster.StoreRedis:
		r.say.printf("store: redis, one redis-server per node (%s)", why)
	case localcluster.StorePebble:
		r.say.printf("store: pebble, each node's hot state on its own disk (%s)", why)
	default:
		r.say.printf("store: memory, the node's embedded store (%s); install Debian's redis-server to run on real Redis", why)
	}
	where := "a new temporary directory, removed at the end unless something fails"
	if !r.tempDir {
		where = "kept at the end"
	}
	if r.cfg.Keep {
		where = "the cluster is left running at the end (--keep)"
	}
	r.say.printf("dir:   %s (%s)", r.cfg.Dir, where)
}

func (r *run) upTitle() string {
	each := "its own redis-server"
	switch r.rep.Store {
	case localcluster.StoreMemory:
		each = "the embedded in-memory store"
	case localcluster.StorePebble:
		each = "its hot state in Pebble on disk"
	}
	return fmt.Sprintf("Start a local cluster: %d node processes, Raft voters, each with %s", r.cfg.Nodes, each)
}

// up starts the cluster as `dualchain cluster up` does, and waits until
// every node agrees under one leader.
func (r *run) up(ctx context.Context, s *Step) (string, error) {
	task := r.say.start("starting the nodes and waiting for a leader", 0)
	c, err := localcluster.Up(ctx, localcluster.Options{
		Binary: r.cfg.Binary, Dir: r.cfg.Dir, Nodes: r.cfg.Nodes, Store: r.cfg.Store,
	})
	_, took := task.Done()
	if err != nil {
		return "", err
	}
	r.c, r.chainID = c, c.ChainID()
	for _, n := range c.Nodes() {
		r.clients = append(r.clients, client.New(n.URL, client.WithHTTPClient(r.http)))
	}
	r.send = newSender(r.clients, r.book)
	r.recordProcesses()
	faucet, err := ledger.LoadKeyFile(c.FaucetKey())
	if err != nil {
		return "", err
	}
	r.faucet = &account{name: "faucet", key: faucet}
	sts := c.Status(ctx)
	r.describeNodes(sts)
	lead, first := leaderOf(sts), sts[0].Status
	s.Figures["seconds_to_ready"] = took.Seconds()
	s.Figures["leader"] = lead
	return fmt.Sprintf("%d nodes ready in %s: %s leads; every node at height %d, commitment %s",
		len(sts), progress.Seconds(took), lead, first.Height, short(first.Commitment)), nil
}

// describeNodes writes a line per node: its process, its Redis, its role.
func (r *run) describeNodes(sts []localcluster.NodeStatus) {
	for _, st := range sts {
		role := "not answering"
		if st.Status != nil {
			role = roleOf(st.Status)
		}
		redis := ""
		if st.Redis != nil {
			redis = fmt.Sprintf(", redis-server pid %d on 127.0.0.1:%d", st.Redis.PID, st.Redis.Port)
		}
		r.say.linef("%s  pid %d, API %s%s: %s", st.ID, st.PID, st.URL, redis, role)
	}
}

func roleOf(st *localcluster.Status) string {
	switch {
	case st.Role != "":
		return fmt.Sprintf("%s (term %d)", st.Role, st.Term)
	case st.Leader:
		return "leader"
	}
	return "follower"
}

// leaderOf is the id of the node that says it leads, or "none".
func leaderOf(sts []localcluster.NodeStatus) string {
	var ids []string
	for _, st := range sts {
		if st.Status != nil && st.Status.Leader {
			ids = append(ids, st.ID)
		}
	}
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, "+")
}

func short(h ledger.Hash) string { return localcluster.ShortHash(h.String()) }

// node returns the position of node id among the cluster's nodes.
func (r *run) node(id string) int {
	for i, n := range r.c.Nodes() {
		if n.ID == id {
			return i
		}
	}
	return 0
}

// leader waits until one running node other than those in not says it
// leads, and returns its id and position.
func (r *run) leader(ctx context.Context, not ...string) (string, int, error) {
	for {
		id, err := r.c.Leader(ctx)
		if err == nil && !slices.Contains(not, id) {
			return id, r.node(id), nil
		}
		if !pause(ctx, 10*time.Millisecond) {
			return "", 0, fmt.Errorf("no new leader: %w (last: %v)", ctx.Err(), err)
		}
	}
}

// recordProcesses adds to the report the processes the cluster runs now.
func (r *run) recordProcesses() {
	if r.c == nil {
		return
	}
	seen := make(map[Process]bool)
	for _, p := range r.rep.Processes {
		seen[p] = true
	}
	for _, n := range r.c.Nodes() {
		ps := []Process{{n.ID, ProgramNode, n.PID}}
		if n.Redis != nil {
			ps = append(ps, Process{n.ID, ProgramRedis, n.Redis.PID})
		}
		for _, p := range ps {
			if p.PID > 0 && !seen[p] {
				seen[p] = true
				r.rep.Processes = append(r.rep.Processes, p)
			}
		}
	}
}
