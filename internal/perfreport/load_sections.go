package perfreport

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"

	"github.com/dualchain/dualchain/internal/bench"
	"github.com/dualchain/dualchain/internal/progress"
)

// keptUpShare is how much of the offered rate a run must commit to count
// as keeping up with it.
const keptUpShare = 0.95

// sorted is a copy of rs ordered by key.
func sorted(rs []bench.Result, key func(bench.Result) float64) []bench.Result {
	return slices.SortedStableFunc(slices.Values(rs), func(a, b bench.Result) int { return cmp.Compare(key(a), key(b)) })
}

func offered(r bench.Result) float64   { return r.Offered }
func perSecOf(r bench.Result) float64  { return r.PerSec }
func stateSize(r bench.Result) float64 { return float64(r.StateSize) }
func nodes(r bench.Result) float64     { return float64(r.Nodes) }

// sweepSection is throughput and latency against offered load.
func sweepSection(p *page, sweep []bench.Result) {
	p.heading(2, "Throughput against offered load")
	if len(sweep) == 0 {
		p.notMeasured("a sweep of offered load")
		return
	}
	rs := sorted(sweep, offered)
	first, last := rs[0], rs[len(rs)-1]
	p.para("The %s workload on %s (%s store, %s execution) in an open loop: transactions are offered at a "+
		"fixed rate however fast they commit, at %d rates from %s to %s. %s", first.Workload, nodeWord(first.Nodes),
		first.Store, first.Exec, len(rs), perSec(first.Offered), perSec(last.Offered), sweepFinding(rs))
	pl, err := sweepThroughputChart(rs)
	p.image(sweepThroughputPNG, "Committed transactions per second against offered load", pl, err)
	pl, err = sweepLatencyChart(rs)
	p.image(sweepLatencyPNG, "p50 and p99 commit latency against offered load", pl, err)
	var rows [][]string
	for _, r := range rs {
		rows = append(rows, []string{count(r.Offered), count(r.PerSec), orDash(r.Offered > 0, percent(r.PerSec/r.Offered)),
			millis(r.P50), millis(r.P90), millis(r.P99), progress.Count(r.Errors)})
	}
	p.table([]string{"offered/s", "committed/s", "committed / offered", "p50 ms", "p90 ms", "p99 ms", "errors"}, rows)
}

// sweepFinding says up to what load the cluster kept up and its peak.
func sweepFinding(rs []bench.Result) string {
	var kept float64
	peak := rs[0]
	for _, r := range rs {
		if r.Offered > 0 && r.PerSec >= keptUpShare*r.Offered {
			kept = r.Offered
		}
		if r.PerSec > peak.PerSec {
			peak = r
		}
	}
	s := fmt.Sprintf("It did not keep up (commit %s of the offered rate) at any rate tried", percent(keptUpShare))
	if kept > 0 {
		s = fmt.Sprintf("It kept up (committed at least %s of the offered rate) up to %s offered", percent(keptUpShare), perSec(kept))
	}
	return s + fmt.Sprintf("; the most it committed was %s, at %s offered. Its p99 latency went from %s ms at the "+
		"lowest load to %s ms at the highest.", perSec(peak.PerSec), perSec(peak.Offered), millis(rs[0].P99), millis(rs[len(rs)-1].P99))
}

func sweepThroughputChart(rs []bench.Result) (*plot.Plot, error) {
	pl := newPlot("Throughput against offered load", "offered (transactions/s)", "committed (transactions/s)")
	got := points(rs, offered, perSecOf)
	ideal := points(rs, offered, offered)
	if err := addSeries(pl, series{name: "committed", xys: got, marks: true}, series{name: "offered", xys: ideal, dashed: true}); err != nil {
		return nil, err
	}
	fromZero(&pl.X)
	fromZero(&pl.Y)
	return pl, nil
}

func sweepLatencyChart(rs []bench.Result) (*plot.Plot, error) {
	pl := newPlot("Commit latency against offered load", "offered (transactions/s)", "latency (ms, log scale)")
	p50 := positive(points(rs, offered, func(r bench.Result) float64 { return r.P50 }), false)
	p99 := positive(points(rs, offered, func(r bench.Result) float64 { return r.P99 }), false)
	if err := addSeries(pl, series{name: "p50", xys: p50, marks: true}, series{name: "p99", xys: p99, marks: true}); err != nil {
		return nil, err
	}
	fromZero(&pl.X)
	logAxis(&pl.Y)
	return pl, nil
}

// nativeVMSection compares the execution paths.
func nativeVMSection(p *page, rs []bench.Result) {
	p.heading(2, "Native against VM execution")
	if len(rs) == 0 {
		p.notMeasured("native against VM execution")
		return
	}
	p.para("Runs that differ in how transactions are executed, natively or in the VM (WebAssembly), on the same "+
		"cluster shape. %s", vmFinding(rs))
	names := labels(rs)
	pl, err := barChart("Native against VM execution", "committed (transactions/s)", names, rs)
	p.image(nativeVMPNG, "Committed transactions per second, native against VM", pl, err)
	var rows [][]string
	for i, r := range rs {
		rows = append(rows, []string{names[i], r.Workload, r.Exec, strconv.Itoa(r.Nodes), r.Store, count(r.PerSec),
			latencies(r), paths(r)})
	}
	p.table([]string{"run", "workload", "exec", "nodes", "store", "committed/s", "p50 / p99 ms", "receipts by path"}, rows)
}

// vmFinding compares the first VM run with a native run of the same
// shape.
func vmFinding(rs []bench.Result) string {
	for _, vm := range rs {
		if kind(vm) != "vm" {
			continue
		}
		for _, nat := range rs {
			if kind(nat) == "native" && nat.Nodes == vm.Nodes && nat.Store == vm.Store && nat.PerSec > 0 {
				return fmt.Sprintf("On %s with the %s store, the VM committed %s, %s times the native path's %s.",
					nodeWord(vm.Nodes), vm.Store, perSec(vm.PerSec), ratio(vm.PerSec/nat.PerSec), perSec(nat.PerSec))
			}
		}
	}
	return "No VM run had a native run of the same shape to compare with."
}

func barChart(title, y string, names []string, rs []bench.Result) (*plot.Plot, error) {
	pl := newPlot(title, "", y)
	vals := make(plotter.Values, len(rs))
	for i, r := range rs {
		vals[i] = r.PerSec
		if !finite(vals[i]) {
			vals[i] = 0
		}
	}
	bars, err := plotter.NewBarChart(vals, vg.Points(40))
	if err != nil {
		return nil, err
	}
	bars.Color = plotutil.Color(0)
	bars.LineStyle.Width = 0
	values, err := barLabels(vals)
	if err != nil {
		return nil, err
	}
	pl.Add(bars, values)
	pl.NominalX(names...)
	pl.X.Min, pl.X.Max = -0.5, float64(len(vals))-0.5
	fromZero(&pl.Y)
	return pl, nil
}

// barLabels writes each bar's value above it.
func barLabels(vals plotter.Values) (*plotter.Labels, error) {
	xyl := plotter.XYLabels{XYs: make(plotter.XYs, len(vals)), Labels: make([]string, len(vals))}
	for i, v := range vals {
		xyl.XYs[i] = plotter.XY{X: float64(i), Y: v}
		xyl.Labels[i] = count(v)
	}
	l, err := plotter.NewLabels(xyl)
	if err != nil {
		return nil, err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].XAlign = text.XCenter
	}
	l.Offset = vg.Point{Y: vg.Points(3)}
	return l, nil
}

// accountsSection is what a larger hot state costs.
func accountsSection(p *page, accounts []bench.Result) {
	p.heading(2, "Cost of a larger state")
	if len(accounts) == 0 {
		p.notMeasured("the workload over states of different sizes")
		return
	}
	rs := sorted(accounts, stateSize)
	p.para("The %s workload on %s with the hot state holding different numbers of accounts when the clock started. %s",
		rs[0].Workload, nodeWord(rs[0].Nodes), scaleFinding(rs, func(r bench.Result) string { return progress.Count(int64(r.StateSize)) + " accounts" }))
	pl, err := lineChart("Throughput against state size", "accounts in the state (log scale)", rs, stateSize, true)
	p.image(accountsPNG, "Committed transactions per second against accounts in the state", pl, err)
	p.table([]string{"accounts in the state", "committed/s", "of the smallest state's", "p50 / p99 ms"},
		scaleRows(rs, func(r bench.Result) string { return progress.Count(int64(r.StateSize)) }))
}

// nodesSection is throughput against cluster size.
func nodesSection(p *page, ns []bench.Result) {
	p.heading(2, "Cluster size")
	if len(ns) == 0 {
		p.notMeasured("clusters of different sizes")
		return
	}
	rs := sorted(ns, nodes)
	p.para("The %s workload on clusters of %s. %s", rs[0].Workload, nodeCounts(rs),
		scaleFinding(rs, func(r bench.Result) string { return nodeWord(r.Nodes) }))
	pl, err := lineChart("Throughput against cluster size", "nodes", rs, nodes, false)
	if err == nil {
		var ticks plot.ConstantTicks
		for _, r := range rs {
			ticks = append(ticks, plot.Tick{Value: float64(r.Nodes), Label: strconv.Itoa(r.Nodes)})
		}
		pl.X.Tick.Marker = ticks
		pl.X.Min, pl.X.Max = pl.X.Min-0.5, pl.X.Max+0.5
	}
	p.image(nodesPNG, "Committed transactions per second against nodes", pl, err)
	p.table([]string{"nodes", "committed/s", "of the smallest cluster's", "p50 / p99 ms"},
		scaleRows(rs, func(r bench.Result) string { return strconv.Itoa(r.Nodes) }))
}

// nodeWord is "1 node", "3 nodes".
func nodeWord(n int) string {
	if n == 1 {
		return "1 node"
	}
	return strconv.Itoa(n) + " nodes"
}

func nodeCounts(rs []bench.Result) string {
	var s string
	for i, r := range rs {
		switch {
		case i == 0:
		case i == len(rs)-1:
			s += " and "
		default:
			s += ", "
		}
		s += strconv.Itoa(r.Nodes)
	}
	return s + " nodes"
}

// scaleFinding compares the first and last of runs sorted by size.
func scaleFinding(rs []bench.Result, size func(bench.Result) string) string {
	first, last := rs[0], rs[len(rs)-1]
	if len(rs) == 1 || first.PerSec <= 0 {
		return fmt.Sprintf("With %s it committed %s.", size(first), perSec(first.PerSec))
	}
	return fmt.Sprintf("From %s to %s, committed/s went from %s to %s (%s of it), and p99 latency from %s to %s ms.",
		size(first), size(last), count(first.PerSec), count(last.PerSec), percent(last.PerSec/first.PerSec),
		millis(first.P99), millis(last.P99))
}

// scaleRows is a size table: each run against the first.
func scaleRows(rs []bench.Result, size func(bench.Result) string) [][]string {
	var rows [][]string
	for _, r := range rs {
		rows = append(rows, []string{size(r), count(r.PerSec), orDash(rs[0].PerSec > 0, percent(r.PerSec/rs[0].PerSec)), latencies(r)})
	}
	return rows
}

// lineChart is committed/s against x, on a log x axis if asked.
func lineChart(title, xLabel string, rs []bench.Result, x func(bench.Result) float64, logX bool) (*plot.Plot, error) {
	pl := newPlot(title, xLabel, "committed (transactions/s)")
	xys := points(rs, x, perSecOf)
	if logX {
		xys = positive(xys, true)
	}
	if err := addSeries(pl, series{name: "committed", xys: xys, marks: true}); err != nil {
		return nil, err
	}
	fromZero(&pl.Y)
	if logX {
		logAxis(&pl.X)
	}
	return pl, nil
}
