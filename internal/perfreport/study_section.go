package perfreport

import (
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/dualchain/dualchain/internal/bench"
)

// intro says how the report was made.
func intro(p *page, r Report) {
	cmd := r.Command
	if cmd == "" {
		cmd = "dualchain bench --report"
	}
	took := ""
	if r.Took > 0 {
		took = " in " + r.Took.Round(time.Second).String()
	}
	p.para("This file is generated: do not edit by hand; run `make perf-report` to measure again and rewrite it "+
		"and its charts in perf/. It was produced by `%s`%s on %s. Committed/s counts transactions with a "+
		"committed receipt from the first submission to the last receipt; a latency runs from a transaction's "+
		"submission to its commit. Every figure is from one run, so on a shared machine runs vary.",
		cmd, took, r.Machine)
}

// studySection is the scaling study's table and the verify limit.
func studySection(p *page, r Report) {
	p.heading(2, "The study's configurations")
	if len(r.Study.Rows) == 0 {
		p.notMeasured("the scaling study's configurations")
		verifyLimitPara(p, r)
		return
	}
	p.para("Each row is a configuration of the scaling study this project started from, measured here. " +
		"The study's figure is the one it reported; the ratio is this run's committed/s over it.")
	var rows [][]string
	for _, row := range r.Study.Rows {
		res := row.Result
		rows = append(rows, []string{row.Name, strconv.Itoa(res.Nodes), res.Store, res.Exec, count(res.PerSec),
			orDash(row.Study > 0, figure(row.Study)), orDash(row.Ratio > 0, ratio(row.Ratio)+"×"), latencies(res),
			orDash(res.OfLimit > 0, percent(res.OfLimit))})
	}
	p.table([]string{"row", "nodes", "store", "exec", "committed/s", "study's figure", "ratio", "p50 / p99 ms",
		"of the verify limit"}, rows)
	verifyLimitPara(p, r)
}

// verifyLimitPara states the ceiling signature verification sets.
func verifyLimitPara(p *page, r Report) {
	limit := verifyLimit(r)
	if limit <= 0 {
		p.para("**The verify limit** (signatures this machine verifies per second) was not measured in this run.")
		return
	}
	p.para("**The verify limit.** This machine verifies %s signatures/s on all its cores (`ledger.VerifyBatch`). "+
		"Every committed transaction's signature is verified once, so no run commits signed transactions "+
		"faster than that; \"of the verify limit\" is a run's committed/s as a fraction of it.", count(limit))
}

// verifyLimit is the study's verify limit, or any run's.
func verifyLimit(r Report) float64 {
	if r.Study.VerifyLimit > 0 {
		return r.Study.VerifyLimit
	}
	for _, res := range allResults(r) {
		if res.VerifyLimit > 0 {
			return res.VerifyLimit
		}
	}
	return 0
}

// allResults is every run in the report.
func allResults(r Report) []bench.Result {
	var out []bench.Result
	for _, row := range r.Study.Rows {
		out = append(out, row.Result)
	}
	for _, rs := range [][]bench.Result{r.Sweep, r.NativeVsVM, r.Accounts, r.Nodes} {
		out = append(out, rs...)
	}
	return out
}

// latencySection is the latency distribution of the study's rows or,
// without them, of the native and VM runs.
func latencySection(p *page, r Report) {
	p.heading(2, "Commit latency")
	names, runs, of := cdfRuns(r)
	if len(runs) == 0 {
		p.notMeasured("latency distributions (no run recorded one)")
		return
	}
	p.para("The fraction of transactions committed within a given time, for %s. The time axis is logarithmic.", of)
	pl, err := cdfChart(names, runs)
	p.image(latencyCDFPNG, "Commit latency distribution of "+of, pl, err)
	var rows [][]string
	for i, res := range runs {
		rows = append(rows, []string{names[i], millis(res.P50), millis(res.P90), millis(res.P99), millis(res.Max)})
	}
	p.table([]string{"run", "p50 ms", "p90 ms", "p99 ms", "max ms"}, rows)
}

// cdfRuns picks the runs whose distributions the latency chart shows.
func cdfRuns(r Report) (names []string, runs []bench.Result, of string) {
	for _, row := range r.Study.Rows {
		if len(row.Result.CDF) > 0 {
			names, runs = append(names, row.Name), append(runs, row.Result)
		}
	}
	if len(runs) > 0 {
		return names, runs, "the study's configurations"
	}
	for i, res := range r.NativeVsVM {
		if len(res.CDF) > 0 {
			names, runs = append(names, labels(r.NativeVsVM)[i]), append(runs, res)
		}
	}
	return names, runs, "the native and VM runs"
}

func cdfChart(names []string, runs []bench.Result) (*plot.Plot, error) {
	pl := newPlot("Commit latency", "latency (ms, log scale)", "fraction committed")
	var ss []series
	for i, res := range runs {
		var xys plotter.XYs
		for _, q := range res.CDF {
			if q.Ms > 0 && finite(q.Ms) && finite(q.Q) {
				xys = append(xys, plotter.XY{X: q.Ms, Y: q.Q})
			}
		}
		ss = append(ss, series{name: names[i], xys: xys})
	}
	if err := addSeries(pl, ss...); err != nil {
		return nil, err
	}
	pl.Y.Min, pl.Y.Max = 0, 1
	logAxis(&pl.X)
	return pl, nil
}
