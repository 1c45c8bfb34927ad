package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/spf13/cobra"
)

// clusterOpts are the cluster commands' flags.
type clusterOpts struct {
	dir          string
	nodes, edges int
	store        string
	nodeArgs     []string
	edge         bool
}

func (a *app) clusterCmd() *cobra.Command {
	o := &clusterOpts{}
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Run a local cluster of node processes",
		Long: "Start, inspect, break and stop a cluster of dualchain nodes on this machine: each node a\n" +
			"process of this binary with its own data dir, ports and (when redis-server is installed)\n" +
			"its own redis-server, all on 127.0.0.1. DIR/cluster.json records the nodes, their URLs and\n" +
			"PIDs; DIR/faucet.key holds the whole supply. NODE is n1, n2, ... (voters) or e1, ... (edge\n" +
			"nodes). Processes are stopped by PID, and only while the PID is still the recorded process.",
		Example: "  dualchain cluster up --nodes 3 --dir ./lc\n" +
			"  dualchain cluster status --dir ./lc\n" +
			"  dualchain cluster kill n1 --dir ./lc\n" +
			"  dualchain cluster down --dir ./lc",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.PersistentFlags().StringVar(&o.dir, "dir", "", "the cluster's directory (holds cluster.json)")
	cmd.AddCommand(a.clusterUpCmd(o), a.clusterStatusCmd(o), a.clusterAddCmd(o), a.clusterDownCmd(o),
		a.clusterNodeCmd(o, "kill", "Kill a node's process with SIGKILL, as a crash would",
			"Kill NODE's process with SIGKILL and wait until it is gone. Its redis-server and data are\n"+
				"kept: 'cluster restart NODE' starts it again.", a.clusterKill),
		a.clusterNodeCmd(o, "restart", "Start a node again and wait until it answers",
			"Start NODE again with the arguments it was first started with, and wait (up to --timeout)\n"+
				"until its API answers; a node still running is first stopped with SIGTERM (SIGKILL after\n"+
				"10 s). Its redis-server is not touched.", a.clusterRestart),
		a.clusterNodeCmd(o, "wipe-redis", "Kill a node's redis-server, delete its data, start it empty",
			"Do to NODE's Redis what losing its memory would: kill its redis-server with SIGKILL, delete\n"+
				"everything in its directory and start it again, empty, on the same port. The node keeps\n"+
				"running and must notice and rebuild its state.", a.clusterWipeRedis))
	return cmd
}

// needDir returns --dir, or a usage error naming the command.
func (o *clusterOpts) needDir(cmd *cobra.Command) (string, error) {
	if o.dir == "" {
		return "", usageErrorf("%s needs --dir DIR", cmd.CommandPath())
	}
	return o.dir, nil
}

// load returns the cluster in --dir.
func (o *clusterOpts) load(cmd *cobra.Command) (*localcluster.Cluster, error) {
	dir, err := o.needDir(cmd)
	if err != nil {
		return nil, err
	}
	c, err := localcluster.Load(dir)
	if errors.Is(err, localcluster.ErrNoCluster) {
		return nil, failf("no_cluster", "no cluster in %s (it has no %s): start one with 'dualchain cluster up --nodes 3 --dir %s'",
			dir, localcluster.ManifestFile, dir)
	}
	return c, clusterError(err)
}

// withCluster makes a command's RunE that loads the cluster in --dir and
// runs f on it.
func (o *clusterOpts) withCluster(f func(*cobra.Command, *localcluster.Cluster, []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c, err := o.load(cmd)
		if err != nil {
			return err
		}
		return f(cmd, c, args)
	}
}

// clusterCodes name the localcluster errors, tested with errors.Is in order.
var clusterCodes = []struct {
	err  error
	code string
}{
	{localcluster.ErrBadManifest, "bad_cluster_file"},
	{localcluster.ErrNotEmpty, "dir_not_empty"},
	{localcluster.ErrNoRedisServer, "no_redis_server"},
	{localcluster.ErrNoRedis, "no_redis"},
	{localcluster.ErrNotRunning, "not_running"},
	{localcluster.ErrExited, "node_exited"},
	{localcluster.ErrNotConverged, "not_converged"},
}

// clusterError gives a localcluster error its code; other errors pass.
func clusterError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, localcluster.ErrBadOptions) {
		return usageErrorf("%v", err)
	}
	for _, cc := range clusterCodes {
		if errors.Is(err, cc.err) {
			return failf(cc.code, "%v", err)
		}
	}
	return err
}

// waitContext bounds the waits of a cluster command by --timeout, and ends
// them on SIGINT or SIGTERM, so that an interrupted 'cluster up' stops
// what it started.
func (a *app) waitContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	return ctx, func() { cancel(); stop() }
}

func (a *app) clusterUpCmd(o *clusterOpts) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "up --nodes N --dir DIR",
		Short: "Start a local cluster of N nodes and wait until it is ready",
		Long: "Make DIR (which must be empty or absent), a genesis whose faucet key DIR/faucet.key holds the\n" +
			"whole supply, and start N voting nodes (n1, n2, ...) and M edge nodes (e1, ...), each with its\n" +
			"own data dir DIR/<node>, free loopback ports and, with --store redis, its own redis-server.\n" +
			"Return when every node answers with the same height and commitment and one is the leader\n" +
			"(up to --timeout). The default store is redis when redis-server is installed, else the\n" +
			"embedded in-memory store; which one and why is printed. --node-arg passes a flag to every\n" +
			"node. On a DIR that already holds a cluster (after 'cluster down', say), 'cluster up --dir\n" +
			"DIR' starts whatever of it is not running.",
		Example: "  dualchain cluster up --nodes 3 --dir ./lc\n" +
			"  dualchain cluster up --nodes 3 --edges 2 --dir ./lc --store memory\n" +
			"  dualchain cluster up --nodes 3 --dir ./lc --node-arg=--snapshot-threshold --node-arg=64\n" +
			"  dualchain cluster up --dir ./lc      # start a stopped cluster again",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.clusterUp(cmd, o) },
	}
	f := cmd.Flags()
	f.IntVar(&o.nodes, "nodes", 3, "voting nodes (Raft voters), at least 1")
	f.IntVar(&o.edges, "edges", 0, "edge nodes (Raft non-voters that serve reads and forward transactions)")
	f.StringVar(&o.store, "store", "", "hot state store: redis, memory, or pebble (on disk, a synced write per block)\n(default: redis when redis-server is installed)")
	f.StringArrayVar(&o.nodeArgs, "node-arg", nil, "a flag (or its value) passed to every node; repeat for several")
	return cmd
}

func (a *app) clusterUp(cmd *cobra.Command, o *clusterOpts) error {
	dir, err := o.needDir(cmd)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, localcluster.ManifestFile)); err == nil {
		return a.clusterResume(cmd, o)
	}
	if o.nodes < 1 || o.edges < 0 {
		return usageErrorf("cluster up wants --nodes 1 or more and --edges 0 or more, got %d and %d", o.nodes, o.edges)
	}
	_, _, why, err := localcluster.PickStore(o.store)
	if err != nil {
		return clusterError(err)
	}
	bin, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this binary: %w", err)
	}
	ctx, cancel := a.waitContext(cmd)
	defer cancel()
	c, err := localcluster.Up(ctx, localcluster.Options{
		Binary: bin, Dir: dir, Nodes: o.nodes, Edges: o.edges, Store: o.store, NodeArgs: o.nodeArgs, Log: a.progress(),
	})
	if err != nil {
		return clusterError(err)
	}
	if w := a.progress(); w != nil && strings.Contains(bin, string(filepath.Separator)+"go-build") {
		fmt.Fprintf(w, "note: the nodes run %s, a temporary build (go run?) deleted when it exits; "+
			"restart and add need it: 'go build -o bin/dualchain ./cmd/dualchain' makes one that stays\n", bin)
	}
	return a.printCluster(ctx, c, why)
}

// clusterResume starts the stopped parts of the cluster in --dir.
func (a *app) clusterResume(cmd *cobra.Command, o *clusterOpts) error {
	for _, name := range []string{"nodes", "edges", "store", "node-arg"} {
		if cmd.Flags().Changed(name) {
			return usageErrorf("%s already holds a cluster: 'cluster up --dir %s' without --%s starts it again; "+
				"'cluster add' adds nodes; a new cluster wants an empty dir", o.dir, o.dir, name)
		}
	}
	c, err := o.load(cmd)
	if err != nil {
		return err
	}
	c.SetLog(a.progress())
	ctx, cancel := a.waitContext(cmd)
	defer cancel()
	if err := c.StartAll(ctx); err != nil {
		return clusterError(err)
	}
	if err := c.WaitConverged(ctx); err != nil {
		return clusterError(err)
	}
	return a.printCluster(ctx, c, "as recorded in "+localcluster.ManifestFile)
}

// progress is where a cluster's progress lines go: stderr, unless --json
// asks for machine output only (nil: nowhere).
func (a *app) progress() io.Writer {
	if a.json {
		return nil
	}
	return prefixWriter{a.stderr}
}

// prefixWriter writes progress lines to w, each after "cluster: ".
type prefixWriter struct{ w io.Writer }

func (p prefixWriter) Write(b []byte) (int, error) {
	if _, err := fmt.Fprintf(p.w, "cluster: %s", b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// clusterInfo is the JSON output of cluster up.
type clusterInfo struct {
	Dir         string                    `json:"dir"`
	ChainID     string                    `json:"chain_id"`
	Store       string                    `json:"store"`
	StoreReason string                    `json:"store_reason"`
	FaucetKey   string                    `json:"faucet_key"`
	Nodes       []localcluster.NodeStatus `json:"nodes"`
}

// printCluster prints the store and why, the node table and where things are.
func (a *app) printCluster(ctx context.Context, c *localcluster.Cluster, why string) error {
	info := clusterInfo{Dir: c.Dir(), ChainID: c.ChainID(), Store: c.Store(), StoreReason: why,
		FaucetKey: c.FaucetKey(), Nodes: c.Status(ctx)}
	if a.json {
		return a.print(info)
	}
	fmt.Fprintf(a.stdout, "store: %s (%s)\n\n", info.Store, why)
	if err := a.statusTable(info.Nodes); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout)
	return a.print(nil,
		field{"chain", info.ChainID},
		field{"faucet key", info.FaucetKey},
		field{"cluster file", filepath.Join(info.Dir, localcluster.ManifestFile)},
		field{"try", fmt.Sprintf("dualchain status --node %s", info.Nodes[0].URL)})
}

func (a *app) clusterStatusCmd(o *clusterOpts) *cobra.Command {
	return &cobra.Command{
		Use:   "status --dir DIR",
		Short: "Show every node's role, term, height, applied index, commitment and process",
		Long: "Ask every node of the cluster in DIR for its status and show one line per node: its Raft\n" +
			"role and term, height, applied log index, state commitment (first 12 hex digits), store\n" +
			"(and whether its redis-server runs), and whether its process runs. With --json, the array\n" +
			"of node statuses as the nodes answered them.",
		Example: "  dualchain cluster status --dir ./lc\n  dualchain cluster status --dir ./lc --json",
		Args:    noArgs,
		RunE: o.withCluster(func(cmd *cobra.Command, c *localcluster.Cluster, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), a.timeout)
			defer cancel()
			sts := c.Status(ctx)
			if a.json {
				return a.print(sts)
			}
			return a.statusTable(sts)
		}),
	}
}

// statusTable prints one line per node, then why the nodes that did not
// answer did not.
func (a *app) statusTable(sts []localcluster.NodeStatus) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tROLE\tTERM\tHEIGHT\tAPPLIED\tCOMMITMENT\tSTORE\tPROCESS\tURL")
	var problems []string
	for _, s := range sts {
		role, term, height, applied, commitment := "-", "-", "-", "-", "-"
		if st := s.Status; st != nil {
			role, term, height = roleOf(st), strconv.FormatUint(st.Term, 10), strconv.FormatUint(st.Height, 10)
			applied, commitment = strconv.FormatUint(st.AppliedIndex, 10), localcluster.ShortHash(st.Commitment.String())
		} else if s.Running {
			problems = append(problems, fmt.Sprintf("%s: %v", s.ID, s.Err))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, role, term, height, applied, commitment, storeOf(s), processOf(s), s.URL)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintln(a.stdout, p)
	}
	return nil
}

// roleOf is the node's Raft role, or leader/follower from a node that
// does not report one.
func roleOf(st *localcluster.Status) string {
	switch {
	case st.Role != "":
		return st.Role
	case st.Leader:
		return "leader"
	}
	return "follower"
}

func storeOf(s localcluster.NodeStatus) string {
	store := "memory"
	if s.Status != nil && s.Status.Store != "" {
		store = s.Status.Store
	}
	if s.Redis == nil {
		return store
	}
	if s.Status == nil {
		store = "redis"
	}
	if !s.Redis.Running {
		return store + " (redis-server down)"
	}
	return store
}

func processOf(s localcluster.NodeStatus) string {
	switch {
	case s.Running && s.Status != nil:
		return fmt.Sprintf("running (pid %d)", s.PID)
	case s.Running:
		return fmt.Sprintf("not answering (pid %d)", s.PID)
	case s.PID > 0:
		return fmt.Sprintf("exited (pid %d)", s.PID)
	}
	return "stopped"
}

// clusterNodeCmd is a command on one node: kill, restart or wipe-redis.
func (a *app) clusterNodeCmd(o *clusterOpts, name, short, long string,
	run func(*cobra.Command, *localcluster.Cluster, string) error) *cobra.Command {
	return &cobra.Command{
		Use:     name + " NODE --dir DIR",
		Short:   short,
		Long:    long,
		Example: fmt.Sprintf("  dualchain cluster %s n2 --dir ./lc", name),
		Args:    exactArgs(1, "one node: n1, n2, ... or e1, ..."),
		RunE: o.withCluster(func(cmd *cobra.Command, c *localcluster.Cluster, args []string) error {
			if err := knownNode(c, args[0]); err != nil {
				return err
			}
			return run(cmd, c, args[0])
		}),
	}
}

// knownNode is a usage error naming the cluster's nodes unless id is one.
func knownNode(c *localcluster.Cluster, id string) error {
	var ids []string
	for _, n := range c.Nodes() {
		ids = append(ids, n.ID)
	}
	if slices.Contains(ids, id) {
		return nil
	}
	return usageErrorf("unknown node %q: the cluster in %s has %s", id, c.Dir(), strings.Join(ids, ", "))
}

// nodeAction is the output of the commands on one node.
type nodeAction struct {
	Node   string `json:"node"`
	Action string `json:"action"`
	PID    int    `json:"pid"` // of the node, or of its redis-server for wipe-redis
	URL    string `json:"url"` // of the node, or of its redis-server for wipe-redis
}

func (a *app) printAction(v nodeAction, what string) error {
	return a.print(v, field{v.Node, fmt.Sprintf("%s (pid %d, %s)", what, v.PID, v.URL)})
}

func (a *app) clusterKill(_ *cobra.Command, c *localcluster.Cluster, id string) error {
	n, _ := c.Node(id)
	if err := c.Kill(id); err != nil {
		return clusterError(err)
	}
	return a.printAction(nodeAction{id, "killed", n.PID, n.URL}, "killed with SIGKILL")
}

func (a *app) clusterRestart(cmd *cobra.Command, c *localcluster.Cluster, id string) error {
	ctx, cancel := a.waitContext(cmd)
	defer cancel()
	if err := c.Restart(ctx, id); err != nil {
		return clusterError(err)
	}
	n, _ := c.Node(id)
	return a.printAction(nodeAction{id, "restarted", n.PID, n.URL}, "restarted, answering")
}

func (a *app) clusterWipeRedis(cmd *cobra.Command, c *localcluster.Cluster, id string) error {
	ctx, cancel := a.waitContext(cmd)
	defer cancel()
	if err := c.WipeRedis(ctx, id); err != nil {
		return clusterError(err)
	}
	n, _ := c.Node(id)
	return a.printAction(nodeAction{id, "wiped-redis", n.Redis.PID, n.Redis.URL}, "redis-server wiped and started again, empty")
}

func (a *app) clusterAddCmd(o *clusterOpts) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "add --dir DIR",
		Short: "Add a node to a running cluster",
		Long: "Start a new node that joins the running cluster in DIR through its leader and catches up by\n" +
			"snapshot and log: a voter n<N+1>, or with --edge an edge node e<M+1>, with its own data dir,\n" +
			"ports and redis-server. Return when it answers (up to --timeout); 'cluster status' shows\n" +
			"when it has caught up.",
		Example: "  dualchain cluster add --dir ./lc\n  dualchain cluster add --dir ./lc --edge",
		Args:    noArgs,
		RunE: o.withCluster(func(cmd *cobra.Command, c *localcluster.Cluster, _ []string) error {
			c.SetLog(a.progress())
			ctx, cancel := a.waitContext(cmd)
			defer cancel()
			id, err := c.AddNode(ctx, o.edge)
			if err != nil {
				return clusterError(err)
			}
			n, _ := c.Node(id)
			return a.printAction(nodeAction{id, "added", n.PID, n.URL}, "added, answering")
		}),
	}
	cmd.Flags().BoolVar(&o.edge, "edge", false, "add an edge node (a Raft non-voter) instead of a voter")
	return cmd
}

func (a *app) clusterDownCmd(o *clusterOpts) *cobra.Command {
	return &cobra.Command{
		Use:   "down --dir DIR",
		Short: "Stop every node and redis-server of the cluster",
		Long: "Stop every node of the cluster in DIR with SIGTERM, then every redis-server, killing any\n" +
			"that has not exited after 10 s. DIR and the nodes' data are kept: 'cluster up --dir DIR'\n" +
			"starts the cluster again; delete DIR to forget it.",
		Example: "  dualchain cluster down --dir ./lc",
		Args:    noArgs,
		RunE: o.withCluster(func(cmd *cobra.Command, c *localcluster.Cluster, _ []string) error {
			if err := c.Down(cmd.Context()); err != nil {
				return clusterError(err)
			}
			v := struct {
				Dir     string `json:"dir"`
				Stopped bool   `json:"stopped"`
			}{c.Dir(), true}
			return a.print(v, field{"stopped", fmt.Sprintf("every process of the cluster in %s (data kept)", c.Dir())})
		}),
	}
}
