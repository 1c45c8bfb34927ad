package robust

import (
	"cmp"
	"slices"

	"github.com/anishathalye/porcupine"
	"github.com/dualchain/dualchain/ledger"
)

// windows sorts ops by call and cuts them into windows of at least size
// ops, each cut at an instant no op is in flight: every op of a window
// returned before any op of the next was called.
func windows(ops []porcupine.Operation, size int) [][]porcupine.Operation {
	slices.SortStableFunc(ops, func(a, b porcupine.Operation) int { return cmp.Compare(a.Call, b.Call) })
	var out [][]porcupine.Operation
	start, lastReturn := 0, int64(-1)
	for i, op := range ops {
		if i-start >= size && op.Call > lastReturn {
			out = append(out, ops[start:i])
			start = i
		}
		lastReturn = max(lastReturn, op.Return)
	}
	if start < len(ops) {
		out = append(out, ops[start:])
	}
	return out
}

// after returns the state window w leaves b in, with the fewest credits
// arrived that its balances allow (linearize.go says why that is sound),
// or exactly what a drained read of every account that ends it saw.
func (b bank) after(w []porcupine.Operation) bank {
	if next, ok := b.settledBy(w); ok {
		return next
	}
	txs := make([]*mop, 0, len(w))
	for _, op := range w {
		if m := op.Input.(*mop); m.kind.IsTx() {
			txs = append(txs, m)
		}
	}
	// Nonce order puts each account's credits in the order they queue.
	slices.SortFunc(txs, func(x, y *mop) int {
		return cmp.Or(cmp.Compare(x.from, y.from), cmp.Compare(x.kind.Chain(), y.kind.Chain()), cmp.Compare(x.nonce, y.nonce))
	})
	next := slices.Clone(b)
	in, out := make([][2]uint64, len(b)), make([][2]uint64, len(b))
	for _, m := range txs {
		c := sideOf(m.kind.Chain())
		next[m.from][c].nonce++
		if m.status != ledger.StatusOK {
			continue
		}
		out[m.from][c] += m.amount
		switch {
		case m.kind == KindSettle || m.kind == KindDeposit:
			next[m.from][1-c] = next[m.from][1-c].queued(m.amount)
		case m.to >= 0:
			in[m.to][c] += m.amount
		}
	}
	for i := range next {
		for c := range next[i] {
			next[i][c] = next[i][c].settle(in[i][c], out[i][c])
		}
	}
	return next
}

// settle returns s after in arrived and out left, with the fewest queued
// credits folded in that cover out. The window linearized, so they do.
func (s side) settle(in, out uint64) side {
	have := s.bal + in
	k := 0
	for have < out && k < len(s.queue) {
		have += s.queue[k]
		k++
	}
	if have < out {
		panic("robust: a window that linearized spends more than it has")
	}
	s.bal, s.queue = have-out, s.queue[k:]
	return s
}

// settledBy returns the state w's last op read, if it is a drained read
// of every account's both sides that began after every other op of w
// returned.
func (b bank) settledBy(w []porcupine.Operation) (bank, bool) {
	last := w[len(w)-1].Input.(*mop)
	if last.kind.IsTx() || !last.drained {
		return nil, false
	}
	next := slices.Clone(b)
	covered := make([][2]bool, len(b))
	for _, op := range w {
		m := op.Input.(*mop)
		if m.op != last.op {
			if op.Return >= w[len(w)-1].Call {
				return nil, false
			}
			continue
		}
		for _, v := range m.seen {
			next[v.acct][v.side] = side{bal: v.bal, nonce: v.nonce}
			covered[v.acct][v.side] = true
		}
	}
	return next, !slices.ContainsFunc(covered, func(c [2]bool) bool { return !c[0] || !c[1] })
}
