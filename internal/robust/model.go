package robust

// The bank model: what porcupine checks the history against.
//
// The state is every tracked account's balance and nonce on each chain,
// and the bridge credits on their way to it. A transaction applies at one
// instant within its op's interval, in nonce order (its nonce must be the
// account's next on its chain): with an ok receipt it needs the balance
// and moves the amount; with insufficient_funds it needs the balance to be
// short and moves nothing; with any other status it only uses its nonce.
// A settle debits the hot balance and queues a credit for the same
// account's cold balance; a deposit debits the cold balance and queues a
// hot credit. A queued credit arrives at some later instant the model
// does not know: it folds credits in lazily, in order, and only as far as
// an operation needs (a read that sees it, a transfer that spends it), so
// a credit a read saw stays seen, and one no read saw may still be on its
// way. Because it folds the fewest credits each step allows, its state is
// the most permissive of those the step could reach, and the model needs
// no nondeterminism.
//
// What this leaves unchecked, on purpose:
//   - a checkpoint credits every escrow since the last at once, across
//     accounts; the model lets each account's credits arrive on their own
//     (it only keeps each account's credits in order, per direction);
//   - a rejected transaction (outcome fail) is not checked against the
//     balance it was refused on; Check only makes sure it never commits;
//   - value sent to an account the history does not track leaves the
//     model; nothing may arrive from one (fund before the history starts);
//   - reads served locally (Input.Local) may lag and are not checked here;
//   - a KindRead that is not Atomic is checked as two reads, hot and cold,
//     each at its own instant within the op; a KindReadAll that is not
//     Atomic is not checked here at all (only its sums and bounds): split
//     into a read per account and chain, all concurrent, it makes
//     porcupine try every order of them. A driver that reads accounts one
//     by one records a KindRead op per account.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/anishathalye/porcupine"
	"github.com/dualchain/dualchain/ledger"
)

// Sides of an account in the model, by chain.
const (
	hotSide  = 0
	coldSide = 1
)

func sideOf(c ledger.Chain) int {
	if c == ledger.Cold {
		return coldSide
	}
	return hotSide
}

// side is one account on one chain.
type side struct {
	bal   uint64   // with every credit folded in so far
	nonce uint64   // next
	queue []uint64 // bridge credits on their way, oldest first
}

// fold returns s with its first k queued credits arrived. It shares the
// rest of the queue, which no step ever writes to.
func (s side) fold(k int) side {
	for _, a := range s.queue[:k] {
		s.bal += a
	}
	s.queue = s.queue[k:]
	return s
}

// atLeast returns the fewest credits that must arrive for the balance to
// cover amount.
func (s side) atLeast(amount uint64) (int, bool) {
	bal := s.bal
	for k := 0; ; k++ {
		if bal >= amount {
			return k, true
		}
		if k == len(s.queue) {
			return 0, false
		}
		bal += s.queue[k]
	}
}

// exactly returns how many credits must have arrived for the balance to be
// bal: one answer at most, since credits are positive.
func (s side) exactly(bal uint64) (int, bool) {
	sum := s.bal
	for k := 0; ; k++ {
		if sum == bal {
			return k, true
		}
		if k == len(s.queue) || sum > bal {
			return 0, false
		}
		sum += s.queue[k]
	}
}

// queued returns s with a credit of amount on its way.
func (s side) queued(amount uint64) side {
	s.queue = append(s.queue[:len(s.queue):len(s.queue)], amount) // a copy: the old array is shared
	return s
}

// acct is one account on both chains, by side.
type acct [2]side

// bank is the model's state, the tracked accounts by index. A step never
// modifies a bank: it returns a new one.
type bank []acct

// mop is one operation of the model: porcupine's input (and output).
type mop struct {
	op       int  // the history's op, or -1 for the final read
	part     int  // the partition: a group of accounts transfers connect
	kind     Kind // a transaction's, or KindRead
	from, to int  // account indexes; to is -1 for an account not tracked
	amount   uint64
	nonce    uint64
	status   ledger.Status // a transaction's receipt
	seen     []seen        // what a read saw
	drained  bool          // a read with nothing in flight: every credit arrived
}

// seen is one account's side as a read saw it.
type seen struct {
	acct, side int
	bal, nonce uint64
}

// step applies m to b, reporting whether it can.
func (b bank) step(m *mop) (bank, bool) {
	if m.kind.IsTx() {
		return b.apply(m)
	}
	return b.read(m)
}

func (b bank) apply(m *mop) (bank, bool) {
	c := sideOf(m.kind.Chain())
	if b[m.from][c].nonce != m.nonce {
		return nil, false
	}
	next := slices.Clone(b)
	from := &next[m.from][c]
	from.nonce++
	switch m.status {
	case ledger.StatusOK:
		k, ok := from.atLeast(m.amount)
		if !ok {
			return nil, false
		}
		*from = from.fold(k)
		from.bal -= m.amount
		next.credit(m, c)
	case ledger.StatusInsufficientFunds:
		if from.bal >= m.amount { // even with no credit arrived
			return nil, false
		}
	}
	return next, true
}

// credit gives an ok transaction's amount to where it goes.
func (b bank) credit(m *mop, c int) {
	switch m.kind {
	case KindSettle:
		b[m.from][coldSide] = b[m.from][coldSide].queued(m.amount)
	case KindDeposit:
		b[m.from][hotSide] = b[m.from][hotSide].queued(m.amount)
	default: // a transfer; to oneself it gives back what it took
		if m.to >= 0 {
			b[m.to][c].bal += m.amount
		}
	}
}

func (b bank) read(m *mop) (bank, bool) {
	next := slices.Clone(b)
	for _, v := range m.seen {
		s := &next[v.acct][v.side]
		if s.nonce != v.nonce {
			return nil, false
		}
		k, ok := s.exactly(v.bal)
		if !ok || m.drained && k != len(s.queue) {
			return nil, false
		}
		*s = s.fold(k)
	}
	return next, true
}

func (b bank) equal(o bank) bool {
	if len(b) != len(o) {
		return false
	}
	for i := range b {
		for c := range b[i] {
			s, t := &b[i][c], &o[i][c]
			if s.bal != t.bal || s.nonce != t.nonce || !slices.Equal(s.queue, t.queue) {
				return false
			}
		}
	}
	return true
}

// hash is FNV-1a over every number in b.
func (b bank) hash() uint64 {
	h := uint64(14695981039346656037)
	mix := func(v uint64) { h = (h ^ v) * 1099511628211 }
	for i := range b {
		for c := range b[i] {
			s := &b[i][c]
			mix(s.bal)
			mix(s.nonce)
			mix(uint64(len(s.queue)))
			for _, a := range s.queue {
				mix(a)
			}
		}
	}
	return h
}

// newModel returns the bank model over initial, naming accounts by names
// in visualizations.
func newModel(initial bank, names []string) porcupine.Model {
	return porcupine.Model{
		Partition: partition,
		Init:      func() any { return initial },
		Step: func(state, in, _ any) (bool, any) {
			next, ok := state.(bank).step(in.(*mop))
			return ok, next
		},
		Equal:             func(a, b any) bool { return a.(bank).equal(b.(bank)) },
		Hash:              func(s any) uint64 { return s.(bank).hash() },
		DescribeOperation: func(in, _ any) string { return in.(*mop).describe(names) },
		DescribeState:     func(s any) string { return s.(bank).describe(names) },
	}
}

// partition groups operations by mop.part, in order of part.
func partition(ops []porcupine.Operation) [][]porcupine.Operation {
	byPart := map[int][]porcupine.Operation{}
	var parts []int
	for _, op := range ops {
		p := op.Input.(*mop).part
		if _, ok := byPart[p]; !ok {
			parts = append(parts, p)
		}
		byPart[p] = append(byPart[p], op)
	}
	slices.Sort(parts)
	out := make([][]porcupine.Operation, len(parts))
	for i, p := range parts {
		out[i] = byPart[p]
	}
	return out
}

var sideNames = [2]string{"hot", "cold"}

func (m *mop) describe(names []string) string {
	if !m.kind.IsTx() {
		parts := make([]string, len(m.seen))
		for i, v := range m.seen {
			parts[i] = fmt.Sprintf("%s %s=%d n%d", names[v.acct], sideNames[v.side], v.bal, v.nonce)
		}
		what := fmt.Sprintf("op %d read", m.op)
		if m.op < 0 {
			what = "final read"
		}
		return fmt.Sprintf("%s %s", what, strings.Join(parts, ", "))
	}
	to := "untracked"
	if m.to >= 0 {
		to = names[m.to]
	}
	switch m.kind {
	case KindSettle, KindDeposit:
		return fmt.Sprintf("op %d %s %s %d n%d → %s", m.op, m.kind, names[m.from], m.amount, m.nonce, m.status)
	}
	return fmt.Sprintf("op %d %s %s→%s %d n%d → %s", m.op, m.kind, names[m.from], to, m.amount, m.nonce, m.status)
}

func (b bank) describe(names []string) string {
	parts := make([]string, len(b))
	for i, a := range b {
		parts[i] = fmt.Sprintf("%s: hot %d n%d%s, cold %d n%d%s", names[i],
			a[hotSide].bal, a[hotSide].nonce, describeQueue(a[hotSide].queue),
			a[coldSide].bal, a[coldSide].nonce, describeQueue(a[coldSide].queue))
	}
	return strings.Join(parts, "; ")
}

func describeQueue(q []uint64) string {
	if len(q) == 0 {
		return ""
	}
	return fmt.Sprintf(" (+%v on the way)", q)
}
