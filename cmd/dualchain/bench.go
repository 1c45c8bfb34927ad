package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/dualchain/dualchain/internal/bench"
	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/dualchain/dualchain/ledger"
	"github.com/spf13/cobra"
)

// benchFlags are bench's own flags beside bench.Config.
type benchFlags struct {
	nodes  []string // --node, repeatable: the target's nodes
	key    string   // funds the accounts on a --node target
	voters int      // --nodes of a cluster bench starts itself
	store  string
	dir    string
	study  bool
	report string
}

func (a *app) benchCmd() *cobra.Command {
	cfg := bench.DefaultConfig()
	var o benchFlags
	cmd := &cobra.Command{
		Use:   "bench [--workload native] [--duration 10s] [--nodes 1 | --cluster DIR | --node URL...]",
		Short: "Load a cluster with signed transactions and measure what it commits",
		Long: "Create and fund --accounts fresh accounts from the faucet, sign the whole workload before the\n" +
			"clock starts (signing is the client's cost, not the chain's), then for --duration submit batches\n" +
			"of --batch transactions with ?wait=commit from a pool of --concurrency workers over keep-alive\n" +
			"connections, to the leader. Only committed transactions with an ok receipt count. With --rate\n" +
			"the batches are offered at that many transactions/s (an open loop; latency runs from when a\n" +
			"batch was due); without, each worker sends its next batch as soon as the last commits. A live\n" +
			"line shows committed tx/s, in flight and errors; the end is a table of committed tx/s, latency\n" +
			"percentiles (HDR histogram, per transaction), receipts by execution path and errors by kind, and\n" +
			"the run as a fraction of this machine's signature-verification limit (ledger.VerifyBatch on every\n" +
			"core, measured in the same run before the load). --json prints all of it as one JSON object.\n\n" +
			"Workloads: native (token transfers, run natively), vm (the same transfers on nodes started with\n" +
			"--exec vm), contract (calls of the example registry, in the VM), cold (cold-chain transfers),\n" +
			"mixed (hot transfers with a settle and a deposit in every 20).\n\n" +
			"Target: with --cluster DIR or --node URL (repeatable; --key funds the accounts) it loads a running\n" +
			"cluster; otherwise it starts its own local cluster of --nodes nodes on --store, in a temporary\n" +
			"directory (or --dir), and stops it at the end.\n\n" +
			"--study reproduces the scaling study's table in one run, each row on a cluster of its own: VM and\n" +
			"native on disk state (the Pebble hot store, a synced write per block), native on Redis, native on\n" +
			"a 3-node Redis cluster, and VM on Redis, beside the study's 10.24, 724.65 and 4,820 transfers/s.\n" +
			"--report DIR runs the study and the scaling runs behind docs/performance.md and writes it there.",
		Example: "  dualchain bench\n" +
			"  dualchain bench --nodes 3 --workload native --duration 20s --json\n" +
			"  dualchain bench --cluster ./lc --workload mixed --rate 10000\n" +
			"  dualchain bench --node http://127.0.0.1:8545 --key ./data/faucet.key --workload contract\n" +
			"  dualchain bench --study",
		Args: noArgs,
		// bench resolves its own target.
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE:              func(cmd *cobra.Command, _ []string) error { return a.bench(cmd, cfg, o) },
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Workload, "workload", cfg.Workload, "what to send: "+strings.Join(bench.Workloads, ", "))
	f.DurationVar(&cfg.Duration, "duration", cfg.Duration, "how long to submit (each row's, with --study)")
	f.IntVar(&cfg.Accounts, "accounts", cfg.Accounts, "fresh accounts funded from the faucet, the senders")
	f.IntVar(&cfg.Concurrency, "concurrency", cfg.Concurrency, "requests in flight at most: the worker pool's size")
	f.IntVar(&cfg.Batch, "batch", cfg.Batch, fmt.Sprintf("transactions per request, 1 to %d", bench.MaxBatch))
	f.Float64Var(&cfg.Rate, "rate", 0, "offer this many transactions/s (an open loop); 0 sends as fast as they commit")
	f.IntVar(&cfg.StateAccounts, "state-accounts", 0, "grow the hot state to this many accounts before the clock starts")
	f.IntVar(&cfg.Presign, "presign", 0, fmt.Sprintf("transactions to sign before the clock starts (default: --duration at --rate, or at %s/s)", "60,000"))
	f.StringArrayVar(&o.nodes, "node", nil, "URL of a node of the cluster to load (repeatable); the load goes to the leader")
	f.StringVar(&o.key, "key", "", "key file that funds the accounts (default with --cluster: the cluster's faucet.key)")
	f.IntVar(&o.voters, "nodes", 1, "voting nodes of the cluster bench starts (when no --cluster or --node is given)")
	f.StringVar(&o.store, "store", "", "hot store of the cluster bench starts: redis, memory or pebble\n(default: redis when redis-server is installed)")
	f.StringVar(&o.dir, "dir", "", "directory of the cluster bench starts, empty or absent (default: a temporary one, removed)")
	f.BoolVar(&o.study, "study", false, "reproduce the study's table, each row on a cluster bench starts")
	f.StringVar(&o.report, "report", "", "run the study and the scaling runs and write DIR/performance.md and its plots")
	return cmd
}

func (a *app) bench(cmd *cobra.Command, cfg bench.Config, o benchFlags) error {
	if err := cfg.Validate(); err != nil {
		return usageErrorf("%v", err)
	}
	own := len(o.nodes) == 0 && a.clusterDir == ""
	switch {
	case len(o.nodes) > 0 && a.clusterDir != "":
		return usageErrorf("give --node or --cluster, not both")
	case (o.study || o.report != "") && !own:
		return usageErrorf("--study and --report start clusters of their own: drop --node and --cluster")
	case (o.study || o.report != "") && (changed(cmd, "nodes", "store", "workload", "dir", "rate", "state-accounts")):
		return usageErrorf("--study and --report choose each run's nodes, store, workload and load themselves: " +
			"give only --duration, --accounts, --concurrency, --batch or --presign")
	case !own && changed(cmd, "nodes", "store", "dir"):
		return usageErrorf("--nodes, --store and --dir describe a cluster bench starts: not with --node or --cluster")
	case o.voters < 1:
		return usageErrorf("--nodes %d: want at least 1", o.voters)
	}
	if _, _, _, err := localcluster.PickStore(o.store); err != nil {
		return clusterError(err)
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	live := a.stderr
	switch {
	case o.study:
		return a.benchStudy(ctx, cfg)
	case o.report != "":
		return a.benchReport(ctx, cfg, o.report)
	case own:
		return a.benchOwn(ctx, cfg, o)
	}
	t, err := a.benchTarget(o)
	if err != nil {
		return err
	}
	res, err := bench.Run(ctx, t, cfg, bench.Options{Live: live})
	if err != nil {
		return benchError(err)
	}
	return a.benchPrint(res)
}

// changed reports whether any of the flags was given.
func changed(cmd *cobra.Command, names ...string) bool {
	for _, n := range names {
		if cmd.Flags().Changed(n) {
			return true
		}
	}
	return false
}

// benchTarget is the running cluster --cluster or --node names, with the
// key that funds the accounts.
func (a *app) benchTarget(o benchFlags) (bench.Target, error) {
	var t bench.Target
	if a.clusterDir != "" {
		c, err := localcluster.Load(a.clusterDir)
		if err != nil {
			return t, failf("no_cluster", "--cluster %s: %v", a.clusterDir, err)
		}
		if t, err = bench.ClusterTarget(c); err != nil {
			return t, err
		}
	}
	for _, n := range o.nodes {
		u, err := normalizeNodeURL(n)
		if err != nil {
			return t, err
		}
		t.URLs = append(t.URLs, u)
	}
	if o.key != "" {
		k, err := ledger.LoadKeyFile(o.key)
		if err != nil {
			return t, usageErrorf("--key: %v", err)
		}
		t.Faucet = k
	}
	if t.Faucet == nil {
		return t, usageErrorf("--node needs --key: the key file that funds the accounts (a dev node's is DATA/faucet.key)")
	}
	return t, nil
}

// benchOwn starts a cluster, runs cfg on it and stops it.
func (a *app) benchOwn(ctx context.Context, cfg bench.Config, o benchFlags) error {
	bin, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this binary: %w", err)
	}
	store, _, why, _ := localcluster.PickStore(o.store) // checked by bench
	fmt.Fprintf(a.stderr, "starting a local cluster of %d node(s), %s store (%s)\n", o.voters, store, why)
	c, t, err := bench.StartCluster(ctx, bench.ClusterOptions{Binary: bin, Dir: o.dir, Nodes: o.voters, Store: store, Exec: execFor(cfg.Workload), Log: a.progress()})
	if err != nil {
		return clusterError(err)
	}
	res, err := bench.Run(ctx, t, cfg, bench.Options{Live: a.stderr})
	if stopErr := c.Stop(context.WithoutCancel(ctx)); stopErr != nil {
		fmt.Fprintf(a.stderr, "stopping the cluster in %s: %v\n", c.Dir(), stopErr)
	}
	if err != nil {
		return benchError(err)
	}
	return a.benchPrint(res)
}

// execFor is the --exec a cluster needs for workload: vm for the vm
// workload, native for the others.
func execFor(workload string) string {
	if workload == bench.VM {
		return "vm"
	}
	return "native"
}

func (a *app) benchPrint(res bench.Result) error {
	if a.json {
		return a.print(res)
	}
	return bench.WriteResult(a.stdout, res)
}

// benchStudy runs the study's rows and prints its table.
func (a *app) benchStudy(ctx context.Context, cfg bench.Config) error {
	bin, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this binary: %w", err)
	}
	redis, _, why, _ := localcluster.PickStore("")
	fmt.Fprintf(a.stderr, "the study's table, each row on a local cluster of its own; Redis rows on %s (%s)\n", redis, why)
	s, err := bench.RunStudy(ctx, bench.StudyOptions{Binary: bin, Config: cfg, Live: a.stderr, Redis: redis})
	if err != nil {
		return benchError(err)
	}
	if a.json {
		return a.print(s)
	}
	return bench.WriteStudy(a.stdout, s)
}

// benchError gives bench's errors their codes.
func benchError(err error) error {
	switch {
	case errors.Is(err, bench.ErrBadConfig):
		return usageErrorf("%v", err)
	case errors.Is(err, bench.ErrWrongExec):
		return failf("wrong_exec", "%v", err)
	case errors.Is(err, bench.ErrNoLeader):
		return failf("no_leader", "%v", err)
	case errors.Is(err, context.Canceled):
		return failf("interrupted", "the run was interrupted")
	}
	return clusterError(err)
}
