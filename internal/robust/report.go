package robust

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dualchain/dualchain/ledger"
)

// The invariants Check reports, one row each, in this order.
const (
	InvHistory      = "history well-formed"
	InvLedger       = "final ledger read"
	InvAcked        = "no acknowledged tx lost"
	InvFailed       = "no failed tx committed"
	InvOnce         = "no tx applied twice"
	InvNonces       = "nonces gapless"
	InvConserved    = "supply conserved"
	InvBounds       = "balances within 0..supply"
	InvNodes        = "nodes agree per height"
	InvRaftLog      = "raft logs identical"
	InvLinearizable = "linearizable"
)

var invariants = []string{
	InvHistory, InvLedger, InvAcked, InvFailed, InvOnce, InvNonces,
	InvConserved, InvBounds, InvNodes, InvRaftLog, InvLinearizable,
}

// Invariant is one row of the report.
type Invariant struct {
	Name       string   `json:"name"`
	Checked    int      `json:"checked"` // how many things it looked at
	Violations int      `json:"violations"`
	Examples   []string `json:"examples,omitempty"` // the first few violations
	Detail     string   `json:"detail,omitempty"`
	// Required says the run needs the row to compare something
	// (Options.Require): with nothing checked it fails.
	Required bool `json:"required,omitempty"`
}

// Holds reports whether the row passes: no violation, and, if it is
// required, something compared.
func (inv Invariant) Holds() bool {
	return inv.Violations == 0 && (inv.Checked > 0 || !inv.Required)
}

// OpCounts counts the history's operations by outcome, and how the
// unknown transactions resolved against the final ledger.
type OpCounts struct {
	Total   int `json:"total"`
	OK      int `json:"ok"`
	Fail    int `json:"fail"`
	Unknown int `json:"unknown"` // never ended included
	Unended int `json:"unended"` // began and never ended
	// Unknown transactions the ledger holds (they happened), and those it
	// does not (they did not). Unknown reads are neither.
	Happened    int `json:"happened"`
	NotHappened int `json:"not_happened"`
}

// Linearization is how the linearizability check ran.
type Linearization struct {
	Result        string        `json:"result"`     // ok, illegal, timeout, or skipped
	Ops           int           `json:"ops"`        // model operations (reads split, the final read added)
	Windows       int           `json:"windows"`    // checked one after another
	Partitions    int           `json:"partitions"` // the most in one window
	Elapsed       time.Duration `json:"elapsed"`
	Visualization string        `json:"visualization,omitempty"` // the HTML file written
}

// Report is Check's verdict.
type Report struct {
	Pass bool `json:"pass"`
	// Accounts are the tracked accounts: examples call Accounts[i] "ai".
	Accounts      []ledger.Address `json:"accounts"`
	Ops           OpCounts         `json:"ops"`
	Invariants    []Invariant      `json:"invariants"`
	Linearization Linearization    `json:"linearization"`
	Elapsed       time.Duration    `json:"elapsed"`
}

// Row returns the invariant named name, or a zero row.
func (r Report) Row(name string) Invariant {
	for _, inv := range r.Invariants {
		if inv.Name == name {
			return inv
		}
	}
	return Invariant{Name: name}
}

// Violations counts the violations of the invariant named name.
func (r Report) Violations(name string) int { return r.Row(name).Violations }

// Failed returns the names of the invariants that do not hold: those
// with violations, and those required that compared nothing.
func (r Report) Failed() []string {
	var out []string
	for _, inv := range r.Invariants {
		if !inv.Holds() {
			out = append(out, inv.Name)
		}
	}
	return out
}

// String returns the report as Write prints it.
func (r Report) String() string {
	var b strings.Builder
	_ = r.Write(&b)
	return b.String()
}

// Write prints the report as a table, each failing row followed by its
// examples.
func (r Report) Write(w io.Writer) error {
	verdict := "PASS"
	if !r.Pass {
		verdict = "FAIL"
	}
	o, l := r.Ops, r.Linearization
	fmt.Fprintf(w, "robustness check: %s in %v\n", verdict, r.Elapsed.Round(10*time.Microsecond))
	fmt.Fprintf(w, "ops: %d (ok %d, fail %d, unknown %d: %d happened, %d did not, %d never ended)\n",
		o.Total, o.OK, o.Fail, o.Unknown, o.Happened, o.NotHappened, o.Unended)
	fmt.Fprintf(w, "linearizability: %s, %d model ops in %d windows of up to %d partitions, %v\n",
		l.Result, l.Ops, l.Windows, l.Partitions, l.Elapsed.Round(10*time.Microsecond))
	if l.Visualization != "" {
		fmt.Fprintf(w, "visualization: %s\n", l.Visualization)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "invariant\tchecked\tviolations\n")
	for _, inv := range r.Invariants {
		violations := strconv.Itoa(inv.Violations)
		if inv.Checked == 0 && inv.Violations == 0 {
			violations = "NOT CHECKED: nothing to compare" // not a pass: say so
			if inv.Required {
				violations = "NOT CHECKED (required): nothing to compare" // a failure
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", inv.Name, inv.Checked, violations)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, inv := range r.Invariants {
		r.writeRow(w, inv)
	}
	_, err := fmt.Fprint(w, r.accountsLine())
	return err
}

func (r Report) writeRow(w io.Writer, inv Invariant) {
	if inv.Violations == 0 && inv.Detail == "" {
		return
	}
	fmt.Fprintf(w, "%s:", inv.Name)
	if inv.Detail != "" {
		fmt.Fprintf(w, " %s", inv.Detail)
	}
	fmt.Fprintln(w)
	for _, ex := range inv.Examples {
		fmt.Fprintf(w, "  - %s\n", ex)
	}
	if more := inv.Violations - len(inv.Examples); more > 0 && len(inv.Examples) > 0 {
		fmt.Fprintf(w, "  ... and %d more\n", more)
	}
}

func (r Report) accountsLine() string {
	if r.Pass || len(r.Accounts) == 0 {
		return ""
	}
	parts := make([]string, len(r.Accounts))
	for i, a := range r.Accounts {
		parts[i] = fmt.Sprintf("a%d=%s", i, a)
	}
	return "accounts: " + strings.Join(parts, " ") + "\n"
}
