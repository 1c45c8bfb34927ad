package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/dualchain/dualchain/ledger"
)

// Snapshot settings of the test clusters: small enough that snapshots and
// log compaction happen within seconds. raft-wal drops whole segments only,
// so segments are small too, or compaction would remove nothing.
const (
	snapshotThreshold = 64
	trailingLogs      = 32
)

var snapshotArgs = []string{
	"--snapshot-threshold", strconv.Itoa(snapshotThreshold),
	"--trailing-logs", strconv.Itoa(trailingLogs),
	"--snapshot-interval", "100ms",
	"--wal-segment-bytes", "16384",
}

// Metrics the recovery tests read from a node's /metrics.
const (
	metricRestores = "dualchain_snapshot_restores_total"
	metricRebuilds = "dualchain_store_rebuilds_total"
)

const (
	clusterSenders  = 4
	clusterSinks    = 3
	upTimeout       = 60 * time.Second
	waitTimeout     = 30 * time.Second // convergence, catching up, elections
	clusterLogBytes = 6 << 10          // of each node's log printed on failure
)

// testCluster is a local cluster of real node processes, each with its own
// redis-server, and the world of accounts the test sends from.
type testCluster struct {
	*localcluster.Cluster
	w *world

	mu      sync.Mutex
	clients map[string]*client.Client
}

// upCluster starts a cluster of nodes voters, funds the test's senders,
// and stops every process when the test ends, printing the nodes' logs if
// it failed.
func upCluster(t *testing.T, nodes int) *testCluster {
	t.Helper()
	needRedisServer(t)
	bin := binary(t)
	ctx, cancel := context.WithTimeout(context.Background(), upTimeout)
	defer cancel()
	c, err := localcluster.Up(ctx, localcluster.Options{
		Binary: bin, Dir: filepath.Join(t.TempDir(), "cluster"), Nodes: nodes,
		Store: localcluster.StoreRedis, NodeArgs: snapshotArgs, Log: testLog{t},
	})
	if err != nil {
		t.Fatalf("localcluster.Up(%d nodes) = %v", nodes, err)
	}
	tc := &testCluster{Cluster: c, clients: make(map[string]*client.Client)}
	t.Cleanup(func() { tc.down(t) })
	faucet, err := ledger.LoadKeyFile(c.FaucetKey())
	if err != nil {
		t.Fatalf("LoadKeyFile(%s) = %v", c.FaucetKey(), err)
	}
	tc.w = newWorld(t, c.ChainID(), faucet, clusterSenders, clusterSinks)
	tc.w.fund(t, tc.client(tc.leader(t)), fundAmount)
	return tc
}

// needRedisServer skips the test when redis-server is not installed,
// except under CI=true, where it fails: CI must not pass without Redis.
func needRedisServer(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath(localcluster.RedisServer); err != nil {
		msg := fmt.Sprintf("%s not found on PATH (install Debian's redis-server): %v", localcluster.RedisServer, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// testLog sends the cluster's progress lines to t.Log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// down stops every process of the cluster, checks that none is left, and
// prints the end of every node's log if the test failed.
func (tc *testCluster) down(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := tc.Down(ctx); err != nil {
		t.Errorf("Down() = %v", err)
	}
	for _, s := range tc.Status(ctx) {
		if s.Running || s.Redis != nil && s.Redis.Running {
			t.Errorf("after Down, %s: node running %v (pid %d), redis-server %+v; want nothing running", s.ID, s.Running, s.PID, s.Redis)
		}
	}
	if !t.Failed() {
		return
	}
	for _, n := range tc.Nodes() {
		path := filepath.Join(n.Data, localcluster.NodeLogFile)
		t.Logf("log of %s (%s):\n%s", n.ID, path, tail(path, clusterLogBytes))
	}
}

// client returns a client of node id's API.
func (tc *testCluster) client(id string) *client.Client {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if c, ok := tc.clients[id]; ok {
		return c
	}
	n, err := tc.Node(id)
	if err != nil {
		panic(err) // the test names only nodes it made
	}
	c := client.New(n.URL)
	tc.clients[id] = c
	return c
}

// ids are the ids of the cluster's nodes.
func (tc *testCluster) ids() []string {
	var ids []string
	for _, n := range tc.Nodes() {
		ids = append(ids, n.ID)
	}
	return ids
}

// others are the ids of the cluster's nodes but those given.
func (tc *testCluster) others(not ...string) []string {
	var ids []string
	for _, id := range tc.ids() {
		if !slices.Contains(not, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// status asks node id for its status.
func (tc *testCluster) status(id string) (api.Status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return tc.client(id).Status(ctx)
}

// mustStatus is status that fails the test on an error.
func (tc *testCluster) mustStatus(t *testing.T, id string) api.Status {
	t.Helper()
	st, err := tc.status(id)
	if err != nil {
		t.Fatalf("%s: Status() = %v", id, err)
	}
	return st
}

// leader waits until one running node, none of those in not, says it
// leads, and returns its id.
func (tc *testCluster) leader(t *testing.T, not ...string) string {
	t.Helper()
	var id string
	waitUntil(t, "a leader", waitTimeout, func() (bool, string) {
		var err error
		id, err = tc.Leader(context.Background())
		switch {
		case err != nil:
			return false, err.Error()
		case slices.Contains(not, id):
			return false, id + " still leads"
		}
		return true, ""
	})
	return id
}

// waitUntil polls cond until it holds, failing the test after timeout
// with what cond said last.
func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting %v for %s: %s", timeout, what, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// metric reads a counter or gauge from node id's /metrics.
func (tc *testCluster) metric(id, name string) (float64, error) {
	n, err := tc.Node(id)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.URL+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s/metrics: %s", n.URL, resp.Status)
	}
	return findMetric(bufio.NewScanner(resp.Body), name)
}

// findMetric finds the sample of an unlabelled series in the Prometheus
// text format.
func findMetric(sc *bufio.Scanner, name string) (float64, error) {
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no %s in /metrics", name)
}

// mustMetric is metric that fails the test on an error.
func (tc *testCluster) mustMetric(t *testing.T, id, name string) float64 {
	t.Helper()
	v, err := tc.metric(id, name)
	if err != nil {
		t.Fatalf("%s: metric %s: %v", id, name, err)
	}
	return v
}

// waitMetric waits until node id's metric name is at least want.
func (tc *testCluster) waitMetric(t *testing.T, id, name string, want float64) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("%s on %s >= %v", name, id, want), waitTimeout, func() (bool, string) {
		v, err := tc.metric(id, name)
		if err != nil {
			return false, err.Error()
		}
		return v >= want, fmt.Sprintf("%s = %v", name, v)
	})
}

// converge waits until every node of the cluster runs, answers, has
// caught up and reports the same height, head and commitment under one
// leader that all of them name, and returns their statuses by id.
func (tc *testCluster) converge(t *testing.T) map[string]api.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := tc.WaitConverged(ctx); err != nil {
		t.Fatalf("WaitConverged() = %v", err)
	}
	var sts map[string]api.Status
	waitUntil(t, "every node to agree", waitTimeout, func() (bool, string) {
		var why string
		sts, why = tc.agreement()
		return why == "", why
	})
	return sts
}

// agreement returns every node's status, and "" if they agree (see
// converge), else why they do not.
func (tc *testCluster) agreement() (map[string]api.Status, string) {
	sts := make(map[string]api.Status)
	var leaders, views []string
	for _, id := range tc.ids() {
		st, err := tc.status(id)
		switch {
		case err != nil:
			return nil, fmt.Sprintf("%s: Status() = %v", id, err)
		case !st.CaughtUp:
			return nil, fmt.Sprintf("%s has not caught up: applied index %d, commit index %d", id, st.AppliedIndex, st.CommitIndex)
		case st.Leader:
			leaders = append(leaders, id)
		}
		sts[id] = st
		views = append(views, fmt.Sprintf("%s: height %d head %s commitment %s leader %q", id, st.Height, st.Head, st.Commitment, st.LeaderID))
	}
	if len(leaders) != 1 {
		return nil, fmt.Sprintf("leaders %v, want one", leaders)
	}
	first := sts[leaders[0]]
	for _, st := range sts {
		if st.Height != first.Height || st.Head != first.Head || st.Commitment != first.Commitment || st.LeaderID != leaders[0] {
			return nil, "nodes differ: " + strings.Join(views, "; ")
		}
	}
	return sts, ""
}
