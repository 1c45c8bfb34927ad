package audit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
)

// Target is one node to audit.
type Target struct {
	ID  string // the cluster's name for it; "" outside a cluster
	URL string
}

// Node is one node as the audit saw it.
type Node struct {
	ID    string     `json:"id"`
	URL   string     `json:"url"`
	Audit *api.Audit `json:"audit,omitempty"`
	Error string     `json:"error,omitempty"`
}

// Check is one row of the verdict table.
type Check struct {
	Check  string `json:"check"`
	Node   string `json:"node"` // the node's id, or "all" for a check across nodes
	Pass   bool   `json:"pass"`
	Detail string `json:"detail"`
}

// Report is the whole audit: what 'dualchain audit --json' prints.
type Report struct {
	Pass   bool    `json:"pass"`
	Nodes  []Node  `json:"nodes"`
	Checks []Check `json:"checks"`
}

// Failed counts the checks that failed.
func (r Report) Failed() int {
	n := 0
	for _, c := range r.Checks {
		if !c.Pass {
			n++
		}
	}
	return n
}

// The audit's checks, as Check.Check names them.
const (
	CheckReachable    = "reachable"
	CheckConservation = "conservation"
	CheckBadBalances  = "no bad balances"
	CheckMirror       = "mirror"
	CheckColdRoots    = "cold roots equal"
	CheckHotCommits   = "hot commitments equal"
)

// Run audits targets; each round of requests to the nodes (audits, then
// cold blocks, then hot blocks) is bounded by timeout.
func Run(ctx context.Context, timeout time.Duration, targets []Target) Report {
	nodes := fetchAudits(ctx, timeout, targets)
	var checks []Check
	for _, n := range nodes {
		checks = append(checks, NodeChecks(n)...)
	}
	checks = append(checks, compareCold(ctx, timeout, nodes), compareHot(ctx, timeout, nodes))
	return Report{Pass: !failed(checks), Nodes: nodes, Checks: checks}
}

func failed(checks []Check) bool {
	for _, c := range checks {
		if !c.Pass {
			return true
		}
	}
	return false
}

// fetchAudits asks every target for its audit, all at once.
func fetchAudits(ctx context.Context, timeout time.Duration, targets []Target) []Node {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nodes := make([]Node, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			n := Node{ID: t.ID, URL: t.URL}
			au, err := client.New(t.URL).Audit(ctx)
			if err != nil {
				n.Error = DescribeError(err)
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
func nameNodes(nodes []Node) {
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

// DescribeError tells why a node did not answer, in one line: the node's
// message and code, or the error.
func DescribeError(err error) string {
	var ce *client.Error
	if errors.As(err, &ce) {
		return fmt.Sprintf("%s (%s)", ce.Message, ce.Code)
	}
	return err.Error()
}

// NodeChecks are one node's own checks: reachable, then, if it answered,
// conservation, no bad balances and mirror.
func NodeChecks(n Node) []Check {
	if n.Audit == nil {
		return []Check{{CheckReachable, n.ID, false, "no audit from " + n.URL + ": " + n.Error}}
	}
	au := n.Audit
	return []Check{
		{CheckReachable, n.ID, true, fmt.Sprintf("%s at applied index %d, hot height %d, cold height %d", n.URL, au.AppliedIndex, au.HotHeight, au.ColdHeight)},
		{CheckConservation, n.ID, au.Conserved(), Conservation(au)},
		{CheckBadBalances, n.ID, au.BadBalances == 0, fmt.Sprintf("%d bad among %d hot and %d cold accounts", au.BadBalances, au.HotAccounts, au.ColdAccounts)},
		{CheckMirror, n.ID, au.MirrorMismatches == 0, fmt.Sprintf("%d hot keys differ from the cold mirror plus the writes since the checkpoint", au.MirrorMismatches)},
	}
}

// Conservation shows the sum the conservation check adds up.
func Conservation(au *api.Audit) string {
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
