package perfreport

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dualchain/dualchain/internal/bench"
)

// result is a fabricated run: figures for tests, never a measurement.
func result(workload, exec string, nodes int, offered, perSec, p99 float64) bench.Result {
	return bench.Result{
		Workload: workload, Nodes: nodes, Store: "redis", Exec: exec, Accounts: 4096, StateSize: 10_000,
		Offered: offered, Seconds: 10, Submitted: int64(perSec * 10), Committed: int64(perSec * 10), PerSec: perSec,
		P50: p99 / 4, P90: p99 / 2, P99: p99, Max: p99 * 2, Paths: map[string]int64{exec: int64(perSec * 10)},
		VerifyLimit: 110_000, OfLimit: perSec / 110_000,
		CDF: []bench.Quantile{{Q: 0, Ms: p99 / 10}, {Q: 0.5, Ms: p99 / 4}, {Q: 0.9, Ms: p99 / 2}, {Q: 0.99, Ms: p99}, {Q: 1, Ms: p99 * 2}},
	}
}

// sampleReport is a small Report with every part filled in, with
// fabricated figures.
func sampleReport() Report {
	withState := func(r bench.Result, n int) bench.Result { r.StateSize = n; return r }
	return Report{
		Machine: Machine{Cores: 2, CPU: "Test CPU @ 2.0GHz", Go: "go1.26.8", OS: "linux", Arch: "amd64",
			Date: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), Commit: "0123456789abcdef0123", Dirty: true},
		Study: bench.Study{VerifyLimit: 110_000, Took: time.Minute, Rows: []bench.StudyRow{
			{Name: "native + memory", Study: 4_820, Ratio: 8.3, Result: result("native", "native", 1, 0, 40_000, 300)},
			{Name: "VM + memory", Study: 10.24, Ratio: 3_100, Result: result("native", "vm", 1, 0, 31_000, 380)},
			{Name: "native + 3 nodes", Result: result("native", "native", 3, 0, 28_000, 420)},
		}},
		Sweep: []bench.Result{
			result("native", "native", 3, 20_000, 19_900, 90),
			result("native", "native", 3, 5_000, 5_000, 20),
			result("native", "native", 3, 30_000, 26_000, 800),
			result("native", "native", 3, 10_000, 9_990, 35),
		},
		NativeVsVM: []bench.Result{result("native", "native", 3, 0, 28_000, 420), result("native", "vm", 3, 0, 23_000, 500)},
		Accounts: []bench.Result{
			withState(result("native", "native", 3, 0, 28_000, 420), 10_000),
			withState(result("native", "native", 3, 0, 27_000, 440), 100_000),
			withState(result("native", "native", 3, 0, 24_000, 520), 1_000_000),
		},
		Nodes: []bench.Result{result("native", "native", 5, 0, 24_000, 500), result("native", "native", 1, 0, 36_000, 250),
			result("native", "native", 3, 0, 28_000, 420)},
		Profile: ProfileSummary{Seconds: 19.2, Wall: 10, Run: "the saturated 3-node native run",
			Groups: []ProfileGroup{
				{Name: GroupVerify, Share: 0.41, Top: []string{"github.com/oasisprotocol/curve25519-voi/internal/field.(*Element).Mul", m + "ledger.verifyChunk"}},
				{Name: GroupHTTP, Share: 0.2, Top: []string{"net/http.(*conn).serve"}},
				{Name: GroupGC, Share: 0.39, Top: []string{"runtime.scanobject"}},
			},
			Top: []ProfileFunc{{Name: "github.com/oasisprotocol/curve25519-voi/internal/field.(*Element).Mul", Flat: 0.3, Cum: 0.3}}},
		Command: "dualchain bench --report --out docs",
		Took:    12*time.Minute + 3*time.Second,
	}
}

// TestWriteSample writes a report with every part measured and checks
// each section, its chart (a PNG that decodes) and its table are there.
func TestWriteSample(t *testing.T) {
	t.Parallel() // not during TestSummarizeVerifyProfile: parallel tests wait for the serial ones
	dir := t.TempDir()
	if err := Write(dir, sampleReport()); err != nil {
		t.Fatalf("Write = %v", err)
	}
	md := readFile(t, filepath.Join(dir, MarkdownFile))
	for _, want := range []string{
		"# Performance", "do not edit by hand; run `make perf-report`", "`dualchain bench --report --out docs`",
		"2 cores (Test CPU @ 2.0GHz), linux/amd64, go1.26.8, commit 0123456789ab with uncommitted changes, 2026-11-23 10:00 UTC",
		"in 12m3s",
		"## The study's configurations", "| native + memory | 1 | redis | native | 40,000 | 4,820 | 8.30× | 75.0 / 300 | 36% |",
		"| VM + memory | 1 | redis | vm | 31,000 | 10.24 | 3,100× |", "| native + 3 nodes | 3 | redis | native | 28,000 | — | — |",
		"**The verify limit.** This machine verifies 110,000 signatures/s",
		"## Commit latency", "![Commit latency distribution of the study's configurations](perf/latency-cdf.png)",
		"## Throughput against offered load", "![Committed transactions per second against offered load](perf/sweep-throughput.png)",
		"(perf/sweep-latency.png)", "| 5,000 | 5,000 | 100% |", "up to 20,000/s offered; the most it committed was 26,000/s, at 30,000/s offered",
		"## Native against VM execution", "(perf/native-vs-vm.png)", "the VM committed 23,000/s, 0.82 times the native path's 28,000/s",
		"| vm | native | vm | 3 | redis | 23,000 |",
		"## Cost of a larger state", "(perf/accounts.png)", "| 1,000,000 | 24,000 | 86% |", "From 10,000 accounts to 1,000,000 accounts",
		"## Cluster size", "(perf/nodes.png)", "clusters of 1, 3 and 5 nodes", "| 5 | 24,000 | 67% |",
		"## Where the CPU goes", "A CPU profile of the saturated 3-node native run: 19.2 CPU-seconds",
		"| signature verification | 41% | `field.(*Element).Mul`, `ledger.verifyChunk` |",
		"| `field.(*Element).Mul` | 30% | 30% |",
		"### What bounds it", "The largest group is signature verification, with 41% of the CPU time sampled (its heaviest function is `field.(*Element).Mul`), then GC and runtime with 39%.", "kept 1.9 of the 2 cores busy",
		"bound by CPU", "The best committed rate in this report, 40,000/s, is 36% of the verify limit (110,000/s).",
		"## Micro-benchmarks", "[docs/benchmarks.md](benchmarks.md)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Write(sample) markdown lacks %q", want)
		}
	}
	if strings.Contains(strings.ToLower(md), "not measured") {
		t.Errorf("Write(sample) markdown says something was not measured:\n%s", md)
	}
	images := regexp.MustCompile(`!\[[^]]+\]\((perf/[a-z-]+\.png)\)`).FindAllStringSubmatch(md, -1)
	if len(images) != len(chartFiles) {
		t.Errorf("Write(sample) embeds %d charts, want %d", len(images), len(chartFiles))
	}
	for _, img := range images {
		checkPNG(t, filepath.Join(dir, img[1]))
	}
	t.Logf("sample report (fabricated figures):\n%s", md)
}

// TestWriteNotMeasured writes a report with nothing measured over a
// previous full one: every section says so and no chart is left behind.
func TestWriteNotMeasured(t *testing.T) {
	t.Parallel() // not during TestSummarizeVerifyProfile: parallel tests wait for the serial ones
	dir := t.TempDir()
	if err := Write(dir, sampleReport()); err != nil {
		t.Fatalf("Write(sample) = %v", err)
	}
	if err := Write(dir, Report{Machine: Machine{Cores: 2, OS: "linux", Arch: "amd64", Go: "go1.26.8"}}); err != nil {
		t.Fatalf("Write(empty) = %v", err)
	}
	md := readFile(t, filepath.Join(dir, MarkdownFile))
	for _, want := range []string{
		"Not measured in this run: the scaling study's configurations.",
		"**The verify limit** (signatures this machine verifies per second) was not measured in this run.",
		"Not measured in this run: latency distributions",
		"Not measured in this run: a sweep of offered load.",
		"Not measured in this run: native against VM execution.",
		"Not measured in this run: the workload over states of different sizes.",
		"Not measured in this run: clusters of different sizes.",
		"Not measured in this run: a CPU profile.",
		"2 cores (unknown CPU), linux/amd64, go1.26.8.",
		"[docs/benchmarks.md](benchmarks.md)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("Write(empty) markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "![") {
		t.Errorf("Write(empty) markdown embeds a chart:\n%s", md)
	}
	left, err := filepath.Glob(filepath.Join(dir, chartDir, "*"))
	if err != nil || len(left) != 0 {
		t.Errorf("Write(empty) left %v (%v) in %s, want nothing", left, err, chartDir)
	}
}

// TestWriteOddFigures draws charts from single runs, zero rates and
// latencies, and NaN: Write must not fail or panic on them.
func TestWriteOddFigures(t *testing.T) {
	t.Parallel() // not during TestSummarizeVerifyProfile: parallel tests wait for the serial ones
	one := result("native", "native", 3, 0, 0, 0)
	one.CDF = []bench.Quantile{{Q: 0, Ms: 0}, {Q: 1, Ms: 1}}
	nan := result("native", "vm", 3, 1_000, 0, 0)
	nan.PerSec = math.NaN()
	r := Report{Sweep: []bench.Result{nan}, NativeVsVM: []bench.Result{one, nan}, Accounts: []bench.Result{one}, Nodes: []bench.Result{one},
		Study: bench.Study{Rows: []bench.StudyRow{{Name: "only", Result: one}}}}
	dir := t.TempDir()
	if err := Write(dir, r); err != nil {
		t.Fatalf("Write(odd figures) = %v", err)
	}
	for _, f := range chartFiles {
		checkPNG(t, filepath.Join(dir, chartDir, f))
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ got, want string }{
		{count(1234567.4), "1,234,567"},
		{perSec(36000), "36,000/s"},
		{millis(0.421), "0.42"},
		{millis(93.46), "93.5"},
		{millis(1204.2), "1,204"},
		{percent(0.31), "31%"},
		{percent(0.004), "0.4%"},
		{ratio(0.834), "0.83"},
		{ratio(29.94), "29.9"},
		{ratio(3012.3), "3,012"},
		{shortName("github.com/oasisprotocol/curve25519-voi/curve.(*P).Add"), "curve.(*P).Add"},
		{shortName("runtime.mallocgc"), "runtime.mallocgc"},
		{tickLabel(12000), "12,000"},
		{tickLabel(0.25), "0.25"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d = %q, want %q", i, tt.got, tt.want)
		}
	}
}

func TestCPUModel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpuinfo")
	info := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC  7B13 64-Core Processor\n\nprocessor\t: 1\nmodel name\t: other\n"
	if err := os.WriteFile(path, []byte(info), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, want := cpuModel(path), "AMD EPYC 7B13 64-Core Processor"; got != want {
		t.Errorf("cpuModel(%q) = %q, want %q", info, got, want)
	}
	if got := cpuModel(filepath.Join(t.TempDir(), "missing")); got != "" {
		t.Errorf("cpuModel(missing) = %q, want empty", got)
	}
	if m := DetectMachine(); m.Cores < 1 || m.Go == "" || m.Date.IsZero() {
		t.Errorf("DetectMachine() = %+v, want cores, Go version and date", m)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Errorf("chart: %v", err)
		return
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Errorf("png.Decode(%s) = %v", path, err)
		return
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		t.Errorf("png.Decode(%s) bounds = %v, want a chart-sized image", path, b)
	}
}
