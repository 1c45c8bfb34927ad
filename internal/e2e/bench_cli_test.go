package e2e

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dualchain/dualchain/internal/bench"
	"github.com/dualchain/dualchain/internal/localcluster"
)

// benchArgs keep the CLI runs short: a small load, on few accounts.
var benchArgs = []string{"--duration", "2s", "--accounts", "256", "--batch", "200", "--concurrency", "4", "--presign", "40000"}

// TestBenchWorkloads runs `dualchain bench --json` for every workload as a
// user would: against a running cluster (--cluster), and, for vm, on a
// cluster bench starts itself. Every run must commit, without errors, on
// the path its workload names, and its figures must hang together.
func TestBenchWorkloads(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a one-node cluster under load for a few seconds per workload")
	}
	tmp := t.TempDir()
	c := &cli{t: t, bin: binary(t), dir: filepath.Join(tmp, "cluster"), tmp: tmp}
	t.Cleanup(func() { downBridgeCluster(t, c.dir) })
	c.ok("cluster", "up", "--nodes", "1", "--dir", c.dir)
	lc, err := localcluster.Load(c.dir)
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]string{bench.Native: "native", bench.Contract: "vm", bench.Cold: "native", bench.Mixed: "native"}
	for _, w := range []string{bench.Native, bench.Contract, bench.Cold, bench.Mixed} {
		var res bench.Result
		c.okJSON(&res, append([]string{"bench", "--cluster", c.dir, "--workload", w}, benchArgs...)...)
		checkBenchResult(t, res, w, paths[w], lc.Store(), 1)
	}
	r := c.fails([]string{"wrong_exec"}, append([]string{"bench", "--cluster", c.dir, "--workload", "vm"}, benchArgs...)...)
	if !strings.Contains(r.stderr, "--exec vm") {
		t.Errorf("the refusal does not say how to run the vm workload:\n%s", r)
	}
	for _, args := range [][]string{
		{"--cluster", c.dir, "--node", "http://127.0.0.1:1"}, // two targets
		{"--node", "http://127.0.0.1:1"},                     // no key to fund the accounts
		{"--cluster", c.dir, "--nodes", "3"},                 // a running cluster has its size
		{"--workload", "warp"},
		{"--study", "--cluster", c.dir},
		{"--study", "--nodes", "3"}, // the study's rows name their own
	} {
		if r := c.run(append([]string{"bench"}, args...)...); r.exit != 2 || !strings.HasSuffix(strings.TrimSpace(r.stderr), "(usage)") {
			t.Errorf("want a usage error (exit 2):\n%s", r)
		}
	}

	var res bench.Result
	c.okJSON(&res, append([]string{"bench", "--workload", "vm", "--nodes", "1", "--store", "memory"}, benchArgs...)...)
	checkBenchResult(t, res, bench.VM, "vm", localcluster.StoreMemory, 1)
}

// checkBenchResult checks one run's figures.
func checkBenchResult(t *testing.T, r bench.Result, workload, path, store string, nodes int) {
	t.Helper()
	t.Logf("%s: %.0f tx/s committed, p50 %.1f ms, p99 %.1f ms, %.1f%% of %.0f verified/s", workload, r.PerSec, r.P50, r.P99, 100*r.OfLimit, r.VerifyLimit)
	switch {
	case r.Workload != workload || r.Store != store || r.Nodes != nodes:
		t.Errorf("%s: ran %s on %d nodes with %s, want %s on %d with %s", workload, r.Workload, r.Nodes, r.Store, workload, nodes, store)
	case r.Committed == 0 || r.Errors != 0 || r.Committed != r.Submitted:
		t.Errorf("%s: committed %d of %d, errors %d %v; want all committed", workload, r.Committed, r.Submitted, r.Errors, r.ErrorKinds)
	case r.Paths[path] != r.Committed:
		t.Errorf("%s: paths %v, want all %d on %s", workload, r.Paths, r.Committed, path)
	case r.Seconds <= 0 || math.Abs(r.PerSec-float64(r.Committed)/r.Seconds) > 1:
		t.Errorf("%s: %g tx/s over %gs for %d committed", workload, r.PerSec, r.Seconds, r.Committed)
	case r.P50 <= 0 || r.P99 < r.P50 || r.Max < r.P99 || len(r.CDF) == 0:
		t.Errorf("%s: latencies p50 %g, p99 %g, max %g, %d CDF points", workload, r.P50, r.P99, r.Max, len(r.CDF))
	case r.VerifyLimit <= 0 || math.Abs(r.OfLimit-r.PerSec/r.VerifyLimit) > 1e-9:
		t.Errorf("%s: fraction of limit %g, want %g / %g", workload, r.OfLimit, r.PerSec, r.VerifyLimit)
	}
}

// studyLimit is the bound on `dualchain bench --study`.
const studyLimit = 5 * time.Minute

// TestBenchStudy runs `dualchain bench --study` with short rows and checks
// its table: the five rows of the study on the stores and cluster sizes
// they name, each measured, beside the study's figures.
func TestBenchStudy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts five clusters in turn")
	}
	tmp := t.TempDir()
	c := &cli{t: t, bin: binary(t), tmp: tmp}
	start := time.Now()
	r := c.ok(append([]string{"bench", "--study", "--json"}, benchArgs...)...)
	took := time.Since(start)
	var s bench.Study
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("decode the study: %v\n%s", err, r)
	}
	redis, _, _, _ := localcluster.PickStore("")
	want := []struct {
		store, exec string
		nodes       int
		study       float64
	}{
		{"pebble", "vm", 1, bench.StudyVMDisk}, {"pebble", "native", 1, bench.StudyNativeDisk},
		{redis, "native", 1, bench.StudyNativeRedis}, {redis, "native", 3, bench.StudyNativeRedis}, {redis, "vm", 1, 0},
	}
	if len(s.Rows) != len(want) {
		t.Fatalf("%d rows, want %d:\n%s", len(s.Rows), len(want), r)
	}
	for i, w := range want {
		row := s.Rows[i]
		checkBenchResult(t, row.Result, map[string]string{"vm": bench.VM, "native": bench.Native}[w.exec], w.exec, w.store, w.nodes)
		if row.Study != w.study || (w.study > 0 && math.Abs(row.Ratio-row.Result.PerSec/w.study) > 1e-9) {
			t.Errorf("row %q: study %g, ratio %g; want %g and committed/s over it", row.Name, row.Study, row.Ratio, w.study)
		}
		if row.Result.Exec != w.exec || row.Result.VerifyLimit != s.VerifyLimit {
			t.Errorf("row %q: exec %s, limit %g; want %s and the study's %g", row.Name, row.Result.Exec, row.Result.VerifyLimit, w.exec, s.VerifyLimit)
		}
	}
	if took > studyLimit {
		t.Errorf("the study took %v, want under %v", took.Round(time.Second), studyLimit)
	}
}
