package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"syscall"

	"github.com/dualchain/dualchain/node"
	"github.com/spf13/cobra"
)

// nodeFlags are the node command's flags beyond node.Config's own fields.
type nodeFlags struct {
	cfg       node.Config
	peers     string
	logStore  string
	timeouts  string
	logLevel  string
	logFormat string
}

func (a *app) nodeCmd() *cobra.Command {
	nf := &nodeFlags{cfg: node.DefaultConfig()}
	nf.cfg.AdminToken = a.getenv("DUALCHAIN_ADMIN_TOKEN")
	cmd := &cobra.Command{
		Use:   "node --data DIR --http ADDR",
		Short: "Run a staking node",
		Long: "Run one staking node: its store, Raft replica, mempool, block producer (while it is the\n" +
			"leader) and HTTP API. Blocks are replicated with Raft; the Raft log and snapshots live in DIR/raft.\n\n" +
			"A node with no Raft state starts a new cluster of the --peers given (give every node of the\n" +
			"new cluster the same list), of itself alone when there are none, or, with --join, asks a\n" +
			"running cluster to add it. After the first start these flags are ignored: the node rejoins\n" +
			"the cluster it belongs to.\n\n" +
			"With --dev, the first start makes a chain: DIR/genesis.json and DIR/faucet.key. Every node\n" +
			"of a cluster needs the same genesis.json (dualchain cluster up does that).\n" +
			"SIGINT or SIGTERM stops it cleanly.",
		Example: "  dualchain node --data ./data --http 127.0.0.1:8545 --dev\n" +
			"  dualchain node --data ./data --store redis --redis redis://127.0.0.1:6379/0 --dev\n" +
			"  dualchain node --data ./n1 --id n1 --http 127.0.0.1:8001 --raft 127.0.0.1:9001 --admin-token $TOKEN \\\n" +
			"      --peers n1=127.0.0.1:9001=http://127.0.0.1:8001,n2=127.0.0.1:9002=http://127.0.0.1:8002,n3=127.0.0.1:9003=http://127.0.0.1:8003\n" +
			"  dualchain node --data ./e1 --id e1 --http 127.0.0.1:8011 --raft 127.0.0.1:9011 --edge \\\n" +
			"      --join http://127.0.0.1:8001 --admin-token $TOKEN",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runNode(cmd.Context(), nf) },
	}
	nf.register(cmd)
	return cmd
}

func (nf *nodeFlags) register(cmd *cobra.Command) {
	c, f := &nf.cfg, cmd.Flags()
	f.StringVar(&c.DataDir, "data", c.DataDir, "data directory (genesis, Raft log and snapshots in raft/, faucet key with --dev)")
	f.StringVar(&c.HTTPAddr, "http", c.HTTPAddr, "address the HTTP API listens on")
	f.StringVar(&c.Store, "store", c.Store, "hot state store: redis, pebble (on disk, in <data>/hotstore, a synced write per block) or memory")
	f.StringVar(&c.RedisURL, "redis", c.RedisURL, "Redis URL, with --store redis")
	f.BoolVar(&c.Dev, "dev", c.Dev, "on first start, make a one-node dev chain with a faucet key")
	f.StringVar(&c.ChainID, "chain-id", c.ChainID, "chain id of a --dev genesis")
	f.DurationVar(&c.BlockInterval, "block-interval", c.BlockInterval, "cut a block when the oldest ready tx has waited this long")
	f.IntVar(&c.MaxBlockTxs, "max-block-txs", c.MaxBlockTxs, "cut a block when this many txs are ready")
	f.Uint64Var(&c.MaxBlockGas, "max-block-gas", c.MaxBlockGas, "or when the ready txs' gas limits add up to this: bounds how long a block of\ncontract calls can take")
	f.StringVar(&c.Exec, "exec", c.Exec, "how calls with a native function run: native, vm (everything in the WebAssembly VM),\nor both (run both ways and fail any call whose results differ, logging both)")
	f.BoolVar(&c.VMTrace, "vm-trace", c.VMTrace, "record a memory trace of every call frame of the calls the VM runs (memory sizes and growth, gas,\nloads and stores per frame; GET /v1/transactions/ID/trace), at a cost in VM speed. Only calls that\nrun in the VM have one: with --exec native, the default, the token's transfer runs natively;\n--exec vm runs every call in the VM. The leader records them; every node serves them")
	f.DurationVar(&c.VM.Deadline, "vm-deadline", c.VM.Deadline, "stop a contract call that runs this long (a backstop: gas stops runaway calls first;\n0 turns it off, which makes loops in contracts up to 20x faster)")
	f.IntVar(&c.MempoolSize, "mempool-size", c.MempoolSize, "most pending txs; beyond, submissions fail with mempool_full")
	f.Uint64Var(&c.NonceWindow, "nonce-window", c.NonceWindow, "how far past its next nonce a sender may submit")
	f.DurationVar(&c.CheckpointInterval, "checkpoint-interval", c.CheckpointInterval, "the leader checkpoints hot state into a cold block this often, while it changes")
	f.DurationVar(&c.ColdBlockInterval, "cold-block-interval", c.ColdBlockInterval, "and makes a cold block this soon when cold transactions wait")
	f.IntVar(&c.MaxColdBlockTxs, "max-cold-block-txs", c.MaxColdBlockTxs, "cold transactions in one cold block, at most")
	f.IntVar(&c.ColdPoolSize, "cold-pool-size", c.ColdPoolSize, "most pending cold transactions; beyond, submissions fail with mempool_full")
	f.StringVar(&c.NodeID, "id", c.NodeID, "this node's id in the cluster: unique, and the same across restarts")
	f.StringVar(&c.RaftAddr, "raft", c.RaftAddr, "host:port the Raft transport listens on and other nodes dial")
	f.StringVar(&c.AdvertiseURL, "advertise", "", "base URL other nodes reach this node's API at (default http:// and the --http address)")
	f.StringVar(&nf.peers, "peers", "", "voters of a new cluster, id=raftaddr=url,... (the same list on each; this node among them)")
	f.StringVar(&c.Join, "join", "", "API URL of a node of a running cluster to join (needs --admin-token)")
	f.BoolVar(&c.Edge, "edge", false, "join as an edge node: a non-voter that holds the state, serves reads and forwards\ntransactions, without slowing consensus")
	f.StringVar(&c.AdminToken, "admin-token", c.AdminToken, "token guarding /v1/admin and forwarding between nodes; the same on every node\n($DUALCHAIN_ADMIN_TOKEN sets the default)")
	f.IntVar(&c.MaxInFlight, "max-in-flight", c.MaxInFlight, "blocks the leader may have proposed and not yet applied")
	f.Uint64Var(&c.Raft.SnapshotThreshold, "snapshot-threshold", c.Raft.SnapshotThreshold, "take a Raft snapshot after this many new log entries")
	f.Uint64Var(&c.Raft.TrailingLogs, "trailing-logs", c.Raft.TrailingLogs, "log entries kept after a snapshot, for followers that lag")
	f.DurationVar(&c.Raft.SnapshotInterval, "snapshot-interval", c.Raft.SnapshotInterval, "how often the snapshot threshold is checked")
	f.IntVar(&c.Raft.WALSegmentBytes, "wal-segment-bytes", c.Raft.WALSegmentBytes, "with --raft-log wal, the size of its segment files (0: 64 MiB); compaction drops whole\nsegments")
	f.StringVar(&nf.timeouts, "raft-timeouts", "loopback", "Raft failure-detection timeouts: loopback (nodes on one machine; a failed leader\nis replaced in under a second) or lan (hashicorp/raft's defaults)")
	f.StringVar(&nf.logStore, "raft-log", string(c.Raft.LogStore), "Raft log store: bolt (raft-boltdb) or wal (hashicorp/raft-wal: faster, but v0.4.0\ncannot append after a crash at one moment of a segment's rotation)")
	f.BoolVar(&c.Pprof, "pprof", c.Pprof, "serve Go's net/http/pprof profiles under /debug/pprof/ on the --http listener, with no\nauthentication: for profiling a node on loopback only (go tool pprof http://ADDR/debug/pprof/profile)")
	f.DurationVar(&c.HeaderTimeout, "header-timeout", c.HeaderTimeout, "close an API connection whose client has not sent a request's headers within this time")
	f.IntVar(&c.MaxConns, "max-conns", c.MaxConns, "API connections served at once; more wait to be accepted (in the kernel's backlog)")
	f.DurationVar(&c.DebugAPIDelay, "debug-api-delay", 0, "dev nodes only (--dev): hold every /v1/ request this long before serving it, to measure\nclients against a slow API (e.g. 200ms)")
	f.StringVar(&nf.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&nf.logFormat, "log-format", "text", "log format: text or json")
}

// config returns the node configuration the flags describe, with a logger
// writing to w.
func (nf *nodeFlags) config(w io.Writer) (node.Config, error) {
	logger, err := newLogger(w, nf.logLevel, nf.logFormat)
	if err != nil {
		return node.Config{}, err
	}
	cfg := nf.cfg
	cfg.Logger = logger
	if cfg.Peers, err = node.ParsePeers(nf.peers); err != nil {
		return node.Config{}, usageErrorf("--peers: %v", err)
	}
	cfg.Raft.LogStore = node.RaftLogStore(nf.logStore)
	if err := cfg.RaftTimeouts(nf.timeouts); err != nil {
		return node.Config{}, usageErrorf("--raft-timeouts: %v", err)
	}
	if cfg.DebugAPIDelay != 0 && !cfg.Dev {
		return node.Config{}, usageErrorf("--debug-api-delay is for dev nodes only: give --dev as well")
	}
	if err := cfg.Validate(); err != nil {
		return node.Config{}, usageErrorf("%v", err)
	}
	return cfg, nil
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageErrorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageErrorf("--log-format %q: want text or json", format)
}

// runNode runs the node until SIGINT or SIGTERM.
func (a *app) runNode(ctx context.Context, nf *nodeFlags) error {
	cfg, err := nf.config(a.stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	n, err := node.New(ctx, cfg)
	if err != nil {
		return fmt.Errorf("start node: %w", err)
	}
	if err := n.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("node: %w", err)
	}
	return nil
}
