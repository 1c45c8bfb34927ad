package robust

// How the history becomes porcupine's: which ops the model sees, over
// which intervals, in which partitions.
//
// A transaction op is in the model if it happened: acknowledged (with the
// receipt the client was told), or unknown and in the ledger (with the
// ledger's receipt). A rejected one, or an unknown one the ledger does not
// hold, did not happen and is left out. An unknown op that happened may
// have committed any time after its call, so its interval is open-ended;
// to keep porcupine's search narrow it is closed at the first return of
// an op that proves its nonce used (an acknowledged transaction of the
// same account and chain with the same or a later nonce, or a read that
// saw a later next nonce), or else at the end of the history. In any
// linearization those ops come after it, so this loses nothing.
//
// Partitions are the groups of accounts that transfers connect (settles
// and deposits stay within one account); a read is split along them, and
// porcupine checks each group on its own.
//
// Porcupine's memory grows with the square of the ops it checks at once,
// so a long history is cut into windows, checked one after another, at
// instants no op of the model is in flight (the driver makes such
// instants: it pauses its clients now and then). The state a window
// starts from is what the ops before the cut did: balances, nonces and
// credits in order are the same in every linearization; only how many
// credits had arrived differs, and the window starts from the fewest the
// balances allow, a state that can do whatever the others can. So a cut
// never fails a correct run; it only forgets which credits reads had
// seen. Where a window ends with a read of every account, atomic, with
// nothing in flight (Sums.InFlight zero), begun after every other op
// returned, the next starts from exactly what it read. The final snapshot
// is one more read, after everything.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// evidence is a time by which an account's next nonce on a chain was at
// least next.
type evidence struct {
	next uint64
	at   int64
}

// builder turns the checked history into porcupine's operations.
type builder struct {
	c        *checker
	part     []int // by account index: its partition
	end      int64 // the history's last time
	evidence map[[2]int][]evidence
	out      []porcupine.Operation
}

// linearize checks the history against the bank model.
func (c *checker) linearize(ctx context.Context) {
	row := c.rows[InvLinearizable]
	if !c.haveTxs || !c.haveFinal || c.rows[InvHistory].Violations > 0 {
		row.Detail = "not checked: the history is malformed or the final ledger unread (see those rows)"
		return
	}
	b := c.newBuilder()
	ops := b.build()
	timeout := c.opts.Timeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	c.lin = Linearization{Result: "timeout", Ops: len(ops)}
	row.Checked = len(ops)
	if timeout <= 0 || ctx.Err() != nil {
		c.violate(InvLinearizable, "no time left to check (context: %v): a checker that cannot finish fails", ctx.Err())
		return
	}
	start := time.Now()
	defer func() { c.lin.Elapsed = time.Since(start) }()
	state := c.initialBank()
	for _, w := range windows(ops, c.opts.WindowOps) {
		c.lin.Windows++
		c.lin.Partitions = max(c.lin.Partitions, len(partition(w)))
		if !c.window(state, w, time.Until(start.Add(timeout))) {
			return
		}
		state = state.after(w)
	}
	c.lin.Result = "ok"
}

// window checks one window from state, reporting whether it linearizes.
func (c *checker) window(state bank, w []porcupine.Operation, timeout time.Duration) bool {
	model := newModel(state, c.names())
	if timeout <= 0 {
		c.violate(InvLinearizable, "the checker ran out of time at window %d: a timeout is a failure, not a pass", c.lin.Windows)
		return false
	}
	res, info := porcupine.CheckOperationsVerbose(model, w, timeout)
	switch res {
	case porcupine.Ok:
		return true
	case porcupine.Illegal:
		c.lin.Result = "illegal"
		c.explain(w, info)
	default:
		c.violate(InvLinearizable, "the checker timed out at window %d (%d ops): a timeout is a failure, not a pass", c.lin.Windows, len(w))
	}
	c.visualize(model, info)
	return false
}

// visualize writes porcupine's view of a failed check, if asked.
func (c *checker) visualize(model porcupine.Model, info porcupine.LinearizationInfo) {
	if c.opts.Visualize == "" {
		return
	}
	if err := porcupine.VisualizePath(model, info, c.opts.Visualize); err != nil {
		c.rows[InvLinearizable].Detail = fmt.Sprintf("writing the visualization: %v", err)
		return
	}
	c.lin.Visualization = c.opts.Visualize
}

// explain records, for each partition that did not linearize, how far it
// got and which ops it could not place.
func (c *checker) explain(ops []porcupine.Operation, info porcupine.LinearizationInfo) {
	names := c.names()
	partials := info.PartialLinearizations()
	for p, part := range partition(ops) {
		longest := []int{}
		if p < len(partials) {
			for _, seq := range partials[p] {
				if len(seq) > len(longest) {
					longest = seq
				}
			}
		}
		if len(longest) == len(part) {
			continue
		}
		var left []porcupine.Operation
		for i, op := range part {
			if !slices.Contains(longest, i) {
				left = append(left, op)
			}
		}
		slices.SortStableFunc(left, func(a, b porcupine.Operation) int { return int(a.Call - b.Call) })
		var first []string
		for _, op := range left[:min(3, len(left))] {
			first = append(first, fmt.Sprintf("%s [%v, %v]", op.Input.(*mop).describe(names), time.Duration(op.Call), time.Duration(op.Return)))
		}
		c.violate(InvLinearizable, "accounts %s: at most %d of %d ops linearize; none of these fits next: %s",
			c.partNames(part), len(longest), len(part), strings.Join(first, "; "))
	}
}

// partNames names the accounts of a partition's ops.
func (c *checker) partNames(part []porcupine.Operation) string {
	var idx []int
	for _, op := range part {
		m := op.Input.(*mop)
		if m.kind.IsTx() {
			idx = append(idx, m.from)
		}
		for _, v := range m.seen {
			idx = append(idx, v.acct)
		}
	}
	slices.Sort(idx)
	var out []string
	for _, i := range slices.Compact(idx) {
		out = append(out, fmt.Sprintf("a%d", i))
	}
	return strings.Join(out, ",")
}

// names are the model's names of the tracked accounts.
func (c *checker) names() []string {
	out := make([]string, len(c.addrs))
	for i := range out {
		out[i] = fmt.Sprintf("a%d", i)
	}
	return out
}

// initialBank is the model's state before the first op.
func (c *checker) initialBank() bank {
	b := make(bank, len(c.initial))
	for i, a := range c.initial {
		b[i][hotSide] = side{bal: a.Hot, nonce: a.HotNonce}
		b[i][coldSide] = side{bal: a.Cold, nonce: a.ColdNonce}
	}
	return b
}

func (c *checker) newBuilder() *builder {
	b := &builder{c: c, part: c.components(), evidence: map[[2]int][]evidence{}}
	for i := range c.ops {
		op := &c.ops[i]
		b.end = max(b.end, int64(op.Call))
		if op.Outcome != "" {
			b.end = max(b.end, int64(op.Return))
		}
		if c.valid[i] && op.Outcome == OutcomeOK {
			b.collect(op)
		}
	}
	return b
}

// components returns each account's partition: the smallest account index
// of the group that transfers connect it to.
func (c *checker) components() []int {
	parent := make([]int, len(c.addrs))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	for i := range c.ops {
		op := &c.ops[i]
		to, ok := c.idx[op.To]
		if c.valid[i] && (op.Kind == KindHotTransfer || op.Kind == KindColdTransfer) && ok {
			a, b := find(c.idx[op.From]), find(to)
			parent[max(a, b)] = min(a, b)
		}
	}
	part := make([]int, len(parent))
	for i := range part {
		part[i] = find(i)
	}
	return part
}

// collect notes what an acknowledged op proves about nonces.
func (b *builder) collect(op *Op) {
	at := int64(op.Return)
	if op.Kind.IsTx() {
		key := [2]int{b.c.idx[op.From], sideOf(op.Kind.Chain())}
		b.evidence[key] = append(b.evidence[key], evidence{op.Nonce + 1, at})
		return
	}
	if op.Local {
		return
	}
	for _, a := range op.Result.Snapshot.Accounts {
		i := b.c.idx[a.Address]
		b.evidence[[2]int{i, hotSide}] = append(b.evidence[[2]int{i, hotSide}], evidence{a.HotNonce, at})
		b.evidence[[2]int{i, coldSide}] = append(b.evidence[[2]int{i, coldSide}], evidence{a.ColdNonce, at})
	}
}

// build returns the model's operations: those that happened, the reads,
// and the final read.
func (b *builder) build() []porcupine.Operation {
	c := b.c
	client := 0
	for i := range c.ops {
		op := &c.ops[i]
		client = max(client, op.Client+1)
		switch {
		case !c.valid[i]:
		case op.Kind.IsTx():
			b.tx(op)
		case op.Outcome == OutcomeOK && !op.Local && (op.Kind == KindRead || op.Result.Snapshot.Atomic):
			s := op.Result.Snapshot
			b.reads(op.ID, op.Client, s, int64(op.Call), int64(op.Return), s.Atomic && s.Sums != nil && s.Sums.InFlight == 0)
		}
	}
	b.reads(-1, client, &c.final, b.end+1, b.end+2, c.opts.Drained)
	return b.out
}

// tx adds a transaction op that happened.
func (b *builder) tx(op *Op) {
	f := b.c.fates[op.ID]
	status, ret := op.Result.Status, int64(op.Return)
	switch {
	case op.Outcome == OutcomeOK:
	case unknown(op) && f.committed:
		status, ret = f.tx.Status, b.clamp(op)
	default:
		return // it did not happen
	}
	from := b.c.idx[op.From]
	to, ok := b.c.idx[op.To]
	if !ok {
		to = -1
	}
	m := &mop{op: op.ID, part: b.part[from], kind: op.Kind, from: from, to: to,
		amount: op.Amount, nonce: op.Nonce, status: status}
	b.add(op.Client, m, int64(op.Call), ret)
}

// clamp returns the latest an unknown op that happened can have
// committed.
func (b *builder) clamp(op *Op) int64 {
	bound := b.end
	for _, e := range b.evidence[[2]int{b.c.idx[op.From], sideOf(op.Kind.Chain())}] {
		if e.next > op.Nonce {
			bound = min(bound, e.at)
		}
	}
	return max(bound, int64(op.Call))
}

// reads adds what a read saw: one model op per partition if it is
// atomic, one per account and chain if not. A drained read saw nothing in
// flight: every credit had arrived.
func (b *builder) reads(id, client int, s *Snapshot, call, ret int64, drained bool) {
	byPart := map[int][]seen{}
	var parts []int
	for _, a := range s.Accounts {
		i := b.c.idx[a.Address]
		for _, v := range []seen{{i, hotSide, a.Hot, a.HotNonce}, {i, coldSide, a.Cold, a.ColdNonce}} {
			if !s.Atomic {
				b.add(client, &mop{op: id, part: b.part[i], kind: KindRead, seen: []seen{v}, drained: drained}, call, ret)
				continue
			}
			p := b.part[i]
			if _, ok := byPart[p]; !ok {
				parts = append(parts, p)
			}
			byPart[p] = append(byPart[p], v)
		}
	}
	slices.Sort(parts)
	for _, p := range parts {
		b.add(client, &mop{op: id, part: p, kind: KindRead, seen: byPart[p], drained: drained}, call, ret)
	}
}

func (b *builder) add(client int, m *mop, call, ret int64) {
	b.out = append(b.out, porcupine.Operation{ClientId: client, Input: m, Output: m, Call: call, Return: ret})
}
