package robust

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/dualchain/dualchain/ledger"
)

// DefaultTimeout bounds the linearizability check when Options.Timeout is
// zero.
const DefaultTimeout = time.Minute

// DefaultWindowOps is Options.WindowOps when zero: porcupine checks ten
// thousand ops in a few megabytes.
const DefaultWindowOps = 10000

// defaultExamples is how many violations a row lists when
// Options.Examples is zero.
const defaultExamples = 5

// Options tune Check.
type Options struct {
	// Timeout bounds the linearizability check (and so Check), within
	// ctx's deadline; 0 means DefaultTimeout. Running out is a failure.
	Timeout time.Duration
	// Visualize, if set, is where porcupine's HTML view of the history is
	// written when it is not linearizable or the check timed out.
	Visualize string
	// Drained says the final ledger was read after the bridge drained:
	// nothing may be in flight, and every bridge credit must have arrived.
	Drained bool
	// Examples is how many violations each row lists; 0 means 5.
	Examples int
	// WindowOps is how many model ops a window of the linearizability
	// check holds at least before the history is cut, at the next instant
	// no op is in flight (linearize.go); 0 means DefaultWindowOps.
	WindowOps int
	// Require names the rows that must compare something: one of them
	// with nothing checked fails the report (Invariant.Required), as does
	// a name that is no row of Check's.
	Require []string
}

// fate is the final ledger's word on one transaction op.
type fate struct {
	committed bool
	tx        CommittedTx // the first the ledger holds, if committed
}

// checker is one run of Check.
type checker struct {
	opts    Options
	ops     []Op
	initial []Account
	addrs   []ledger.Address       // tracked, by index
	idx     map[ledger.Address]int // tracked address → index
	valid   []bool                 // by op: well-formed, so checked

	txs       []CommittedTx
	final     Snapshot
	nodes     []NodeReport
	haveTxs   bool
	haveFinal bool
	byID      map[ledger.Hash][]CommittedTx
	fates     map[int]fate // by op id, for valid transaction ops

	rows   map[string]*Invariant
	order  []string // the rows' names, in the report's order
	counts OpCounts
	lin    Linearization
}

// Check checks history h against the final ledger l: see the package doc.
// It reads l once; it never returns a passing report for a run it could
// not check.
func Check(ctx context.Context, h *History, l FinalLedger, opts Options) Report {
	start := time.Now()
	c := newChecker(h, opts)
	c.validate()
	c.readLedger(ctx, l)
	c.resolve()
	c.checkAcked()
	c.checkOnce()
	c.checkNonces()
	c.checkSums()
	c.checkBounds()
	c.checkNodes()
	c.linearize(ctx)
	return c.report(time.Since(start))
}

func newChecker(h *History, opts Options) *checker {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Examples <= 0 {
		opts.Examples = defaultExamples
	}
	if opts.WindowOps <= 0 {
		opts.WindowOps = DefaultWindowOps
	}
	c := &checker{
		opts: opts, ops: h.Ops(), initial: h.Initial(),
		idx: map[ledger.Address]int{}, fates: map[int]fate{},
		rows: map[string]*Invariant{}, order: slices.Clone(invariants), lin: Linearization{Result: "skipped"},
	}
	for _, name := range invariants {
		c.rows[name] = &Invariant{Name: name}
	}
	for _, name := range opts.Require {
		if c.rows[name] == nil { // a row nothing checks: it fails
			c.rows[name] = &Invariant{Name: name}
			c.order = append(c.order, name)
		}
		c.rows[name].Required = true
	}
	for _, a := range c.initial {
		if _, dup := c.idx[a.Address]; dup {
			c.violate(InvHistory, "account %s tracked twice", a.Address)
			continue
		}
		c.idx[a.Address] = len(c.addrs)
		c.addrs = append(c.addrs, a.Address)
	}
	return c
}

// checked counts n more things the invariant looked at.
func (c *checker) checked(name string, n int) { c.rows[name].Checked += n }

// violate records one violation of the invariant named name.
func (c *checker) violate(name, format string, args ...any) {
	row := c.rows[name]
	row.Violations++
	if len(row.Examples) < c.opts.Examples {
		row.Examples = append(row.Examples, fmt.Sprintf(format, args...))
	}
}

// name is how examples call an address: "a3" for a tracked account.
func (c *checker) name(a ledger.Address) string {
	if i, ok := c.idx[a]; ok {
		return fmt.Sprintf("a%d", i)
	}
	return a.String()
}

// describe is how examples show an op.
func (c *checker) describe(op *Op) string {
	at := fmt.Sprintf("client %d, [%v, %v]", op.Client, op.Call, op.Return)
	switch op.Kind {
	case KindRead:
		return fmt.Sprintf("op %d read %s (%s)", op.ID, c.name(op.From), at)
	case KindReadAll:
		return fmt.Sprintf("op %d read all (%s)", op.ID, at)
	case KindSettle, KindDeposit:
		return fmt.Sprintf("op %d %s %s %d nonce %d tx %s (%s)", op.ID, op.Kind, c.name(op.From), op.Amount, op.Nonce, short(op.TxID), at)
	}
	return fmt.Sprintf("op %d %s %s→%s %d nonce %d tx %s (%s)", op.ID, op.Kind, c.name(op.From), c.name(op.To), op.Amount, op.Nonce, short(op.TxID), at)
}

// short is the first 12 hex digits of h.
func short(h ledger.Hash) string { return h.String()[:12] }

// validate checks that every op is one Check can judge, and marks those
// it can.
func (c *checker) validate() {
	c.valid = make([]bool, len(c.ops))
	ids := map[ledger.Hash]int{}
	for i := range c.ops {
		op := &c.ops[i]
		c.checked(InvHistory, 1)
		problem := c.problem(op)
		if problem == "" && op.Kind.IsTx() {
			if prev, dup := ids[op.TxID]; dup {
				problem = fmt.Sprintf("tx id also op %d's: a retry is the same op", prev)
			}
			ids[op.TxID] = op.ID
		}
		if problem != "" {
			c.violate(InvHistory, "%s: %s", c.describe(op), problem)
			continue
		}
		c.valid[i] = true
	}
}

// problem says what is wrong with op, or "".
func (c *checker) problem(op *Op) string {
	switch {
	case op.Outcome != "" && op.Outcome != OutcomeOK && op.Outcome != OutcomeFail && op.Outcome != OutcomeUnknown:
		return fmt.Sprintf("outcome %q", op.Outcome)
	case op.Outcome != "" && op.Return < op.Call:
		return "returns before its call"
	case !op.Kind.IsTx():
		return c.readProblem(op)
	case op.Kind != KindHotTransfer && op.Kind != KindSettle && op.Kind != KindDeposit && op.Kind != KindColdTransfer:
		return fmt.Sprintf("kind %q", op.Kind)
	}
	if _, ok := c.idx[op.From]; !ok {
		return "sent from an account the history does not track"
	}
	if op.TxID == (ledger.Hash{}) || op.Amount == 0 {
		return "no tx id or no amount"
	}
	return ""
}

func (c *checker) readProblem(op *Op) string {
	if op.Outcome != OutcomeOK {
		return ""
	}
	s := op.Result.Snapshot
	if s == nil {
		return "a read that answered nothing"
	}
	read := false
	for _, a := range s.Accounts {
		if _, ok := c.idx[a.Address]; !ok {
			return fmt.Sprintf("read %s, not tracked", a.Address)
		}
		read = read || a.Address == op.From
	}
	if op.Kind == KindRead && !read {
		return "did not read its account"
	}
	return ""
}

// readLedger reads the final ledger once.
func (c *checker) readLedger(ctx context.Context, l FinalLedger) {
	var err error
	c.checked(InvLedger, 3)
	if c.txs, err = l.Txs(ctx, c.addrs); err != nil {
		c.violate(InvLedger, "committed txs: %v", err)
	} else {
		c.haveTxs = true
	}
	if c.final, err = l.Snapshot(ctx, c.addrs); err != nil {
		c.violate(InvLedger, "final snapshot: %v", err)
	} else {
		c.haveFinal = c.checkFinal()
	}
	if c.nodes, err = l.Nodes(ctx); err != nil {
		c.violate(InvLedger, "node reports: %v", err)
	}
	c.byID = map[ledger.Hash][]CommittedTx{}
	for _, tx := range c.txs {
		c.byID[tx.ID] = append(c.byID[tx.ID], tx)
	}
}

// checkFinal reports whether the final snapshot holds every tracked
// account once, and the sums.
func (c *checker) checkFinal() bool {
	ok := c.final.Sums != nil
	if !ok {
		c.violate(InvLedger, "final snapshot has no sums")
	}
	seen := map[ledger.Address]bool{}
	for _, a := range c.final.Accounts {
		if _, tracked := c.idx[a.Address]; !tracked || seen[a.Address] {
			c.violate(InvLedger, "final snapshot holds %s twice or untracked", a.Address)
			ok = false
		}
		seen[a.Address] = true
	}
	if len(seen) != len(c.addrs) {
		c.violate(InvLedger, "final snapshot holds %d of the %d tracked accounts", len(seen), len(c.addrs))
		ok = false
	}
	return ok
}

// resolve counts outcomes and decides, from the ledger, what happened to
// every transaction op.
func (c *checker) resolve() {
	for i := range c.ops {
		op := &c.ops[i]
		c.count(op)
		if !c.valid[i] || !op.Kind.IsTx() || !c.haveTxs {
			continue
		}
		txs := c.byID[op.TxID]
		f := fate{committed: len(txs) > 0}
		if f.committed {
			f.tx = txs[0]
		}
		c.fates[op.ID] = f
		if unknown(op) && f.committed {
			c.counts.Happened++
		} else if unknown(op) {
			c.counts.NotHappened++
		}
	}
}

func (c *checker) count(op *Op) {
	c.counts.Total++
	switch op.Outcome {
	case OutcomeOK:
		c.counts.OK++
	case OutcomeFail:
		c.counts.Fail++
	case "":
		c.counts.Unended++
		c.counts.Unknown++
	default:
		c.counts.Unknown++
	}
}

// unknown reports whether the client never learned op's outcome.
func unknown(op *Op) bool { return op.Outcome == OutcomeUnknown || op.Outcome == "" }

// report assembles the verdict.
func (c *checker) report(elapsed time.Duration) Report {
	r := Report{Pass: true, Accounts: c.addrs, Ops: c.counts, Linearization: c.lin, Elapsed: elapsed}
	for _, name := range c.order {
		row := *c.rows[name]
		r.Pass = r.Pass && row.Holds()
		r.Invariants = append(r.Invariants, row)
	}
	return r
}
