package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/dualchain/dualchain/internal/bench"
	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/dualchain/dualchain/internal/perfreport"
	"github.com/dualchain/dualchain/internal/progress"
)

// The report's scaling runs.
var (
	// sweepRates are the offered loads of the throughput-vs-load sweep on
	// three nodes, transactions/s.
	sweepRates = []float64{5_000, 10_000, 15_000, 20_000, 25_000, 30_000, 40_000}
	// reportStates are the state sizes of the cost-vs-accounts runs.
	reportStates = []int{10_000, 100_000, 1_000_000}
	// reportNodes are the cluster sizes of the cost-vs-nodes runs.
	reportNodes = []int{1, 3, 5}
)

// Open-loop settings of the sweep: small batches, as a wallet's, from
// enough workers that the offered load is never held back.
const (
	sweepBatch       = 50
	sweepConcurrency = 64
)

// benchReport runs the study and the scaling runs, profiles the leader of
// a 3-node cluster under load, and writes dir/performance.md.
func (a *app) benchReport(ctx context.Context, cfg bench.Config, dir string) error {
	start := time.Now()
	bin, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this binary: %w", err)
	}
	redis, _, why, _ := localcluster.PickStore("")
	fmt.Fprintf(a.stderr, "the performance report: the study, a load sweep, a profile and the scaling runs; Redis on %s (%s)\n", redis, why)
	rep := perfreport.Report{Machine: perfreport.DetectMachine(), Command: reportCommand()}
	r := reporter{a: a, bin: bin, redis: redis, cfg: cfg}

	if rep.Study, err = bench.RunStudy(ctx, bench.StudyOptions{Binary: bin, Config: cfg, Live: a.stderr, Redis: redis}); err != nil {
		return benchError(err)
	}
	for _, row := range rep.Study.Rows { // native and VM, one node on Redis
		if row.Result.Nodes == 1 && row.Result.Store == redis {
			rep.NativeVsVM = append(rep.NativeVsVM, row.Result)
		}
	}
	if err := r.onThreeNodes(ctx, &rep); err != nil {
		return benchError(err)
	}
	for _, n := range reportNodes {
		if n == 3 {
			continue // measured by onThreeNodes
		}
		res, err := r.run(ctx, fmt.Sprintf("%d nodes", n), n, cfg)
		if err != nil {
			return benchError(err)
		}
		rep.Nodes = append(rep.Nodes, res)
	}
	slices.SortFunc(rep.Nodes, func(x, y bench.Result) int { return x.Nodes - y.Nodes })
	for _, size := range reportStates {
		c := cfg
		c.StateAccounts = size
		res, err := r.run(ctx, fmt.Sprintf("a state of %s accounts", progress.Count(int64(size))), 1, c)
		if err != nil {
			return benchError(err)
		}
		rep.Accounts = append(rep.Accounts, res)
	}
	rep.Took = time.Since(start)
	if err := perfreport.Write(dir, rep); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "wrote %s in %s\n", dir+"/"+perfreport.MarkdownFile, rep.Took.Round(time.Second))
	if a.json {
		return a.print(rep)
	}
	return bench.WriteStudy(a.stdout, rep.Study)
}

// reporter runs the report's clusters.
type reporter struct {
	a     *app
	bin   string
	redis string
	cfg   bench.Config
}

// run measures cfg on a new cluster of n nodes on Redis.
func (r reporter) run(ctx context.Context, what string, n int, cfg bench.Config) (bench.Result, error) {
	fmt.Fprintf(r.a.stderr, "\n%s: native on %d node(s)\n", what, n)
	c, t, err := bench.StartCluster(ctx, bench.ClusterOptions{Binary: r.bin, Nodes: n, Store: r.redis, Exec: "native"})
	if err != nil {
		return bench.Result{}, err
	}
	defer func() { _ = c.Stop(context.WithoutCancel(ctx)) }()
	return bench.Run(ctx, t, cfg, bench.Options{Live: r.a.stderr})
}

// onThreeNodes runs, on one 3-node cluster with profiling on: a saturated
// native run while the leader's CPU profile is taken (the 3-node point of
// the nodes runs), then the open-loop sweep.
func (r reporter) onThreeNodes(ctx context.Context, rep *perfreport.Report) error {
	fmt.Fprintf(r.a.stderr, "\n3 nodes: a saturated run with the leader profiled, then a sweep of offered loads\n")
	c, t, err := bench.StartCluster(ctx, bench.ClusterOptions{Binary: r.bin, Nodes: 3, Store: r.redis, Exec: "native", Args: []string{"--pprof"}})
	if err != nil {
		return err
	}
	defer func() { _ = c.Stop(context.WithoutCancel(ctx)) }()
	leader, err := bench.LeaderURL(ctx, t)
	if err != nil {
		return err
	}
	started, profile := make(chan struct{}), make(chan error, 1)
	go func() {
		select {
		case <-started:
			profile <- r.profile(ctx, leader, rep)
		case <-ctx.Done():
			profile <- ctx.Err()
		}
	}()
	res, err := bench.Run(ctx, t, r.cfg, bench.Options{Live: r.a.stderr, Started: func() { close(started) }})
	if err != nil {
		return err
	}
	if err := <-profile; err != nil {
		return fmt.Errorf("profiling the leader: %w", err)
	}
	rep.Nodes = append(rep.Nodes, res)
	for _, rate := range sweepRates {
		cfg := r.cfg
		cfg.Rate, cfg.Batch, cfg.Concurrency = rate, sweepBatch, sweepConcurrency
		cfg.Duration = max(r.cfg.Duration/2, 2*time.Second)
		res, err := bench.Run(ctx, t, cfg, bench.Options{Live: r.a.stderr, VerifyLimit: rep.Study.VerifyLimit})
		if err != nil {
			return err
		}
		rep.Sweep = append(rep.Sweep, res)
	}
	return nil
}

// profile takes the leader's CPU profile while the saturated run loads
// it: called as the load starts, it samples all of it but the last second.
func (r reporter) profile(ctx context.Context, leader string, rep *perfreport.Report) error {
	secs := max(int((r.cfg.Duration - time.Second).Seconds()), 1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", leader, secs), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("GET /debug/pprof/profile: %s: %s", resp.Status, body)
	}
	rep.Profile, err = perfreport.SummarizeProfile(resp.Body, time.Duration(secs)*time.Second)
	rep.Profile.Run = fmt.Sprintf("the leader of a 3-node cluster on %s during the saturated native run (%d s of it)", r.redis, secs)
	return err
}

// reportCommand is the command line that wrote the report.
func reportCommand() string { return "dualchain " + strings.Join(os.Args[1:], " ") }
