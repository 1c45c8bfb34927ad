package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/api/apitest"
	"github.com/dualchain/dualchain/internal/audit"
	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/dualchain/dualchain/ledger"
)

// audited is a cold backend whose audit names the node and may be
// doctored, as a node with a broken state would report it.
type audited struct {
	*apitest.ColdBackend
	id   string
	edit func(*api.Audit)
}

func (a audited) Audit(ctx context.Context) (api.Audit, error) {
	au, err := a.ColdBackend.Audit(ctx)
	au.NodeID = a.id
	if a.edit != nil {
		a.edit(&au)
	}
	return au, err
}

// history runs the same chain on a fresh backend: a settle of amount,
// checkpointed, then a hot transfer; ahead adds one more hot block and
// one more cold block, as a node ahead of the others has them.
func history(t *testing.T, amount uint64, ahead bool) *apitest.ColdBackend {
	t.Helper()
	b := apitest.FundedCold(false, 1000, faucet, bob)
	steps := []*ledger.Tx{apitest.Settle(faucet, 0, amount), apitest.Transfer(faucet, 1, bob.Address, 10)}
	if ahead {
		steps = append(steps, apitest.Transfer(bob, 0, faucet.Address, 1))
	}
	for i, tx := range steps {
		if _, errs := b.Submit(context.Background(), []*ledger.Tx{tx}); errs[0] != nil {
			t.Fatal(errs[0])
		}
		b.Commit()
		if i != 1 {
			b.Checkpoint()
		}
	}
	return b
}

// serveAudited serves b and returns its URL.
func serveAudited(t *testing.T, b audited) string {
	t.Helper()
	srv := httptest.NewServer(api.New(b, api.TestConfig()).Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// failures returns the checks of r that failed, as "check node".
func failures(r audit.Report) []string {
	var out []string
	for _, c := range r.Checks {
		if !c.Pass {
			out = append(out, c.Check+" "+c.Node)
		}
	}
	slices.Sort(out)
	return out
}

func TestAuditPasses(t *testing.T) {
	n1 := serveAudited(t, audited{ColdBackend: history(t, 100, true), id: "n1"})
	n2 := serveAudited(t, audited{ColdBackend: history(t, 100, false), id: "n2"})
	n := &testNode{env: map[string]string{}}

	r := n.run(t, "audit", "--node", n1, "--node", n2).ok(t)
	wantLines(t, r.stdout, "CHECK NODE VERDICT DETAIL",
		"conservation n1 PASS hot 1900 + cold 100 + settling 0 + depositing 0 = 2000 = supply 2000",
		"verdict: PASS")
	// n1 is at hot 3, cold 2; n2 at hot 2, cold 1: they are compared there.
	cold, err := history(t, 100, false).ColdBlock(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.stdout, "at cold height 1, 2 nodes: state root "+cold.Header.StateRoot.String()) ||
		!strings.Contains(r.stdout, "at hot height 2, 2 nodes: commitment ") {
		t.Errorf("audit output lacks the compared heights:\n%s", r.stdout)
	}

	rep := parseJSON[audit.Report](t, n.run(t, "audit", "--node", n1, "--node", n2, "--json").ok(t))
	if !rep.Pass || len(rep.Nodes) != 2 || rep.Nodes[0].ID != "n1" || rep.Nodes[1].Audit == nil || len(rep.Checks) != 10 {
		t.Errorf("audit --json = %+v, want a pass over n1 and n2 with 10 checks", rep)
	}
}

func TestAuditFails(t *testing.T) {
	// n2 has the same heights as n1 but another history, and a doctored
	// audit; n3 answers nothing.
	n1 := serveAudited(t, audited{ColdBackend: history(t, 100, false), id: "n1"})
	n2 := serveAudited(t, audited{ColdBackend: history(t, 99, false), id: "n2", edit: func(a *api.Audit) {
		a.MirrorMismatches, a.BadBalances = 2, 1
	}})
	n3 := serveAudited(t, audited{ColdBackend: history(t, 100, false), id: "n3", edit: func(a *api.Audit) {
		a.InFlightDeposits += 5
	}})
	gone := httptest.NewServer(nil)
	gone.Close()
	n := &testNode{env: map[string]string{}}

	args := []string{"audit", "--node", n1, "--node", n2, "--node", n3, "--node", gone.URL}
	r := n.run(t, append(args, "--json")...)
	r.fails(t, exitFailure, "audit_failed")
	var rep audit.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("audit --json printed %q: %v", r.stdout, err)
	}
	want := []string{
		"cold roots equal all", "conservation n2", "conservation n3", "hot commitments equal all",
		"mirror n2", "no bad balances n2", "reachable " + gone.URL,
	}
	if got := failures(rep); rep.Pass || !slices.Equal(got, want) {
		t.Errorf("failed checks = %q (pass %v), want %q", got, rep.Pass, want)
	}

	human := n.run(t, args...)
	human.fails(t, exitFailure, "audit_failed")
	wantLines(t, human.stdout, "verdict: FAIL",
		"mirror n2 FAIL 2 hot keys differ from the cold mirror plus the writes since the checkpoint",
		"conservation n3 FAIL hot 1900 + cold 100 + settling 0 + depositing 5 = 2005 ≠ supply 2000",
		"conservation n2 FAIL hot 1901 + cold 99 + settling 0 + depositing 0 = 2000 = supply 2000, but 1 balances are bad: the sums cannot be trusted")
	if !strings.Contains(human.stderr, "7 of 15 checks failed") {
		t.Errorf("stderr = %q, want the count of failed checks", human.stderr)
	}
}

// TestAuditCluster audits every node of a cluster's manifest, named as the
// manifest names them; a stopped node fails.
func TestAuditCluster(t *testing.T) {
	urls := []string{
		serveAudited(t, audited{ColdBackend: history(t, 100, false), id: "x"}),
		serveAudited(t, audited{ColdBackend: history(t, 100, false), id: "x"}),
	}
	dir := clusterOf(t, urls...)
	n := &testNode{env: map[string]string{}}
	r := n.run(t, "audit", "--cluster", dir).ok(t)
	wantLines(t, r.stdout, "verdict: PASS",
		"mirror n1 PASS 0 hot keys differ from the cold mirror plus the writes since the checkpoint",
		"mirror n2 PASS 0 hot keys differ from the cold mirror plus the writes since the checkpoint")
	n.run(t, "audit", "--cluster", stoppedCluster(t, "memory")).fails(t, exitFailure, "audit_failed")
	n.run(t, "audit", "--cluster", dir, "--node", urls[0]).fails(t, exitUsage, "usage")
	n.run(t, "audit", "--cluster", t.TempDir()).fails(t, exitFailure, "no_cluster")
	n.run(t, "audit", "--node", "ftp://x").fails(t, exitUsage, "usage")
}

// TestAuditNodeNames names nodes by the ids they report, or by URL when
// two report the same id.
func TestAuditNodeNames(t *testing.T) {
	same := []string{
		serveAudited(t, audited{ColdBackend: history(t, 100, false), id: "x"}),
		serveAudited(t, audited{ColdBackend: history(t, 100, false), id: "x"}),
	}
	n := &testNode{env: map[string]string{"DUALCHAIN_NODE": same[0]}}
	rep := parseJSON[audit.Report](t, n.run(t, "audit", "--node", same[0], "--node", same[1], "--json").ok(t))
	if rep.Nodes[0].ID != same[0] || rep.Nodes[1].ID != same[1] {
		t.Errorf("nodes named %q and %q, want their URLs", rep.Nodes[0].ID, rep.Nodes[1].ID)
	}
	// Without --node, the default node alone.
	rep = parseJSON[audit.Report](t, n.run(t, "audit", "--json").ok(t))
	if len(rep.Nodes) != 1 || rep.Nodes[0].ID != "x" || rep.Nodes[0].URL != same[0] {
		t.Errorf("audit without --node = %+v, want $DUALCHAIN_NODE's node x", rep.Nodes)
	}
}

// clusterOf writes the cluster.json of a cluster whose nodes n1, n2, ...
// are at urls, and returns its directory.
func clusterOf(t *testing.T, urls ...string) string {
	t.Helper()
	dir := t.TempDir()
	var nodes []any
	for i, u := range urls {
		id := "n" + string(rune('1'+i))
		nodes = append(nodes, map[string]any{
			"id": id, "edge": false, "url": u, "raft": "127.0.0.1:1", "data": filepath.Join(dir, id),
			"pid": 0, "args": []string{"/usr/bin/dualchain", "node"}, "redis": nil,
		})
	}
	data, err := json.Marshal(map[string]any{
		"chain_id": apitest.ChainID, "store": "memory", "admin_token": "00112233445566778899aabbccddeeff",
		"binary": "/usr/bin/dualchain", "redis_server": "", "nodes": nodes,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, localcluster.ManifestFile), data, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}
