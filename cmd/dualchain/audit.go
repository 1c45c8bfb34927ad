package main

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/dualchain/dualchain/internal/audit"
	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/spf13/cobra"
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
			return a.printAudit(audit.Run(cmd.Context(), a.timeout, targets))
		},
	}
	cmd.Flags().StringArrayVar(&nodes, "node", nil, "URL of a node to audit; repeat for each ($DUALCHAIN_NODE sets the default)")
	return cmd
}

// auditTargets returns the nodes of --cluster, or each --node, or the
// default node.
func (a *app) auditTargets(nodes []string) ([]audit.Target, error) {
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
	targets := make([]audit.Target, len(nodes))
	for i, n := range nodes {
		u, err := normalizeNodeURL(n)
		if err != nil {
			return nil, err
		}
		targets[i] = audit.Target{URL: u}
	}
	return targets, nil
}

func clusterTargets(dir string) ([]audit.Target, error) {
	c, err := localcluster.Load(dir)
	if errors.Is(err, localcluster.ErrNoCluster) {
		return nil, failf("no_cluster", "no cluster in %s (it has no %s)", dir, localcluster.ManifestFile)
	}
	if err != nil {
		return nil, clusterError(err)
	}
	var targets []audit.Target
	for _, n := range c.Nodes() {
		targets = append(targets, audit.Target{ID: n.ID, URL: n.URL})
	}
	return targets, nil
}

// printAudit prints the report, and fails if any check failed.
func (a *app) printAudit(r audit.Report) error {
	if a.json {
		if err := a.print(r); err != nil {
			return err
		}
	} else if err := a.auditTable(r); err != nil {
		return err
	}
	if failed := r.Failed(); failed > 0 {
		return failf("audit_failed", "%d of %d checks failed", failed, len(r.Checks))
	}
	return nil
}

func (a *app) auditTable(r audit.Report) error {
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
