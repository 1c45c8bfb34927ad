package e2e

import (
	"bufio"
	"context"
	"errors"
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
	"github.com/dualchain/dualchain/node"
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

// isRetryable lists the codes a sender answers by sending the same
// transactions again: elections, a node that is rebuilding or busy, a
// block that failed, and a transaction still pending from an earlier try
// (or one whose earlier nonce was dropped with a failed block).
var isRetryable = map[string]bool{
	api.CodeNoLeader: true, api.CodeNotLeader: true, "unavailable": true, "block_failed": true,
	"nonce_taken": true, "nonce_gap": true, "mempool_full": true, api.CodeTimeout: true,
}

// movesOn lists why a sender tries the next node rather than the same.
var movesOn = map[string]bool{
	"transport": true, "unavailable": true, api.CodeNoLeader: true, api.CodeTimeout: true,
	client.CodeUnexpectedResponse: true,
}

// errLoadEnded is why a sender stops when the load ends.
var errLoadEnded = errors.New("load ended")

// Submissions of the cluster load.
const (
	clusterBatch   = 1                     // transfers per submission
	clusterPause   = 5 * time.Millisecond  // between a sender's submissions
	attemptTimeout = 10 * time.Second      // one submission
	settleTimeout  = 30 * time.Second      // all the tries of one batch
	retryPause     = 20 * time.Millisecond // before a batch is sent again
)

// clusterLoad is a stream of transfers through several nodes, one
// goroutine per sender, each starting on its own node. Unlike load, a
// sender that hits an election, a dead node or a rebuilding one sends the
// same signed transactions again (to the next node, when that one cannot
// help): a nonce is used once, so they are applied at most once. A sender
// moves on to new transfers only once the batch is settled: each is
// committed, or refused as nonce_too_low (committed by an earlier try
// whose answer was lost).
type clusterLoad struct {
	w       *world
	clients []*client.Client
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu      sync.Mutex
	acked   int            // transfers answered committed
	reasons map[string]int // why batches were sent again
	failed  []error        // senders that stopped while the load ran
}

// startLoad starts a load through the nodes ids.
func (tc *testCluster) startLoad(ids ...string) *clusterLoad {
	ctx, cancel := context.WithCancel(context.Background())
	l := &clusterLoad{w: tc.w, cancel: cancel, reasons: make(map[string]int)}
	for _, id := range ids {
		l.clients = append(l.clients, tc.client(id))
	}
	for i, a := range tc.w.senders {
		l.wg.Go(func() {
			if err := l.send(ctx, i, a); !errors.Is(err, errLoadEnded) {
				l.mu.Lock()
				l.failed = append(l.failed, fmt.Errorf("sender %d (%s): %w", i, a.key.Address, err))
				l.mu.Unlock()
			}
		})
	}
	return l
}

// stop ends the load, waits for its senders, and fails the test if any
// stopped before.
func (l *clusterLoad) stop(t *testing.T) {
	t.Helper()
	l.cancel()
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	t.Logf("load: %d transfers acknowledged; sent again because of %v", l.acked, l.reasons)
	for _, err := range l.failed {
		t.Errorf("load: %v", err)
	}
}

// ackedSoFar is how many transfers were answered committed.
func (l *clusterLoad) ackedSoFar() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.acked
}

// waitAcked waits until n more transfers than now are acknowledged.
func (l *clusterLoad) waitAcked(t *testing.T, n int) {
	t.Helper()
	want := l.ackedSoFar() + n
	waitUntil(t, fmt.Sprintf("%d more acknowledged transfers", n), waitTimeout, func() (bool, string) {
		got := l.ackedSoFar()
		return got >= want, fmt.Sprintf("%d acknowledged, want %d", got, want)
	})
}

func (l *clusterLoad) send(ctx context.Context, i int, a *account) error {
	node := i % len(l.clients)
	for {
		batch := make([]*sentTx, clusterBatch)
		for j := range batch {
			n := len(a.txs)
			batch[j] = a.sign(l.w.chainID, l.w.recipient(i, n), uint64(1+n%5))
		}
		var err error
		if node, err = l.settle(ctx, node, a, batch, false); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return errLoadEnded
		case <-time.After(clusterPause):
		}
	}
}

// settle sends batch, starting with node, until every transfer in it is
// settled, and returns the node it last used.
func (l *clusterLoad) settle(ctx context.Context, node int, a *account, batch []*sentTx, resent bool) (int, error) {
	deadline := time.Now().Add(settleTimeout)
	for try := 0; ; try++ {
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		res, err := l.clients[node].SubmitWait(actx, txsOf(batch)...)
		cancel()
		if ctx.Err() != nil {
			return node, errLoadEnded
		}
		var why string
		if batch, why, err = l.judge(a, batch, res, err, resent || try > 0); err != nil || len(batch) == 0 {
			return node, err
		}
		l.mu.Lock()
		l.reasons[why]++
		l.mu.Unlock()
		if movesOn[why] {
			node = (node + 1) % len(l.clients)
		}
		if time.Now().After(deadline) {
			return node, fmt.Errorf("%d transfers from nonce %d not settled within %v; last answer: %s", len(batch), batch[0].tx.Nonce, settleTimeout, why)
		}
		select {
		case <-ctx.Done():
			return node, errLoadEnded
		case <-time.After(retryPause):
		}
	}
}

// judge records the answer to sending batch, sent before if resent, and
// returns what is left to send again and why, or an error that ends the
// sender.
func (l *clusterLoad) judge(a *account, batch []*sentTx, res []api.TxResult, err error, resent bool) ([]*sentTx, string, error) {
	if len(res) != len(batch) {
		why := requestFailure(err)
		if !isRetryable[why] && !movesOn[why] {
			return nil, "", fmt.Errorf("SubmitWait(%d txs) = %d results, %v", len(batch), len(res), err)
		}
		return batch, why, nil
	}
	var again []*sentTx
	var why string
	for i, r := range res {
		s := batch[i]
		switch {
		case r.Status == api.StatusCommitted && r.ID == s.id:
			a.acked[s.tx.Nonce] = ack{block: r.Block, index: r.Index}
			l.mu.Lock()
			l.acked++
			l.mu.Unlock()
		case r.Status == api.StatusPending:
			again, why = append(again, s), api.StatusPending
		case r.Error != nil && r.Error.Code == codeNonceTooLow && resent:
			// Committed by an earlier try whose answer was lost.
		case r.Error != nil && isRetryable[r.Error.Code]:
			again, why = append(again, s), r.Error.Code
		default:
			return nil, "", fmt.Errorf("submit %s (nonce %d, sent before %v) = %s", s.id, s.tx.Nonce, resent, describe(r))
		}
	}
	return again, why, nil
}

// requestFailure names why a whole submission failed: the node's code, or
// "transport" when no node answered (it was killed, or did not answer in
// time).
func requestFailure(err error) string {
	var cerr *client.Error
	switch {
	case errors.As(err, &cerr):
		return cerr.Code
	case err == nil:
		return "wrong number of results"
	}
	return "transport"
}

// A node that restored a Raft snapshot holds no history before it
// (hotchain: "a snapshot holds no history"): its Block and Tx answer
// not_found below the snapshot's height, so check, which reads the whole
// chain, runs only on nodes that hold it all. checkHeld checks every node
// on what it holds: the blocks from its first one to its head, linked by
// parent hash; every acknowledged transfer in them where it was
// acknowledged; no transfer or nonce twice; and, through the state alone,
// that every acknowledged transfer is committed (its sender's nonce is past
// it) and that the balances are exactly those of the transfers the nonces
// say are committed, each applied once.

// heldView is what checkHeld learned from a node.
type heldView struct {
	id       string
	status   api.Status
	from     uint64                 // first block the node holds: 1 for the whole chain
	blocks   []api.BlockView        // from..status.Height
	held     map[ledger.Hash]found  // the transactions of blocks
	nonces   map[ledger.Address]int // every sender's next nonce
	beyond   int                    // acknowledged transfers in blocks before from
	compared int                    // heights compared with the known blocks
}

// checkHeld checks node id's chain as described above; with allCommitted,
// every transaction the test signed must be committed. Blocks in known,
// by height, are what the chain held earlier: the node's must be the same.
func checkHeld(t *testing.T, id string, c *client.Client, w *world, allCommitted bool, known map[uint64]api.BlockView) (*heldView, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	r := &report{t: t}
	v, err := readHeld(ctx, id, c)
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	checkLinks(r, v, known)
	checkHeldTxs(r, v, w)
	checkHeldAcks(r, v, w)
	checkState(ctx, r, v, c, w, allCommitted)
	return v, r.done()
}

// readHeld reads node id's status and the blocks it holds.
func readHeld(ctx context.Context, id string, c *client.Client) (*heldView, error) {
	v := &heldView{id: id}
	var err error
	if v.status, err = c.Status(ctx); err != nil {
		return nil, fmt.Errorf("Status() = %w", err)
	}
	if v.from, err = firstHeld(ctx, c, v.status.Height); err != nil {
		return nil, err
	}
	if v.from <= v.status.Height {
		if v.blocks, err = c.Blocks(ctx, v.from, v.status.Height); err != nil {
			return nil, fmt.Errorf("Blocks(%d, %d) = %w", v.from, v.status.Height, err)
		}
	}
	if want := v.status.Height + 1 - v.from; uint64(len(v.blocks)) != want {
		return nil, fmt.Errorf("Blocks(%d, %d) = %d blocks, want %d", v.from, v.status.Height, len(v.blocks), want)
	}
	return v, nil
}

// firstHeld finds where the run of blocks the node serves up to its head
// starts: 1 for the whole chain, else the height after the last block it
// lacks. A node that installed a snapshot lacks the blocks between what it
// had applied and the snapshot (its archive keeps those it applied itself,
// so it may hold older blocks below that gap). It is head+1 when the node
// holds no block at its head.
func firstHeld(ctx context.Context, c *client.Client, head uint64) (uint64, error) {
	const page = api.MaxRangeBlocks
	for top := head; top >= 1; {
		lo := max(top, page) - page + 1
		if _, err := c.Blocks(ctx, lo, top); err == nil {
			if lo == 1 {
				return 1, nil
			}
			top = lo - 1
			continue
		} else if !isNotFound(err) {
			return 0, fmt.Errorf("Blocks(%d, %d) = %w", lo, top, err)
		}
		for h := top; h >= lo; h-- { // the gap is in this page: find its top
			_, err := c.Block(ctx, h)
			switch {
			case isNotFound(err):
				return h + 1, nil
			case err != nil:
				return 0, fmt.Errorf("Block(%d) = %w", h, err)
			}
		}
		return 0, fmt.Errorf("Blocks(%d, %d) missed a block that Block finds", lo, top)
	}
	return 1, nil
}

func isNotFound(err error) bool {
	var cerr *client.Error
	return errors.As(err, &cerr) && cerr.Code == api.CodeNotFound
}

// checkLinks checks that v's blocks follow one another by height and
// parent hash up to the head its status reports, and match known.
func checkLinks(r *report, v *heldView, known map[uint64]api.BlockView) {
	r.t.Helper()
	for i, b := range v.blocks {
		if b.Height != v.from+uint64(i) {
			r.fatalf("%s: Blocks(%d, ...)[%d].Height = %d, want %d", v.id, v.from, i, b.Height, v.from+uint64(i))
		}
		if i > 0 && b.Parent != v.blocks[i-1].Hash {
			r.errorf("%s: block %d parent %s, want block %d's hash %s", v.id, b.Height, b.Parent, b.Height-1, v.blocks[i-1].Hash)
		}
		if k, ok := known[b.Height]; ok {
			v.compared++
			if b.Hash != k.Hash || b.Commitment != k.Commitment {
				r.errorf("%s: block %d = hash %s commitment %s, want hash %s commitment %s as before", v.id, b.Height, b.Hash, b.Commitment, k.Hash, k.Commitment)
			}
		}
		if k, ok := known[b.Height-1]; ok && i == 0 {
			v.compared++
			if b.Parent != k.Hash {
				r.errorf("%s: first block held, %d, has parent %s, want %s, block %d's hash before", v.id, b.Height, b.Parent, k.Hash, k.Height)
			}
		}
	}
	if n := len(v.blocks); n > 0 && (v.blocks[n-1].Hash != v.status.Head || v.blocks[n-1].Commitment != v.status.Commitment) {
		r.errorf("%s: head block %d = hash %s commitment %s, status says head %s commitment %s",
			v.id, v.status.Height, v.blocks[n-1].Hash, v.blocks[n-1].Commitment, v.status.Head, v.status.Commitment)
	}
}

// checkHeldTxs indexes the transactions of v's blocks and checks that each
// is one the test signed, in a block once, its nonce used once.
func checkHeldTxs(r *report, v *heldView, w *world) {
	r.t.Helper()
	sent := w.byID()
	v.held = make(map[ledger.Hash]found)
	type senderNonce struct {
		from  ledger.Address
		nonce uint64
	}
	nonces := make(map[senderNonce]uint64)
	for _, b := range v.blocks {
		for j, tx := range b.Txs {
			if prev, dup := v.held[tx.ID]; dup {
				r.errorf("%s: tx %s in block %d index %d and again in block %d index %d", v.id, tx.ID, prev.block, prev.index, b.Height, j)
			}
			sn := senderNonce{tx.From, tx.Nonce}
			if h, dup := nonces[sn]; dup {
				r.errorf("%s: sender %s nonce %d committed twice: blocks %d and %d", v.id, tx.From, tx.Nonce, h, b.Height)
			}
			nonces[sn] = b.Height
			if s, ok := sent[tx.ID]; !ok || s.tx.Nonce != tx.Nonce || s.tx.From != tx.From || tx.Status != ledger.StatusOK {
				r.errorf("%s: block %d index %d holds tx %s from %s nonce %d status %s: not one the test signed, or not ok", v.id, b.Height, j, tx.ID, tx.From, tx.Nonce, tx.Status)
			}
			v.held[tx.ID] = found{block: b.Height, index: uint32(j), status: tx.Status}
		}
	}
}

// checkHeldAcks checks that every acknowledged transfer in the blocks v
// holds is where it was acknowledged, and counts those before them.
func checkHeldAcks(r *report, v *heldView, w *world) {
	r.t.Helper()
	for _, a := range w.accounts() {
		for nonce, ak := range a.acked {
			s := a.txs[nonce]
			f, ok := v.held[s.id]
			switch {
			case ak.block < v.from:
				v.beyond++
			case !ok || f.block != ak.block || f.index != ak.index:
				r.errorf("%s: tx %s (nonce %d of %s) = %s, want block %d index %d (acknowledged)", v.id, s.id, nonce, a.key.Address, where(f, ok), ak.block, ak.index)
			}
		}
	}
}

// checkState reads every account the test involves and checks that each
// sender's nonce is past its acknowledged transfers and those in v's
// blocks, and not past what it signed (with allCommitted, exactly there),
// and that the balances are what applying once exactly the transfers below
// those nonces gives, summing to the supply.
func checkState(ctx context.Context, r *report, v *heldView, c *client.Client, w *world, allCommitted bool) {
	r.t.Helper()
	v.nonces = make(map[ledger.Address]int)
	want := map[ledger.Address]uint64{w.faucet.key.Address: node.DevSupply}
	for _, a := range w.accounts() {
		acct, err := c.Account(ctx, a.key.Address)
		if err != nil {
			r.fatalf("%s: Account(%s) = %v", v.id, a.key.Address, err)
		}
		n := int(min(acct.Nonce, uint64(len(a.txs))))
		v.nonces[a.key.Address] = n
		checkNonce(r, v, a, acct.Nonce, allCommitted)
		for _, s := range a.txs[:n] {
			want[a.key.Address] -= s.amount
			want[s.to] += s.amount
		}
	}
	var sum uint64
	for _, addr := range w.addresses() {
		acct, err := c.Account(ctx, addr)
		if err != nil {
			r.fatalf("%s: Account(%s) = %v", v.id, addr, err)
		}
		if acct.Balance != want[addr] {
			r.errorf("%s: Account(%s).Balance = %d, want %d (applying once each transfer below the senders' nonces)", v.id, addr, acct.Balance, want[addr])
		}
		sum += acct.Balance
	}
	if sum != node.DevSupply {
		r.errorf("%s: sum of balances = %d, want the supply %d", v.id, sum, node.DevSupply)
	}
}

// checkNonce checks account a's nonce on node v against what the test
// knows is committed.
func checkNonce(r *report, v *heldView, a *account, nonce uint64, allCommitted bool) {
	r.t.Helper()
	signed := uint64(len(a.txs))
	switch {
	case nonce > signed:
		r.errorf("%s: Account(%s).Nonce = %d, but the test signed only %d txs", v.id, a.key.Address, nonce, signed)
	case allCommitted && nonce != signed:
		r.errorf("%s: Account(%s).Nonce = %d, want %d: every tx signed committed", v.id, a.key.Address, nonce, signed)
	}
	for n := range a.acked {
		if n >= nonce {
			r.errorf("%s: tx %s (nonce %d of %s) acknowledged, but the account's nonce is %d: lost", v.id, a.txs[n].id, n, a.key.Address, nonce)
		}
	}
	for _, s := range a.txs {
		if f, ok := v.held[s.id]; ok && s.tx.Nonce >= nonce {
			r.errorf("%s: tx %s (nonce %d) is in block %d, but the account's nonce is %d", v.id, s.id, s.tx.Nonce, f.block, nonce)
		}
	}
}

// byID indexes every transaction the test signed.
func (w *world) byID() map[ledger.Hash]*sentTx {
	out := make(map[ledger.Hash]*sentTx)
	for _, a := range w.accounts() {
		for _, s := range a.txs {
			out[s.id] = s
		}
	}
	return out
}

// settleHeld adopts, for every transaction committed without the test
// being told, the place v found it in, so later checks hold it there too.
func (w *world) settleHeld(v *heldView) {
	for _, a := range w.accounts() {
		for _, s := range a.txs {
			f, ok := v.held[s.id]
			if _, acked := a.acked[s.tx.Nonce]; ok && !acked {
				a.acked[s.tx.Nonce] = ack{block: f.block, index: f.index}
			}
		}
	}
}

// resubmit sends again, through node id, every transaction that node's
// state says is not committed (at or past its sender's nonce): each must
// be committed now. Those below the nonces were committed without the
// test being told: checkHeld and check find them.
func (tc *testCluster) resubmit(t *testing.T, id string, v *heldView) {
	t.Helper()
	l := &clusterLoad{w: tc.w, clients: []*client.Client{tc.client(id)}, reasons: make(map[string]int)}
	ctx := context.Background()
	var wg sync.WaitGroup
	for _, a := range tc.w.accounts() {
		wg.Go(func() {
			todo := a.txs[v.nonces[a.key.Address]:]
			for len(todo) > 0 {
				batch := todo[:min(len(todo), resubmitBatch)]
				todo = todo[len(batch):]
				if _, err := l.settle(ctx, 0, a, batch, true); err != nil {
					l.mu.Lock()
					l.failed = append(l.failed, err)
					l.mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	t.Logf("resubmitted through %s: %d committed now; sent again because of %v", id, l.acked, l.reasons)
	for _, err := range l.failed {
		t.Errorf("resubmit through %s: %v", id, err)
	}
}

// maxFullChecks is on how many nodes that hold the whole chain verify runs
// check, which looks up every transaction the test signed.
const maxFullChecks = 2

// verify checks the cluster once its load has stopped: it converges; the
// leader passes checkHeld; the transfers the leader's state says are not
// committed are sent again; once the cluster converges again, every node
// passes checkHeld with every transfer committed, and check on up to two
// of those that hold the whole chain, of which there must be at least one.
// Blocks in known must be unchanged.
// It returns the views of the nodes.
func (tc *testCluster) verify(t *testing.T, known map[uint64]api.BlockView) map[string]*heldView {
	t.Helper()
	start := time.Now()
	tc.converge(t)
	leader := tc.leader(t)
	v, ok := checkHeld(t, leader, tc.client(leader), tc.w, false, known)
	if !ok {
		t.FailNow() // the chain is wrong: resubmitting would only add noise
	}
	tc.resubmit(t, leader, v)
	tc.converge(t)
	views := make(map[string]*heldView)
	full := 0
	for _, id := range tc.ids() {
		v, ok := checkHeld(t, id, tc.client(id), tc.w, true, known)
		views[id] = v
		if !ok {
			continue
		}
		tc.w.settleHeld(v)
		t.Logf("%s: height %d, holds blocks from %d; %d acknowledged txs before them, checked through the state", id, v.status.Height, v.from, v.beyond)
		if v.from == 1 && full < maxFullChecks {
			full++
			check(t, tc.client(id), tc.w, true)
		}
	}
	acked, sent := tc.w.count()
	t.Logf("%d txs signed, %d settled; check ran on %d nodes that hold the whole chain; verified in %v", sent, acked, full, time.Since(start).Round(time.Millisecond))
	if full == 0 {
		// A node's archive keeps every block it applied, whatever happened
		// to its Redis; only a node that joined or caught up by snapshot
		// misses the blocks before it.
		t.Errorf("no node holds the whole chain; want the nodes that never installed a snapshot to serve it from their archives")
	}
	return views
}
