package perfreport

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/dualchain/dualchain/internal/bench"
	"github.com/dualchain/dualchain/internal/progress"
)

// count is a rate or a count rounded, with thousands separators: 12,345.
func count(f float64) string { return progress.Count(int64(math.Round(f))) }

// perSec is a rate: "12,345/s".
func perSec(f float64) string { return count(f) + "/s" }

// millis is a latency in milliseconds with the precision it deserves:
// 0.42, 6.1, 93.5, 1,204.
func millis(ms float64) string {
	switch {
	case ms < 1:
		return strconv.FormatFloat(ms, 'f', 2, 64)
	case ms < 100:
		return strconv.FormatFloat(ms, 'f', 1, 64)
	}
	return count(ms)
}

// percent is a share of 0..1 as "31%", or "0.4%" under one percent.
func percent(share float64) string {
	p := share * 100
	if p > 0 && p < 1 {
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(math.Round(p), 'f', 0, 64) + "%"
}

// ratio is a quotient with three significant digits or so: "0.83",
// "5.81", "29.9", "3,012".
func ratio(f float64) string {
	switch {
	case f < 10:
		return strconv.FormatFloat(f, 'f', 2, 64)
	case f < 100:
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return count(f)
}

// figure is a figure as its source gave it: 10.24, 724.65, 4,820.
func figure(f float64) string {
	if f == math.Trunc(f) {
		return count(f)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// orDash is s, or an em dash where there is no figure.
func orDash(ok bool, s string) string {
	if !ok {
		return "—"
	}
	return s
}

// latencies is "p50 / p99" in milliseconds.
func latencies(r bench.Result) string { return millis(r.P50) + " / " + millis(r.P99) }

// kind is what a run executed: its execution mode, or its workload when
// the mode is not recorded.
func kind(r bench.Result) string {
	if r.Exec != "" {
		return r.Exec
	}
	return r.Workload
}

// labels names each run by the fields that differ between runs (kind,
// nodes, store, state size), so a chart's legend stays short.
func labels(rs []bench.Result) []string {
	differs := func(f func(bench.Result) string) bool {
		for _, r := range rs {
			if f(r) != f(rs[0]) {
				return true
			}
		}
		return false
	}
	parts := []func(bench.Result) string{
		kind,
		func(r bench.Result) string { return nodeWord(r.Nodes) },
		func(r bench.Result) string { return r.Store },
		func(r bench.Result) string { return progress.Count(int64(r.StateSize)) + " accounts" },
	}
	out := make([]string, len(rs))
	for i, r := range rs {
		var words []string
		for j, p := range parts {
			if j == 0 || differs(p) {
				words = append(words, p(r))
			}
		}
		out[i] = strings.Join(words, ", ")
	}
	return out
}

// paths is the receipts by execution path: "native 1,000, vm 20".
func paths(r bench.Result) string {
	var out []string
	for _, k := range sortedKeys(r.Paths) {
		out = append(out, k+" "+progress.Count(r.Paths[k]))
	}
	if len(out) == 0 {
		return "—"
	}
	return strings.Join(out, ", ")
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
