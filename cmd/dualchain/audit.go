package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/dualchain/dualchain/ledger"
	"github.com/spf13/cobra"
)

// auditTarget is one node to audit.
type auditTarget struct {
	id  string // the cluster's name for it; "" outside a cluster
	url string
}

// auditNode is one node as the audit saw it.
type auditNode struct {
	ID    string     `json:"id"`
	URL   string     `json:"url"`
	Audit *api.Audit `json:"audit,omitempty"`
	Error string     `json:"error,omitempty"`
}

// auditCheck is one row of the verdict table.
type auditCheck struct {
	Check  string `json:"check"`
	Node   string `json:"node"` // the node's id, or "all" for a check across nodes
	Pass   bool   `json:"pass"`
	Detail string `json:"detail"`
}

// auditReport is the whole audit: what 'audit --json' prints.
type auditReport struct {
	Pass   bool         `json:"pass"`
	Nodes  []auditNode  `json:"nodes"`
	Checks []auditCheck `json:"checks"`
}

// The audit's checks.
const (
	checkReachable    = "reachable"
	checkConservation = "conservation"
	checkBadBalances  = "no bad balances"
	checkMirror       = "mirror"
	checkColdRoots    = "cold roots equal"
	checkHotCommits   = "hot commitments equal"
)

func (a *app) auditCmd() *cobra.Command {
	var nodes []string
	cmd := &cobra.Command{
		Use:   "audit --cluster DIR | --node URL [--node URL...]",
		Short: "Check the chain's invariants on every node and across nodes",
		Long: "Ask every node for its audit (GET /v1/audit) and check, on each node: that it answers;\n" +
			"conservation (hot balances + cold balances + settles in flight + deposits in flight =\n" +
			"the genesis supply); no bad balances; and that its hot state matches the cold mirror plus\n" +
			"the writes since the last checkpoint. Across nodes: at the lowest cold height any node\n" +
			"has, every node's cold block there has the same state root and header hash; at the lowest\n" +
			"hot height, every node's hot block has the same commitment and hash. Prints one row per\n" +
			"check with PASS or FAIL; exits 1 if any check fails (a node that does not answer fails).\n" +
			"The nodes are every node of the cluster in --cluster, or each --node; --json prints the\n" +
			"whole report.",
		Example: "  dualchain audit --cluster ./lc\n" +
			"  dualchain audit --node http://127.0.0.1:8545 --node http://127.0.0.1:8546 --json",
		Args: noArgs,
		// The root's hook picks one node; the audit wants them all.
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE: func(cmd *cobra.Command, _ []string) error {
			targets, err := a.auditTargets(nodes)
			if err != nil {
				return err
			}
			return a.printAudit(runAudit(cmd.Context(), a.timeout, targets))
		},
	}
	cmd.Flags().StringArrayVar(&nodes, "node", nil, "URL of a node to audit; repeat for each ($DUALCHAIN_NODE sets the default)")
	return cmd
}

// auditTargets returns the nodes of --cluster, or each --node, or the
// default node.
func (a *app) auditTargets(nodes []string) ([]auditTarget, error) {
	switch {
	case a.clusterDir != "" && len(nodes) > 0:
		return nil, usageErrorf("give --node or --cluster, not both")
	case a.clusterDir != "":
		return clusterTargets(a.clusterDir)
	case len(nodes) == 0:
		if def := a.getenv("DUALCHAIN_NODE"); def != "" {
			nodes = []string{def}
		} else {
			nodes = []string{defaultNode}
		}
	}
	targets := make([]auditTarget, len(nodes))
	for i, n := range nodes {
		u, err := normalizeNodeURL(n)
		if err != nil {
			return nil, err
		}
		targets[i] = auditTarget{url: u}
	}
	return targets, nil
}

func clusterTargets(dir string) ([]auditTarget, error) {
	c, err := localcluster.Load(dir)
	if errors.Is(err, localcluster.ErrNoCluster) {
		return nil, failf("no_cluster", "no cluster in %s (it has no %s)", dir, localcluster.ManifestFile)
	}
	if err != nil {
		return nil, clusterError(err)
	}
	var targets []auditTarget
	for _, n := range c.Nodes() {
		targets = append(targets, auditTarget{id: n.ID, url: n.URL})
	}
	return targets, nil
}

// runAudit audits targets; each round of requests to the nodes (audits,
// then cold blocks, then hot blocks) is bounded by timeout.
func runAudit(ctx context.Context, timeout time.Duration, targets []auditTarget) auditReport {
	nodes := fetchAudits(ctx, timeout, targets)
	var checks []auditCheck
	for _, n := range nodes {
		checks = append(checks, nodeChecks(n)...)
	}
	checks = append(checks, compareCold(ctx, timeout, nodes), compareHot(ctx, timeout, nodes))
	r := auditReport{Pass: true, Nodes: nodes, Checks: checks}
	for _, c := range checks {
		r.Pass = r.Pass && c.Pass
	}
	return r
}

// fetchAudits asks every target for its audit, all at once.
func fetchAudits(ctx context.Context, timeout time.Duration, targets []auditTarget) []auditNode {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nodes := make([]auditNode, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			n := auditNode{ID: t.id, URL: t.url}
			au, err := client.New(t.url).Audit(ctx)
			if err != nil {
				n.Error = describeNodeError(err)
			} else {
				n.Audit = &au
			}
			nodes[i] = n
		})
	}
	wg.Wait()
	nameNodes(nodes)
	return nodes
}

// nameNodes names the nodes outside a cluster by the ids they report, or
// by their URLs where a node reports none or two report the same.
func nameNodes(nodes []auditNode) {
	seen := map[string]int{}
	for _, n := range nodes {
		if n.Audit != nil {
			seen[n.Audit.NodeID]++
		}
	}
	for i, n := range nodes {
		switch {
		case n.ID != "":
		case n.Audit != nil && n.Audit.NodeID != "" && seen[n.Audit.NodeID] == 1:
			nodes[i].ID = n.Audit.NodeID
		default:
			nodes[i].ID = n.URL
		}
	}
}

// describeNodeError tells why a node did not answer, in one line.
func describeNodeError(err error) string {
	var ce *client.Error
	if errors.As(err, &ce) {
		return fmt.Sprintf("%s (%s)", ce.Message, ce.Code)
	}
	return err.Error()
}

// nodeChecks are one node's own checks.
func nodeChecks(n auditNode) []auditCheck {
	if n.Audit == nil {
		return []auditCheck{{checkReachable, n.ID, false, "no audit from " + n.URL + ": " + n.Error}}
	}
	au := n.Audit
	return []auditCheck{
		{checkReachable, n.ID, true, fmt.Sprintf("%s at applied index %d, hot height %d, cold height %d", n.URL, au.AppliedIndex, au.HotHeight, au.ColdHeight)},
		{checkConservation, n.ID, au.Conserved(), conservation(au)},
		{checkBadBalances, n.ID, au.BadBalances == 0, fmt.Sprintf("%d bad among %d hot and %d cold accounts", au.BadBalances, au.HotAccounts, au.ColdAccounts)},
		{checkMirror, n.ID, au.MirrorMismatches == 0, fmt.Sprintf("%d hot keys differ from the cold mirror plus the writes since the checkpoint", au.MirrorMismatches)},
	}
}

// conservation shows the sum the conservation check adds up.
func conservation(au *api.Audit) string {
	var sum uint64
	overflow := false
	for _, v := range []uint64{au.HotBalances, au.ColdBalances, au.InFlightSettles, au.InFlightDeposits} {
		overflow = overflow || sum+v < sum
		sum += v
	}
	total, rel := fmt.Sprint(sum), "="
	switch {
	case overflow:
		total, rel = "more than 2^64", "≠"
	case sum != au.Supply:
		rel = "≠"
	}
	s := fmt.Sprintf("hot %d + cold %d + settling %d + depositing %d = %s %s supply %d",
		au.HotBalances, au.ColdBalances, au.InFlightSettles, au.InFlightDeposits, total, rel, au.Supply)
	if au.BadBalances != 0 {
		s += fmt.Sprintf(", but %d balances are bad: the sums cannot be trusted", au.BadBalances)
	}
	return s
}

// answered returns the nodes that gave an audit.
func answered(nodes []auditNode) []auditNode {
	var out []auditNode
	for _, n := range nodes {
		if n.Audit != nil {
			out = append(out, n)
		}
	}
	return out
}

// blockID is what two nodes must agree on at one height.
type blockID struct {
	root, hash ledger.Hash
	err        string
}

// compareAt is a check across nodes: at the lowest height any answering
// node reports, fetch each node's block there and compare what fetch
// returns.
func compareAt(ctx context.Context, timeout time.Duration, nodes []auditNode, check, chain, what string,
	height func(*api.Audit) uint64, fetch func(context.Context, *client.Client, uint64) (blockID, error)) auditCheck {
	up := answered(nodes)
	if len(up) == 0 {
		return auditCheck{check, "all", false, "no node answered"}
	}
	h := height(up[0].Audit)
	for _, n := range up {
		h = min(h, height(n.Audit))
	}
	if h == 0 {
		return auditCheck{check, "all", true, fmt.Sprintf("a node has no %s block yet: nothing to compare", chain)}
	}
	ids := fetchBlocks(ctx, timeout, up, h, fetch)
	return judge(check, chain, what, up, h, ids)
}

// fetchBlocks fetches each node's block at height h, all at once.
func fetchBlocks(ctx context.Context, timeout time.Duration, up []auditNode, h uint64,
	fetch func(context.Context, *client.Client, uint64) (blockID, error)) []blockID {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ids := make([]blockID, len(up))
	var wg sync.WaitGroup
	for i, n := range up {
		wg.Go(func() {
			id, err := fetch(ctx, client.New(n.URL), h)
			if err != nil {
				id.err = describeNodeError(err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	return ids
}

// judge passes if every node served its block and all agree.
func judge(check, chain, what string, up []auditNode, h uint64, ids []blockID) auditCheck {
	agree := true
	var each []string
	for i, id := range ids {
		agree = agree && id.err == "" && id.root == ids[0].root && id.hash == ids[0].hash
		if id.err != "" {
			each = append(each, fmt.Sprintf("%s: %s", up[i].ID, id.err))
		} else {
			each = append(each, fmt.Sprintf("%s: %s %s, hash %s", up[i].ID, what, short(id.root), short(id.hash)))
		}
	}
	if agree {
		return auditCheck{check, "all", true, fmt.Sprintf("at %s height %d, %s: %s %s, hash %s",
			chain, h, nodesCount(len(ids)), what, ids[0].root, ids[0].hash)}
	}
	return auditCheck{check, "all", false, fmt.Sprintf("at %s height %d: %s", chain, h, strings.Join(each, "; "))}
}

func nodesCount(n int) string {
	if n == 1 {
		return "1 node"
	}
	return fmt.Sprintf("%d nodes", n)
}

func short(h ledger.Hash) string { return localcluster.ShortHash(h.String()) }

func compareCold(ctx context.Context, timeout time.Duration, nodes []auditNode) auditCheck {
	return compareAt(ctx, timeout, nodes, checkColdRoots, "cold", "state root",
		func(au *api.Audit) uint64 { return au.ColdHeight },
		func(ctx context.Context, c *client.Client, h uint64) (blockID, error) {
			b, err := c.ColdBlock(ctx, h)
			if err != nil {
				return blockID{}, err
			}
			if b.Header.Height != h {
				return blockID{}, fmt.Errorf("asked for cold block %d, got %d", h, b.Header.Height)
			}
			return blockID{root: b.Header.StateRoot, hash: b.Header.Hash()}, nil
		})
}

func compareHot(ctx context.Context, timeout time.Duration, nodes []auditNode) auditCheck {
	return compareAt(ctx, timeout, nodes, checkHotCommits, "hot", "commitment",
		func(au *api.Audit) uint64 { return au.HotHeight },
		func(ctx context.Context, c *client.Client, h uint64) (blockID, error) {
			b, err := c.Block(ctx, h)
			if err != nil {
				return blockID{}, err
			}
			if b.Height != h {
				return blockID{}, fmt.Errorf("asked for hot block %d, got %d", h, b.Height)
			}
			return blockID{root: b.Commitment, hash: b.Hash}, nil
		})
}

// printAudit prints the report, and fails if any check failed.
func (a *app) printAudit(r auditReport) error {
	if a.json {
		if err := a.print(r); err != nil {
			return err
		}
	} else if err := a.auditTable(r); err != nil {
		return err
	}
	failed := 0
	for _, c := range r.Checks {
		if !c.Pass {
			failed++
		}
	}
	if failed > 0 {
		return failf("audit_failed", "%d of %d checks failed", failed, len(r.Checks))
	}
	return nil
}

func (a *app) auditTable(r auditReport) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tNODE\tVERDICT\tDETAIL")
	for _, c := range r.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Check, c.Node, verdict(c.Pass), c.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(a.stdout, "\nverdict: %s\n", verdict(r.Pass))
	return err
}

func verdict(pass bool) string {
	if pass {
		return "PASS"
	}
	return "FAIL"
}
