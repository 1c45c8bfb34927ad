package demo

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dualchain/dualchain/internal/audit"
	"github.com/dualchain/dualchain/internal/progress"
)

// Step statuses.
const (
	StatusPass    = "pass"
	StatusFail    = "fail"
	StatusSkipped = "skipped" // not run: an earlier step failed, or it cannot run on this store
)

// Report is what a run of the demo did and found: what `dualchain demo
// --json` prints.
type Report struct {
	// Pass is true when no step failed and every check passed.
	Pass        bool    `json:"pass"`
	Store       string  `json:"store"`        // redis, memory or pebble
	StoreReason string  `json:"store_reason"` // why, in words
	Nodes       int     `json:"nodes"`
	Dir         string  `json:"dir"`
	Kept        bool    `json:"kept"`        // the cluster was left running (--keep)
	DirRemoved  bool    `json:"dir_removed"` // the temporary directory was removed
	Seconds     float64 `json:"seconds"`
	Interrupted bool    `json:"interrupted,omitempty"` // ctx ended (Ctrl-C)
	Steps       []Step  `json:"steps"`
	// Checks are the audit's and the demo's own, then whether every
	// process was stopped.
	Checks []audit.Check `json:"checks"`
	// Processes are every process the demo started, by PID.
	Processes []Process `json:"processes"`
}

// Step is one numbered step of the story.
type Step struct {
	N       int            `json:"n"`
	Name    string         `json:"name"`
	Title   string         `json:"title"`
	Status  string         `json:"status"`  // StatusPass, StatusFail or StatusSkipped
	Summary string         `json:"summary"` // the ✓ line, or why it failed or was skipped
	Seconds float64        `json:"seconds"`
	Figures map[string]any `json:"figures,omitempty"`
}

// Process is one process the demo started.
type Process struct {
	Node    string `json:"node"`
	Program string `json:"program"` // ProgramNode or ProgramRedis
	PID     int    `json:"pid"`
}

// Programs a Process runs.
const (
	ProgramNode  = "dualchain"
	ProgramRedis = "redis-server"
)

// failures counts the steps and checks that did not pass; a step skipped
// for its store is no failure.
func (rep Report) failures() int {
	n := 0
	for _, s := range rep.Steps {
		if s.Status == StatusFail {
			n++
		}
	}
	for _, c := range rep.Checks {
		if !c.Pass {
			n++
		}
	}
	return n
}

// writeTable writes the verdict table: one row per step and check.
func (rep Report) writeTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP / CHECK\tNODE\tVERDICT\tTIME\tDETAIL")
	for _, s := range rep.Steps {
		took := progress.Seconds(time.Duration(s.Seconds * float64(time.Second)))
		fmt.Fprintf(tw, "%d. %s\t\t%s\t%s\t%s\n", s.N, s.Name, strings.ToUpper(s.Status), took, oneLine(s.Summary))
	}
	for _, c := range rep.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t\t%s\n", c.Check, c.Node, passFail(c.Pass), oneLine(c.Detail))
	}
	return tw.Flush()
}

func passFail(pass bool) string {
	if pass {
		return "PASS"
	}
	return "FAIL"
}

// oneLine keeps the first line of s, cut to a table's width.
func oneLine(s string) string {
	const most = 160
	s, _, _ = strings.Cut(s, "\n")
	if r := []rune(s); len(r) > most {
		return string(r[:most-1]) + "…"
	}
	return s
}
