package robustness

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dualchain/dualchain/internal/robust"
)

// FaultEvent is one fault injected in a run.
type FaultEvent struct {
	Fault       string        `json:"fault"`
	Node        string        `json:"node,omitempty"`
	At          time.Duration `json:"at"` // injected, on the history's clock
	Effect      string        `json:"effect,omitempty"`
	EffectAfter time.Duration `json:"effect_after"`
	Held        time.Duration `json:"held"`
	Healed      string        `json:"healed,omitempty"`
	// Recovery is the time from healing to every node running, caught up
	// and following one leader; Recovered is when, on the history's clock.
	Recovery  time.Duration `json:"recovery"`
	Recovered time.Duration `json:"recovered"`
	Err       string        `json:"err,omitempty"` // why it did not take effect or the cluster did not recover
}

// Survived reports whether the fault took effect and the cluster
// recovered.
func (e FaultEvent) Survived() bool { return e.Err == "" }

// FaultStat sums the events of one kind of fault.
type FaultStat struct {
	Fault    string           `json:"fault"`
	Injected int              `json:"injected"`
	Survived int              `json:"survived"`
	Effect   time.Duration    `json:"effect_mean"` // to take effect, mean
	Recovery [3]time.Duration `json:"recovery"`    // min, mean, max of those survived
}

// Throughput is ok ops per second in the phases of a run: before the
// first fault, while one was in force (injected to recovered), between
// faults, and after the last.
type Throughput struct {
	Before  float64 `json:"before"`
	During  float64 `json:"during"`
	Between float64 `json:"between"`
	After   float64 `json:"after"`
}

// KindCount counts one kind of op by outcome.
type KindCount struct {
	OK, Fail, Unknown int
}

// Summary is what a run did and found.
type Summary struct {
	Seed     int64         `json:"seed"`
	Dir      string        `json:"dir"`
	Store    string        `json:"store"`
	Nodes    int           `json:"nodes"`
	Clients  int           `json:"clients"`
	Duration time.Duration `json:"duration"`          // of the workload
	Elapsed  time.Duration `json:"elapsed"`           // of the whole run
	Skipped  []string      `json:"skipped,omitempty"` // faults the run cannot do (no Redis, namespaces or failpoints)

	Events     []FaultEvent              `json:"events"`
	Faults     []FaultStat               `json:"faults"`
	ByKind     map[robust.Kind]KindCount `json:"by_kind"`
	Pauses     int                       `json:"pauses"`
	Drained    int                       `json:"drained"` // pauses that saw the bridge drain
	Throughput Throughput                `json:"throughput"`
	Repairs    RepairStats               `json:"repairs"` // unknown txs resent after their ops
	Report     robust.Report             `json:"report"`
	Errors     []string                  `json:"errors,omitempty"` // besides violations
	Saved      string                    `json:"saved,omitempty"`  // where a failing run's artifacts are
	// Unsaved names the files Saved lacks, each with why (a run that
	// ended before its final ledger was read has no ledger.json).
	Unsaved []string `json:"unsaved,omitempty"`
}

// faultStats sums events by fault, in the order faults are listed.
func faultStats(events []FaultEvent) []FaultStat {
	var out []FaultStat
	for _, name := range FaultNames() {
		s := FaultStat{Fault: name}
		var effect, total time.Duration
		for _, e := range events {
			if e.Fault != name {
				continue
			}
			s.Injected++
			effect += e.EffectAfter
			if !e.Survived() {
				continue
			}
			if s.Survived == 0 || e.Recovery < s.Recovery[0] {
				s.Recovery[0] = e.Recovery
			}
			s.Survived++
			total += e.Recovery
			s.Recovery[2] = max(s.Recovery[2], e.Recovery)
		}
		if s.Injected == 0 {
			continue
		}
		s.Effect = effect / time.Duration(s.Injected)
		if s.Survived > 0 {
			s.Recovery[1] = total / time.Duration(s.Survived)
		}
		out = append(out, s)
	}
	return out
}

// byKind counts ops by kind and outcome; an op that never ended is
// unknown.
func byKind(ops []robust.Op) map[robust.Kind]KindCount {
	out := map[robust.Kind]KindCount{}
	for _, op := range ops {
		c := out[op.Kind]
		switch op.Outcome {
		case robust.OutcomeOK:
			c.OK++
		case robust.OutcomeFail:
			c.Fail++
		default:
			c.Unknown++
		}
		out[op.Kind] = c
	}
	return out
}

// throughput computes ok ops per second in each phase of a run whose
// workload ended at end, with faults in force over windows (sorted, each
// [injected, recovered]). Ops of clients at or past clients (the pauses'
// reads) are not counted.
func throughput(ops []robust.Op, clients int, windows [][2]time.Duration, end time.Duration) Throughput {
	var count [4]int
	var span [4]time.Duration
	phase := func(t time.Duration) int {
		switch {
		case len(windows) == 0 || t < windows[0][0]:
			return 0
		case t >= windows[len(windows)-1][1]:
			return 3
		}
		for _, w := range windows {
			if t >= w[0] && t < w[1] {
				return 1
			}
		}
		return 2
	}
	for _, op := range ops {
		if op.Outcome == robust.OutcomeOK && op.Client < clients && op.Return <= end {
			count[phase(op.Return)]++
		}
	}
	if len(windows) == 0 {
		span[0] = end
	} else {
		span[0] = windows[0][0]
		span[3] = max(0, end-windows[len(windows)-1][1])
		for i, w := range windows {
			span[1] += w[1] - w[0]
			if i > 0 {
				span[2] += max(0, w[0]-windows[i-1][1])
			}
		}
	}
	rate := func(i int) float64 {
		if span[i] <= 0 {
			return 0
		}
		return float64(count[i]) / span[i].Seconds()
	}
	return Throughput{Before: rate(0), During: rate(1), Between: rate(2), After: rate(3)}
}

// Pass reports whether the run found nothing wrong.
func (s Summary) Pass() bool { return s.Report.Pass && len(s.Errors) == 0 }

// String returns the summary as Write prints it.
func (s Summary) String() string {
	var b strings.Builder
	_ = s.Write(&b)
	return b.String()
}

// Write prints the summary: faults by type with their recovery times,
// ops by kind and outcome, throughput by phase, and the checker's report.
func (s Summary) Write(w io.Writer) error {
	verdict := "PASS"
	if !s.Pass() {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "robustness run: %s, seed %d, %d nodes (%s store), %d clients, workload %v, run %v\n",
		verdict, s.Seed, s.Nodes, s.Store, s.Clients, s.Duration.Round(time.Second), s.Elapsed.Round(time.Second))
	if len(s.Skipped) > 0 {
		fmt.Fprintf(w, "faults left out (they need Redis, network namespaces (root, ip and iptables) or a failpoints binary): %s\n", strings.Join(s.Skipped, ", "))
	}
	s.writeFaults(w)
	s.writeOps(w)
	t := s.Throughput
	fmt.Fprintf(w, "throughput (ok ops/s): before faults %.1f, during %.1f, between %.1f, after %.1f\n", t.Before, t.During, t.Between, t.After)
	fmt.Fprintf(w, "pauses: %d (%d with the bridge drained)\n", s.Pauses, s.Drained)
	if rp := s.Repairs; rp.Count > 0 {
		fmt.Fprintf(w, "unknown txs resent until known: %d (%d resolved, %d STUCK: never committed nor refused), the longest %v (%s)\n",
			rp.Count, rp.Resolved, rp.Stuck, rp.Longest.Round(time.Millisecond), rp.Kind)
	}
	for _, e := range s.Errors {
		fmt.Fprintf(w, "error: %s\n", e)
	}
	if s.Saved != "" {
		fmt.Fprintf(w, "saved: %s\n", s.Saved)
	}
	for _, u := range s.Unsaved {
		fmt.Fprintf(w, "not saved: %s\n", u)
	}
	return s.Report.Write(w)
}

func (s Summary) writeFaults(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "fault\tinjected\tsurvived\teffect (mean)\trecovery min/mean/max\n")
	for _, f := range s.Faults {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%v\t%v / %v / %v\n", f.Fault, f.Injected, f.Survived, f.Effect.Round(time.Millisecond),
			f.Recovery[0].Round(time.Millisecond), f.Recovery[1].Round(time.Millisecond), f.Recovery[2].Round(time.Millisecond))
	}
	tw.Flush()
	for _, e := range s.Events {
		fmt.Fprintf(w, "  %s\n", describeEvent(e))
	}
}

func (s Summary) writeOps(w io.Writer) {
	kinds := make([]string, 0, len(s.ByKind))
	for k := range s.ByKind {
		kinds = append(kinds, string(k))
	}
	slices.Sort(kinds)
	var parts []string
	for _, k := range kinds {
		c := s.ByKind[robust.Kind(k)]
		parts = append(parts, fmt.Sprintf("%s %d/%d/%d", k, c.OK, c.Fail, c.Unknown))
	}
	fmt.Fprintf(w, "ops by kind (ok/fail/unknown): %s\n", strings.Join(parts, ", "))
}
