package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/dualchain/dualchain/internal/progress"
)

// countf writes f rounded, with thousands separators.
func countf(f float64) string { return progress.Count(int64(f + 0.5)) }

// ms writes a latency in milliseconds with a precision that fits it.
func ms(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.2f ms", v)
}

// WriteResult prints a run's figures as a table.
func WriteResult(w io.Writer, r Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	loop := "closed loop"
	if r.Offered > 0 {
		loop = "open loop at " + countf(r.Offered) + " tx/s"
	}
	fmt.Fprintf(tw, "workload\t%s on %d node(s), %s store, --exec %s\n", r.Workload, r.Nodes, r.Store, r.Exec)
	fmt.Fprintf(tw, "load\t%s, %d requests in flight at most, batches of %s, %s accounts (state of %s)\n",
		loop, r.Concurrency, progress.Count(int64(r.Batch)), progress.Count(int64(r.Accounts)), progress.Count(int64(r.StateSize)))
	fmt.Fprintf(tw, "committed\t%s of %s submitted in %.1fs\n", progress.Count(r.Committed), progress.Count(r.Submitted), r.Seconds)
	fmt.Fprintf(tw, "committed tx/s\t%s\n", countf(r.PerSec))
	fmt.Fprintf(tw, "latency\tp50 %s, p90 %s, p99 %s, max %s (submission to commit)\n", ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max))
	fmt.Fprintf(tw, "paths\t%s\n", kinds(r.Paths, "none"))
	fmt.Fprintf(tw, "errors\t%s\n", kinds(r.ErrorKinds, "none"))
	if r.VerifyLimit > 0 {
		fmt.Fprintf(tw, "verify limit\t%s signatures/s on every core; this run is %.1f%% of it\n", countf(r.VerifyLimit), 100*r.OfLimit)
	}
	if r.RanOut {
		fmt.Fprintf(tw, "note\tthe presigned transactions ran out before the duration ended: raise --presign\n")
	}
	return tw.Flush()
}

// kinds writes counts by name, largest first: "native 1,000, vm 3".
func kinds(m map[string]int64, none string) string {
	if len(m) == 0 {
		return none
	}
	names := slices.SortedFunc(maps.Keys(m), func(a, b string) int {
		if m[a] != m[b] {
			return int(m[b] - m[a])
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + " " + progress.Count(m[n])
	}
	return strings.Join(parts, ", ")
}

// figure writes a study figure as the study gave it: 10.24, 724.65, 4,820.
func figure(f float64) string {
	if f == float64(int64(f)) {
		return progress.Count(int64(f))
	}
	return fmt.Sprintf("%.2f", f)
}

// WriteStudy prints the study's table: each row beside the study's
// figure and the ratio.
func WriteStudy(w io.Writer, s Study) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "row\tnodes\tstore\tcommitted tx/s\tstudy tx/s\tratio\tp50\tp99\tof verify limit\terrors\t")
	for _, r := range s.Rows {
		study, ratio := "—", "—"
		if r.Study > 0 {
			study, ratio = figure(r.Study), fmt.Sprintf("%.0f×", r.Ratio)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f%%\t%s\t\n", r.Name, r.Result.Nodes, r.Result.Store,
			countf(r.Result.PerSec), study, ratio, ms(r.Result.P50), ms(r.Result.P99), 100*r.Result.OfLimit, progress.Count(r.Result.Errors))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\nverify limit: %s signatures/s on every core of this machine; study rows took %s.\n"+
		"The study's 3-node comparison is its best single-node figure (it had no cluster); it had no VM + Redis row.\n",
		countf(s.VerifyLimit), progress.Seconds(s.Took))
	return err
}
