package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/dualchain/dualchain/internal/demo"
	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/dualchain/dualchain/internal/progress"
	"github.com/spf13/cobra"
)

func (a *app) demoCmd() *cobra.Command {
	cfg := demo.DefaultConfig()
	cmd := &cobra.Command{
		Use:   "demo [--nodes 3] [--dir DIR] [--keep] [--store redis|memory|pebble]",
		Short: "The whole story on a local cluster, narrated and verified, in about a minute",
		Long: "Start a local cluster of node processes (as 'cluster up' does: a redis-server per node when\n" +
			"redis-server is installed, else the embedded store, which it says at the start), then, step by\n" +
			"step, with the figures it measures: fund accounts from the faucet and send a burst of signed hot\n" +
			"transfers; deploy the example WebAssembly contract and call it beside the native token; settle\n" +
			"to the cold chain and check the Merkle proof offline; deposit back; kill the leader with SIGKILL\n" +
			"under load; wipe a follower's Redis; kill and restart the whole cluster from disk; and audit\n" +
			"every node, checking that no acknowledged transaction was lost or applied twice. It ends with a\n" +
			"verdict table and exits 1 if any step or check failed.\n\n" +
			"The cluster lives in a new temporary directory, or in --dir DIR (empty or absent). At the end,\n" +
			"or on Ctrl-C, every process it started is stopped by PID and the temporary directory removed\n" +
			"(kept, with the nodes' logs, if something failed); with --keep the cluster is left running and\n" +
			"the commands to go on by hand are printed. --json prints the report as one JSON object on\n" +
			"stdout (the narration then goes to stderr).",
		Example: "  dualchain demo\n" +
			"  dualchain demo --keep --dir ./lc      # then: dualchain --cluster ./lc status\n" +
			"  dualchain demo --store memory --json > report.json",
		Args: noArgs,
		// The demo starts its own cluster: no node to pick.
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE:              func(cmd *cobra.Command, _ []string) error { return a.demo(cmd, cfg) },
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Nodes, "nodes", cfg.Nodes, fmt.Sprintf("voting nodes, %d to %d", demo.MinNodes, demo.MaxNodes))
	f.StringVar(&cfg.Dir, "dir", "", "the cluster's directory, empty or absent (default: a new temporary directory)")
	f.BoolVar(&cfg.Keep, "keep", false, "leave the cluster running at the end, and print how to use it")
	f.StringVar(&cfg.Store, "store", "", "hot state store: redis, memory, or pebble (on disk, a synced write per block)\n(default: redis when redis-server is installed)")
	f.IntVar(&cfg.Transfers, "transfers", cfg.Transfers, "hot transfers in the burst of step 2")
	return cmd
}

func (a *app) demo(cmd *cobra.Command, cfg demo.Config) error {
	bin, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this binary: %w", err)
	}
	cfg.Binary, cfg.Command = bin, commandName()
	cfg.Out = a.stdout
	if a.json {
		cfg.Out = a.stderr
	}
	cfg.Progress = progress.New(cfg.Out, "   ")
	if err := cfg.Validate(); err != nil {
		return demoError(err)
	}
	// Ctrl-C (or SIGTERM, or the terminal closing) ends the step under way;
	// the demo then stops its cluster before it returns.
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	rep, err := demo.Run(ctx, cfg)
	if a.json && (err == nil || errors.Is(err, demo.ErrFailed)) {
		if perr := a.print(rep); perr != nil {
			return perr
		}
	}
	return demoError(err)
}

// demoError gives the demo's errors their codes.
func demoError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, demo.ErrBadConfig), errors.Is(err, localcluster.ErrBadOptions):
		return usageErrorf("%v", err)
	case errors.Is(err, localcluster.ErrNoRedisServer):
		return failf("no_redis_server", "%v", err)
	case errors.Is(err, context.Canceled):
		return failf("interrupted", "the demo was interrupted: the verdict table shows how far it got")
	case errors.Is(err, demo.ErrFailed):
		return failf("demo_failed", "%v (the verdict table says which)", err)
	}
	return err
}

// commandName is how the user ran this binary, for the commands the demo
// prints: the path typed (bin/dualchain), or dualchain when found on PATH.
func commandName() string {
	if len(os.Args) == 0 || os.Args[0] == "" {
		return "dualchain"
	}
	return os.Args[0]
}
