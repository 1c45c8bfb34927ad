package perfreport

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// cpuBoundShare is how busy the cores must be, on average, for the report
// to call a run bound by CPU.
const cpuBoundShare = 0.85

// profileSection is where the CPU went and what that says bounds the run.
func profileSection(p *page, r Report) {
	p.heading(2, "Where the CPU goes")
	prof := r.Profile
	if prof.Seconds <= 0 || len(prof.Groups) == 0 {
		p.notMeasured("a CPU profile")
		return
	}
	r.Profile.Groups = slices.SortedStableFunc(slices.Values(prof.Groups), func(a, b ProfileGroup) int {
		return cmp.Compare(b.Share, a.Share)
	})
	prof = r.Profile
	run := prof.Run
	if run == "" {
		run = "one run of the bench"
	}
	p.para("A CPU profile of %s: %s CPU-seconds sampled over %s seconds of wall time. Each sample is charged "+
		"to the first function on its stack, from the leaf, that belongs to a group, so allocation and copying "+
		"count for the code that asked for them; a garbage collector's work counts as GC wherever it runs. "+
		"A group's heaviest functions are its own time (flat).", run, seconds(prof.Seconds), seconds(prof.Wall))
	var rows [][]string
	for _, g := range prof.Groups {
		rows = append(rows, []string{g.Name, percent(g.Share), codeList(g.Top)})
	}
	p.table([]string{"group", "share of CPU", "heaviest functions"}, rows)
	rows = nil
	for _, f := range prof.Top {
		rows = append(rows, []string{"`" + shortName(f.Name) + "`", percent(f.Flat), percent(f.Cum)})
	}
	p.table([]string{"function", "flat", "cumulative"}, rows)
	p.heading(3, "What bounds it")
	p.para("%s", bounds(r))
}

// bounds is the "what bounds it" paragraph, worked out from the profile,
// the machine and the runs.
func bounds(r Report) string {
	prof := r.Profile
	top := prof.Groups[0]
	s := fmt.Sprintf("The largest group is %s, with %s of the CPU time sampled", top.Name, percent(top.Share))
	if len(top.Top) > 0 {
		s += fmt.Sprintf(" (its heaviest function is `%s`)", shortName(top.Top[0]))
	}
	if len(prof.Groups) > 1 {
		s += fmt.Sprintf(", then %s with %s", prof.Groups[1].Name, percent(prof.Groups[1].Share))
	}
	s += ". " + busyFinding(prof, r.Machine.Cores)
	if limit, best := verifyLimit(r), bestRate(r); limit > 0 && best > 0 {
		s += fmt.Sprintf(" The best committed rate in this report, %s, is %s of the verify limit (%s).",
			perSec(best), percent(best/limit), perSec(limit))
	}
	return s
}

// busyFinding says whether the profiled process kept the cores busy. A
// profile covers one process; the others on the machine (more nodes,
// redis-server, the load generator) are not in it.
func busyFinding(prof ProfileSummary, cores int) string {
	if prof.Wall <= 0 || cores <= 0 {
		return ""
	}
	busy := strconv.FormatFloat(prof.Seconds/prof.Wall, 'f', 1, 64)
	if prof.Seconds/prof.Wall >= cpuBoundShare*float64(cores) {
		return fmt.Sprintf("The profiled process kept %s of the %d cores busy on average, so the run was bound by "+
			"CPU: %s is where saving CPU would raise throughput most.", busy, cores, prof.Groups[0].Name)
	}
	return fmt.Sprintf("The profiled process kept only %s of the %d cores busy on average: the rest of the time "+
		"went to other processes (other nodes, redis-server, the load generator) or to waiting (for an fsync, "+
		"the network, a lock), which this profile does not show.", busy, cores)
}

// bestRate is the highest committed/s of any run in the report.
func bestRate(r Report) float64 {
	var best float64
	for _, res := range allResults(r) {
		best = max(best, res.PerSec)
	}
	return best
}

// shortName drops a symbol's import path but for its last element:
// "github.com/x/curve25519-voi/curve.(*P).Add" → "curve.(*P).Add". The
// standard library's paths are short and telling, so they stay:
// "net/http.(*conn).serve".
func shortName(fn string) string {
	pkg := packageOf(fn)
	first, _, _ := strings.Cut(pkg, "/")
	if i := strings.LastIndexByte(pkg, '/'); i >= 0 && strings.Contains(first, ".") {
		return fn[i+1:]
	}
	return fn
}

// codeList is names as code, comma-separated.
func codeList(fns []string) string {
	var out []string
	for _, fn := range fns {
		out = append(out, "`"+shortName(fn)+"`")
	}
	return strings.Join(out, ", ")
}

// seconds is a duration in seconds to one decimal, with separators.
func seconds(s float64) string {
	if s >= 1000 {
		return count(s)
	}
	return strconv.FormatFloat(s, 'f', 1, 64)
}
