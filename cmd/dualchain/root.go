package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/spf13/cobra"
)

// defaultNode is the node URL when neither --node nor $DUALCHAIN_NODE is set.
const defaultNode = "http://127.0.0.1:8545"

// app holds what every command shares: output streams and global flags.
type app struct {
	stdout, stderr io.Writer
	getenv         func(string) string

	nodeURL    string
	clusterDir string
	json       bool
	timeout    time.Duration
}

// run executes the command line args and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &app{stdout: stdout, stderr: stderr, getenv: getenv}
	root := a.rootCmd()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	msg, code, exit := a.describe(err)
	fmt.Fprintf(stderr, "error: %s (%s)\n", msg, code)
	return exit
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "dualchain",
		Short: "dualchain: a hot/cold dual-chain node and its command-line client",
		Example: `  dualchain node --data ./data --http 127.0.0.1:8545 --dev
  dualchain keys new --out alice.key
  dualchain transfer --key ./data/faucet.key --to alice.key --amount 100 --wait
  dualchain settle --key alice.key --amount 40 --wait
  dualchain bridge status $ID --wait
  dualchain audit --cluster ./lc
  dualchain status --json`,
		Args:          noArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE:          func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if a.clusterDir != "" {
				if cmd.Flags().Changed("node") {
					return usageErrorf("give --node or --cluster, not both")
				}
				return a.pickClusterNode(cmd.Context())
			}
			var err error
			a.nodeURL, err = normalizeNodeURL(a.nodeURL)
			return err
		},
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErrorf("%v", err) })
	root.SetHelpCommand(helpCmd())
	a.globalFlags(root)
	root.AddCommand(a.nodeCmd(), a.keysCmd(), a.transferCmd(), a.balanceCmd(),
		a.deployCmd(), a.callCmd(), a.txCmd(), a.statusCmd(), a.versionCmd(), a.clusterCmd(),
		a.settleCmd(), a.depositCmd(), a.bridgeCmd(), a.coldCmd(), a.proofCmd(), a.auditCmd(),
		a.demoCmd(), a.benchCmd(), a.exportCmd())
	return root
}

func (a *app) globalFlags(root *cobra.Command) {
	def := a.getenv("DUALCHAIN_NODE")
	if def == "" {
		def = defaultNode
	}
	f := root.PersistentFlags()
	f.StringVar(&a.nodeURL, "node", def, "URL of the node's HTTP API; $DUALCHAIN_NODE sets the default")
	f.StringVar(&a.clusterDir, "cluster", "", "talk to any live node of the local cluster in this directory (its cluster.json)")
	f.BoolVar(&a.json, "json", false, "print machine-readable JSON on stdout")
	f.DurationVar(&a.timeout, "timeout", 30*time.Second, "give up on the node after this long")
}

func helpCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "help [command]",
		Short:   "Help about any command",
		Example: "  dualchain help transfer",
		RunE: func(cmd *cobra.Command, args []string) error {
			target, _, err := cmd.Root().Find(args)
			if err != nil || target == nil {
				return usageErrorf("unknown help topic %q", args)
			}
			return target.Help()
		},
	}
}

// noArgs rejects positional arguments, naming an unknown command as such.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.HasSubCommands() {
		return usageErrorf("unknown command %q for %q (see '%s --help')", args[0], cmd.CommandPath(), cmd.CommandPath())
	}
	return usageErrorf("%s takes no arguments, got %q", cmd.CommandPath(), args)
}

// exactArgs wants n positional arguments, described by what.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("%s wants %s (see '%s --help')", cmd.CommandPath(), what, cmd.CommandPath())
		}
		return nil
	}
}

// minArgs wants at least n positional arguments, described by what.
func minArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usageErrorf("%s wants %s (see '%s --help')", cmd.CommandPath(), what, cmd.CommandPath())
		}
		return nil
	}
}

// pickClusterNode points the client at the first node of the cluster in
// --cluster that answers: any node will do, followers forward to the leader.
func (a *app) pickClusterNode(ctx context.Context) error {
	c, err := localcluster.Load(a.clusterDir)
	if err != nil {
		return failf("no_cluster", "--cluster %s: %v", a.clusterDir, err)
	}
	for _, n := range c.Nodes() {
		sctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := client.New(n.URL).Status(sctx)
		cancel()
		if err == nil {
			a.nodeURL = n.URL
			return nil
		}
	}
	return failf("unreachable", "no node of the cluster in %s answers (dualchain cluster status --dir %s)", a.clusterDir, a.clusterDir)
}

// client returns a client for --node and a context bounded by --timeout.
func (a *app) client(cmd *cobra.Command) (*client.Client, context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(cmd.Context(), a.timeout)
	return client.New(a.nodeURL), ctx, cancel
}

// normalizeNodeURL accepts host:port as http://host:port and checks that
// the URL names an http(s) host.
func normalizeNodeURL(s string) (string, error) {
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", usageErrorf("--node %q: want a URL like %s", s, defaultNode)
	}
	return s, nil
}
