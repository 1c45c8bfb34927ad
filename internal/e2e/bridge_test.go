package e2e

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/internal/localcluster"
)

// bridgeNodeArgs are passed to every node of the bridge story's cluster:
// checkpoints five times a second, so that the story takes seconds, and
// Raft snapshots every few entries, so that the restarts restore one.
var bridgeNodeArgs = []string{
	"--checkpoint-interval", "200ms",
	"--cold-block-interval", "50ms",
	"--snapshot-threshold", "16",
	"--trailing-logs", "8",
	"--snapshot-interval", "100ms",
}

const bridgeNodes = 3

// TestBridgeStoryOnThreeNodes is issue 5's "done when", told with the
// dualchain binary alone, as a user at a shell would, against a local
// cluster of three node processes (each with its own redis-server when one
// is installed, else on the embedded store): a user funded from the faucet
// transfers on the hot chain, settles to the cold chain, sees the
// settlement checkpointed with a proof that 'proof verify' accepts against
// a state root asked of the cold chain (and refuses it with another
// block's root, about another account, or with a byte changed in any of
// its fields), transfers on the cold chain,
// deposits back, and the audit passes; then again after a node's Redis is
// wiped, and after every node is killed with SIGKILL and its Redis emptied,
// with the balances and the transfers' statuses unchanged. The steps share
// the cluster and build on each other: the order matters.
func TestBridgeStoryOnThreeNodes(t *testing.T) {
	s := upBridgeStory(t)
	for _, step := range []struct {
		name string
		run  func(c *cli)
	}{
		{"HotTransfers", s.hotTransfers},
		{"SettleCheckpointedWithProof", s.settleWithProof},
		{"ColdTransferAndDeposit", s.coldTransferAndDeposit},
		{"Audit", s.auditAll},
		{"WipeRedis", s.wipeRedis},
		{"SettleAndDepositThroughN2", s.trafficThroughN2},
		{"KillAndRestartEveryNode", s.restartAll},
	} {
		ok := t.Run(step.name, func(t *testing.T) {
			c := *s.cli
			c.t = t
			step.run(&c)
		})
		if !ok {
			return // the cluster is in an unknown state: what follows is noise
		}
	}
}

// balances are an account's expected hot and cold balances.
type balances struct{ hot, cold uint64 }

// bridgeStory is the cluster, the users and what the story expects of them.
type bridgeStory struct {
	cli   *cli
	store string // the cluster's store: redis or memory
	urls  map[string]string

	alice, bob string              // the users' key files
	addrs      map[string]string   // key file → address
	want       map[string]balances // key file → balances expected
	transfers  map[string]string   // bridge transfer id → its status once done

	proof      string // the settle's proof file, from bridge status --proof-out
	proofAt    uint64 // the cold block it proves against
	proofRoot  string // that block's state root, as a node's cold chain says
	proofOwner string // the key file of the account it proves
	proofCold  uint64 // the cold balance it proves
}

// upBridgeStory starts the cluster with 'dualchain cluster up', and stops
// every process it started when the test ends, printing the nodes' logs if
// it failed.
func upBridgeStory(t *testing.T) *bridgeStory {
	tmp := t.TempDir()
	c := &cli{t: t, bin: binary(t), dir: filepath.Join(tmp, "cluster"), tmp: tmp}
	t.Cleanup(func() { downBridgeCluster(t, c.dir) })
	args := []string{"cluster", "up", "--nodes", strconv.Itoa(bridgeNodes), "--dir", c.dir}
	for _, a := range bridgeNodeArgs {
		args = append(args, "--node-arg="+a)
	}
	r := c.ok(args...)
	t.Logf("cluster up:\n%s%s", r.stderr, r.stdout)
	lc, err := localcluster.Load(c.dir)
	if err != nil {
		t.Fatalf("localcluster.Load(%s) = %v", c.dir, err)
	}
	s := &bridgeStory{cli: c, store: lc.Store(), urls: make(map[string]string),
		addrs: make(map[string]string), want: make(map[string]balances), transfers: make(map[string]string)}
	for _, n := range lc.Nodes() {
		s.urls[n.ID] = n.URL
	}
	s.checkStore(t)
	return s
}

// checkStore logs the store the cluster runs on. CI installs
// redis-server, and must not pass on the embedded store.
func (s *bridgeStory) checkStore(t *testing.T) {
	if s.store == localcluster.StoreRedis {
		t.Logf("store: redis, a redis-server per node")
		return
	}
	msg := fmt.Sprintf("store: %s (the embedded store: %s is not installed); the Redis wipe is skipped", s.store, localcluster.RedisServer)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI must run on redis-server")
	}
	t.Log(msg)
}

// downBridgeCluster stops whatever of the cluster in dir runs, the
// processes a failed step left included, by their recorded PIDs.
func downBridgeCluster(t *testing.T, dir string) {
	lc, err := localcluster.Load(dir)
	if err != nil {
		if !errors.Is(err, localcluster.ErrNoCluster) {
			t.Errorf("localcluster.Load(%s) = %v: its processes may be left running", dir, err)
		}
		return
	}
	lc.SetLog(testLog{t})
	(&testCluster{Cluster: lc}).down(t)
}

// nodeIDs are the ids of the story's nodes, in order.
func (s *bridgeStory) nodeIDs() []string {
	ids := make([]string, 0, len(s.urls))
	for i := 1; i <= bridgeNodes; i++ {
		ids = append(ids, fmt.Sprintf("n%d", i))
	}
	return ids
}

// newUser makes a key file with 'keys new' and returns its path.
func (s *bridgeStory) newUser(c *cli, name string) string {
	c.t.Helper()
	path := c.path(name + ".key")
	var key struct {
		Address string `json:"address"`
	}
	c.okJSON(&key, "keys", "new", "--out", path)
	if key.Address == "" {
		c.t.Fatalf("keys new --out %s: no address", path)
	}
	s.addrs[path] = key.Address
	s.want[path] = balances{}
	return path
}

// txResult is what transfer, settle and deposit print with --json.
type txResult struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Receipt *struct {
		Status string `json:"status"`
	} `json:"receipt"`
}

// committed runs a transaction command with --wait and returns its id,
// failing the test unless it is committed with an ok receipt.
func committed(c *cli, args ...string) string {
	c.t.Helper()
	var res txResult
	r := c.okJSON(&res, append(args, "--wait")...)
	if res.Status != "committed" || res.Receipt == nil || res.Receipt.Status != "ok" || res.ID == "" {
		c.t.Fatalf("want a committed transaction with receipt status ok:\n%s", r)
	}
	return res.ID
}

// transfer is a bridge transfer as 'bridge status --json' prints it.
type transfer struct {
	ID         string `json:"id"`
	Kind       string `json:"kind"`
	Owner      string `json:"owner"`
	Amount     uint64 `json:"amount"`
	Status     string `json:"status"`
	HotHeight  uint64 `json:"hot_height"`
	ColdHeight uint64 `json:"cold_height"`
	Proof      *struct {
		Height uint64 `json:"height"`
		Root   string `json:"root"`
	} `json:"proof"`
}

// expect adds hot and cold to what key's balances should be, if key is a
// user's (the faucet's balance is the supply less the rest: the audit
// checks that).
func (s *bridgeStory) expect(key string, hot, cold int64) {
	b, ok := s.want[key]
	if !ok {
		return
	}
	b.hot, b.cold = uint64(int64(b.hot)+hot), uint64(int64(b.cold)+cold)
	s.want[key] = b
}

// pay sends amount from one user to another on chain (hot or cold) with
// 'transfer --wait', through the node in where.
func (s *bridgeStory) pay(c *cli, chain, from, to string, amount uint64, where ...string) {
	c.t.Helper()
	committed(c, slices.Concat([]string{"transfer", "--key", from, "--to", to,
		"--amount", strconv.FormatUint(amount, 10), "--chain", chain}, where)...)
	d := int64(amount)
	if chain == "hot" {
		s.expect(from, -d, 0)
		s.expect(to, d, 0)
	} else {
		s.expect(from, 0, -d)
		s.expect(to, 0, d)
	}
}

// bridge runs 'settle' or 'deposit' (kind) of amount with --wait through
// the node in where, then 'bridge status ID --wait' with more args there,
// which must say the transfer is done; and returns the transfer.
func (s *bridgeStory) bridge(c *cli, kind, key string, amount uint64, where []string, more ...string) transfer {
	c.t.Helper()
	id := committed(c, slices.Concat([]string{kind, "--key", key, "--amount", strconv.FormatUint(amount, 10)}, where)...)
	want, d := api.BridgeCheckpointed, int64(amount)
	if kind == "deposit" {
		want, d = api.BridgeCredited, -d
	}
	tr := s.waitTransfer(c, id, kind, want, key, amount, slices.Concat(where, more)...)
	s.expect(key, -d, d)
	return tr
}

// waitTransfer runs 'bridge status ID --wait' with more args and fails
// the test unless the transfer is done with status want, of kind, owner
// and amount as sent.
func (s *bridgeStory) waitTransfer(c *cli, id, kind, want, owner string, amount uint64, more ...string) transfer {
	c.t.Helper()
	var tr transfer
	r := c.okJSON(&tr, append([]string{"bridge", "status", id, "--wait"}, more...)...)
	if tr.ID != id || tr.Kind != kind || tr.Status != want || tr.Owner != s.addrs[owner] || tr.Amount != amount ||
		tr.HotHeight == 0 || tr.ColdHeight == 0 || tr.Proof == nil {
		c.t.Fatalf("want transfer %s: a %s of %d by %s, %s, with hot and cold heights and a proof:\n%s",
			id, kind, amount, s.addrs[owner], want, r)
	}
	s.transfers[id] = want
	return tr
}

// checkBalances fails the test unless 'balance' shows every user's
// expected hot and cold balances, asked of the node in where (--cluster
// DIR or --node URL).
func (s *bridgeStory) checkBalances(c *cli, where ...string) {
	c.t.Helper()
	for key, want := range s.want {
		var got struct {
			Balance uint64 `json:"balance"`
			Cold    *struct {
				Balance uint64 `json:"balance"`
			} `json:"cold"`
		}
		r := c.okJSON(&got, append([]string{"balance", key}, where...)...)
		if got.Cold == nil || got.Balance != want.hot || got.Cold.Balance != want.cold {
			c.t.Fatalf("balance of %s: want hot %d, cold %d:\n%s", filepath.Base(key), want.hot, want.cold, r)
		}
	}
}

// checkBalancesEverywhere is checkBalances on every node.
func (s *bridgeStory) checkBalancesEverywhere(c *cli) {
	c.t.Helper()
	for _, id := range s.nodeIDs() {
		s.checkBalances(c, "--node", s.urls[id])
	}
}

// stateRoot returns the state root of cold block h as 'cold block H'
// shows it, asked of the node in where.
func stateRoot(c *cli, h uint64, where ...string) string {
	c.t.Helper()
	var b struct {
		Header struct {
			Height    uint64 `json:"height"`
			StateRoot string `json:"state_root"`
		} `json:"header"`
	}
	r := c.okJSON(&b, append([]string{"cold", "block", strconv.FormatUint(h, 10)}, where...)...)
	if b.Header.Height != h || len(b.Header.StateRoot) != 64 {
		c.t.Fatalf("want cold block %d with a state root:\n%s", h, r)
	}
	return b.Header.StateRoot
}

// trustedRoot asks every node for cold block h's state root, fails the
// test unless they agree, and returns it.
func (s *bridgeStory) trustedRoot(c *cli, h uint64) string {
	c.t.Helper()
	var root string
	for _, id := range s.nodeIDs() {
		r := stateRoot(c, h, "--node", s.urls[id])
		if root != "" && r != root {
			c.t.Fatalf("cold block %d: state root %s on %s, %s on the nodes before", h, r, id, root)
		}
		root = r
	}
	return root
}

// verified is what 'proof verify --json' prints.
type verified struct {
	Valid    bool   `json:"valid"`
	Address  string `json:"address"`
	Included bool   `json:"included"`
	Balance  uint64 `json:"balance"`
}

// verifyProof checks s.proof offline against s.proofRoot: it must prove
// its owner's cold balance as it was then.
func (s *bridgeStory) verifyProof(c *cli) {
	c.t.Helper()
	cold := s.proofCold
	var v verified
	r := c.okJSON(&v, "proof", "verify", s.proof, "--root", s.proofRoot, "--address", s.proofOwner)
	if !v.Valid || !v.Included || v.Address != s.addrs[s.proofOwner] || v.Balance != cold {
		c.t.Fatalf("want a valid inclusion proof of %s's cold balance %d:\n%s", s.addrs[s.proofOwner], cold, r)
	}
}

// hotTransfers: alice is funded from the faucet on the hot chain, then
// pays bob there.
func (s *bridgeStory) hotTransfers(c *cli) {
	s.alice, s.bob = s.newUser(c, "alice"), s.newUser(c, "bob")
	faucet := filepath.Join(c.dir, "faucet.key")
	s.pay(c, "hot", faucet, s.alice, 1000, "--cluster", c.dir)
	s.pay(c, "hot", s.alice, s.bob, 100, "--cluster", c.dir)
	s.checkBalances(c, "--cluster", c.dir)
}

// settleWithProof: alice settles 300 to the cold chain; bridge status
// says checkpointed and writes the proof, which 'proof verify' accepts
// against the state root the cold chain gives for that block, and refuses
// with another block's root, about another account, or with one byte of
// it changed.
func (s *bridgeStory) settleWithProof(c *cli) {
	s.proof, s.proofOwner = c.path("proof.json"), s.alice
	tr := s.bridge(c, "settle", s.alice, 300, []string{"--cluster", c.dir}, "--proof-out", s.proof)
	id := tr.ID
	if r := c.ok("bridge", "status", id, "--cluster", c.dir); !strings.HasPrefix(r.stdout, "checkpointed  yes") {
		c.t.Errorf("bridge status %s does not answer \"checkpointed  yes\" first:\n%s", id, r)
	}
	s.proofAt, s.proofCold = tr.Proof.Height, s.want[s.alice].cold
	s.proofRoot = s.trustedRoot(c, s.proofAt)
	c.t.Logf("settle %s checkpointed in cold block %d; its proof is against cold block %d, state root %s", id, tr.ColdHeight, s.proofAt, s.proofRoot)
	s.verifyProof(c)
	s.refuseBadProofs(c, tr)
	s.checkBalances(c, "--cluster", c.dir)
}

// refuseBadProofs checks that 'proof verify' refuses the settle's proof
// with the root of the cold block before the settle was credited, about
// another account, and with a byte of it changed.
func (s *bridgeStory) refuseBadProofs(c *cli, tr transfer) {
	c.t.Helper()
	if tr.ColdHeight < 2 {
		c.t.Fatalf("settle %s credited in cold block %d, want a cold block before it to take another root from", tr.ID, tr.ColdHeight)
	}
	before := tr.ColdHeight - 1
	other := stateRoot(c, before, "--cluster", c.dir)
	if other == s.proofRoot {
		c.t.Fatalf("cold blocks %d and %d have the same state root %s, though the settle was credited in %d", before, s.proofAt, other, tr.ColdHeight)
	}
	c.fails([]string{"proof_mismatch"}, "proof", "verify", s.proof, "--root", other, "--address", s.alice)
	c.fails([]string{"wrong_address"}, "proof", "verify", s.proof, "--root", s.proofRoot, "--address", s.bob)
	data, err := os.ReadFile(s.proof)
	if err != nil {
		c.t.Fatal(err)
	}
	keys := []string{"version", "root", "address", "balance", "nonce"}
	if strings.Contains(string(data), `"siblings":["`) {
		keys = append(keys, "siblings")
	}
	for _, key := range keys {
		bad, err := changeByte(data, key)
		if err != nil {
			c.t.Fatalf("%s: %v", s.proof, err)
		}
		path := c.path("proof-bad-" + key + ".json")
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			c.t.Fatal(err)
		}
		c.fails(nil, "proof", "verify", path, "--root", s.proofRoot, "--address", s.alice)
	}
	c.t.Logf("proof verify refused the root of cold block %d, bob's address, and a byte changed in %q", before, keys)
}

// coldTransferAndDeposit: alice pays bob 50 on the cold chain, then
// deposits 120 back to her hot balance.
func (s *bridgeStory) coldTransferAndDeposit(c *cli) {
	s.pay(c, "cold", s.alice, s.bob, 50, "--cluster", c.dir)
	s.checkBalances(c, "--cluster", c.dir)
	s.bridge(c, "deposit", s.alice, 120, []string{"--cluster", c.dir})
	s.checkBalances(c, "--cluster", c.dir)
}

// auditAll: the audit passes, its table and its JSON report, and once the
// cluster is quiet every node reports the same commitment, cold root and
// balances.
func (s *bridgeStory) auditAll(c *cli) {
	r := c.ok("audit", "--cluster", c.dir)
	c.t.Logf("audit:\n%s", r.stdout)
	c.auditAtRest(bridgeNodes)
	s.checkBalancesEverywhere(c)
}

// wipeRedis: n2's redis-server is killed and started empty; n2 notices,
// rebuilds its state and catches up, and the audit passes.
func (s *bridgeStory) wipeRedis(c *cli) {
	if s.store != localcluster.StoreRedis {
		c.t.Skipf("the cluster runs on the %s store (%s is not installed): no Redis to wipe", s.store, localcluster.RedisServer)
	}
	const victim = "n2"
	lc, err := localcluster.Load(c.dir)
	if err != nil {
		c.t.Fatalf("localcluster.Load(%s) = %v", c.dir, err)
	}
	tc := &testCluster{Cluster: lc}
	rebuilds := tc.mustMetric(c.t, victim, metricRebuilds)
	c.ok("cluster", "wipe-redis", victim, "--dir", c.dir)
	tc.waitMetric(c.t, victim, metricRebuilds, rebuilds+1)
	c.waitAgreed(victim + " to catch up after its Redis was wiped")
	c.auditAtRest(bridgeNodes)
	s.checkBalancesEverywhere(c)
}

// trafficThroughN2: bob settles and alice deposits through n2, the node
// whose Redis was wiped, and the audit passes.
func (s *bridgeStory) trafficThroughN2(c *cli) {
	at := []string{"--node", s.urls["n2"]}
	s.bridge(c, "settle", s.bob, 40, at)
	s.bridge(c, "deposit", s.alice, 30, at)
	s.checkBalances(c, at...)
	c.auditAtRest(bridgeNodes)
	s.checkBalancesEverywhere(c)
}

// restartAll: every node is killed with SIGKILL and, on Redis, every
// redis-server stopped too (they persist nothing: they come back empty),
// as a power cut would; 'cluster up' starts them all again. Balances,
// the transfers' statuses and the cold block the proof is against are
// unchanged, the proof still verifies, the audit passes, and the chain
// goes on: a last settle is checkpointed.
func (s *bridgeStory) restartAll(c *cli) {
	for _, st := range c.waitAgreed("every node to agree before the crash") {
		c.t.Logf("%s before the crash: applied index %d, last snapshot index %d", st.ID, st.Status.AppliedIndex, st.Status.LastSnapshotIndex)
	}
	for _, id := range s.nodeIDs() {
		c.ok("cluster", "kill", id, "--dir", c.dir)
	}
	if s.store == localcluster.StoreRedis {
		c.ok("cluster", "down", "--dir", c.dir) // what is left: the redis-servers
	}
	if sts, r := c.nodeStatuses(); r.exit != 0 || anyRunning(sts) {
		c.t.Fatalf("after killing every node and stopping the cluster, want nothing running:\n%s", r)
	}
	c.ok("cluster", "up", "--dir", c.dir)
	c.waitAgreed("a leader and every node caught up after the restart")
	s.logRestores(c)

	s.checkBalancesEverywhere(c)
	for id, want := range s.transfers {
		var tr transfer
		r := c.okJSON(&tr, "bridge", "status", id, "--cluster", c.dir)
		if tr.Status != want {
			c.t.Errorf("after the restart, transfer %s is %q, want %q:\n%s", id, tr.Status, want, r)
		}
	}
	if root := s.trustedRoot(c, s.proofAt); root != s.proofRoot {
		c.t.Fatalf("after the restart, cold block %d has state root %s, want %s as before", s.proofAt, root, s.proofRoot)
	}
	s.verifyProof(c)
	c.auditAtRest(bridgeNodes)

	s.bridge(c, "settle", s.alice, 10, []string{"--cluster", c.dir})
	c.auditAtRest(bridgeNodes)
	s.checkBalancesEverywhere(c)
}

// anyRunning reports whether a node or redis-server of sts runs.
func anyRunning(sts []localcluster.NodeStatus) bool {
	for _, st := range sts {
		if st.Running || st.Redis != nil && st.Redis.Running {
			return true
		}
	}
	return false
}

// logRestores logs how each node got its hot state back.
func (s *bridgeStory) logRestores(c *cli) {
	lc, err := localcluster.Load(c.dir)
	if err != nil {
		c.t.Fatalf("localcluster.Load(%s) = %v", c.dir, err)
	}
	tc := &testCluster{Cluster: lc}
	for _, id := range s.nodeIDs() {
		restores, err1 := tc.metric(id, metricRestores)
		rebuilds, err2 := tc.metric(id, metricRebuilds)
		c.t.Logf("%s after the restart: %s %v (%v), %s %v (%v)", id, metricRestores, restores, err1, metricRebuilds, rebuilds, err2)
	}
}
