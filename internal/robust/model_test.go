package robust

import (
	"reflect"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

func TestSide(t *testing.T) {
	s := side{bal: 10, queue: []uint64{5, 7}}
	tests := []struct {
		name   string
		got    func() (int, bool)
		wantK  int
		wantOK bool
	}{
		{"atLeast(10): none needed", func() (int, bool) { return s.atLeast(10) }, 0, true},
		{"atLeast(11): one", func() (int, bool) { return s.atLeast(11) }, 1, true},
		{"atLeast(22): both", func() (int, bool) { return s.atLeast(22) }, 2, true},
		{"atLeast(23): short", func() (int, bool) { return s.atLeast(23) }, 0, false},
		{"exactly(10)", func() (int, bool) { return s.exactly(10) }, 0, true},
		{"exactly(15)", func() (int, bool) { return s.exactly(15) }, 1, true},
		{"exactly(22)", func() (int, bool) { return s.exactly(22) }, 2, true},
		{"exactly(17): the second credit before the first", func() (int, bool) { return s.exactly(17) }, 0, false},
		{"exactly(9)", func() (int, bool) { return s.exactly(9) }, 0, false},
	}
	for _, tt := range tests {
		if k, ok := tt.got(); k != tt.wantK || ok != tt.wantOK {
			t.Errorf("%s = %d, %v, want %d, %v", tt.name, k, ok, tt.wantK, tt.wantOK)
		}
	}
	if got := s.fold(1); got.bal != 15 || !reflect.DeepEqual(got.queue, []uint64{7}) || s.bal != 10 {
		t.Errorf("fold(1) = %+v (and s %+v), want bal 15 queue [7], s unchanged", got, s)
	}
}

// TestQueuedCopies: two states queued from one share nothing they write.
func TestQueuedCopies(t *testing.T) {
	s := side{queue: make([]uint64, 1, 8)}
	a, b := s.queued(1), s.queued(2)
	if a.queue[1] != 1 || b.queue[1] != 2 {
		t.Errorf("queued(1), queued(2) from one side = %v, %v, want [0 1] and [0 2]", a.queue, b.queue)
	}
}

func TestStep(t *testing.T) {
	start := bank{
		{{bal: 50, nonce: 3}, {bal: 20, nonce: 1}},
		{{bal: 0, nonce: 0}, {bal: 5, nonce: 0, queue: []uint64{40}}},
	}
	tx := func(kind Kind, from, to int, amount, nonce uint64, status ledger.Status) *mop {
		return &mop{kind: kind, from: from, to: to, amount: amount, nonce: nonce, status: status}
	}
	rd := func(drained bool, vs ...seen) *mop { return &mop{kind: KindRead, seen: vs, drained: drained} }
	tests := []struct {
		name string
		m    *mop
		want bank // nil: the step is illegal
	}{
		{"hot transfer", tx(KindHotTransfer, 0, 1, 30, 3, ledger.StatusOK), bank{
			{{bal: 20, nonce: 4}, {bal: 20, nonce: 1}},
			{{bal: 30}, {bal: 5, queue: []uint64{40}}}}},
		{"transfer with the wrong nonce", tx(KindHotTransfer, 0, 1, 30, 4, ledger.StatusOK), nil},
		{"transfer beyond the balance", tx(KindHotTransfer, 0, 1, 51, 3, ledger.StatusOK), nil},
		{"transfer to an account not tracked", tx(KindHotTransfer, 0, -1, 50, 3, ledger.StatusOK), bank{
			{{bal: 0, nonce: 4}, {bal: 20, nonce: 1}}, start[1]}},
		{"transfer to oneself", tx(KindHotTransfer, 0, 0, 50, 3, ledger.StatusOK), bank{
			{{bal: 50, nonce: 4}, {bal: 20, nonce: 1}}, start[1]}},
		{"insufficient funds uses the nonce", tx(KindHotTransfer, 0, 1, 51, 3, ledger.StatusInsufficientFunds), bank{
			{{bal: 50, nonce: 4}, {bal: 20, nonce: 1}}, start[1]}},
		{"insufficient funds with enough", tx(KindHotTransfer, 0, 1, 50, 3, ledger.StatusInsufficientFunds), nil},
		{"insufficient funds while a credit is on its way", tx(KindColdTransfer, 1, 0, 10, 0, ledger.StatusInsufficientFunds), bank{
			start[0], {{}, {bal: 5, nonce: 1, queue: []uint64{40}}}}},
		{"other status: only the nonce", tx(KindHotTransfer, 0, 1, 1000, 3, ledger.StatusOutOfGas), bank{
			{{bal: 50, nonce: 4}, {bal: 20, nonce: 1}}, start[1]}},
		{"cold transfer spends a credit on its way", tx(KindColdTransfer, 1, 0, 10, 0, ledger.StatusOK), bank{
			{{bal: 50, nonce: 3}, {bal: 30, nonce: 1}}, {{}, {bal: 35, nonce: 1}}}},
		{"settle queues a cold credit", tx(KindSettle, 0, 0, 50, 3, ledger.StatusOK), bank{
			{{bal: 0, nonce: 4}, {bal: 20, nonce: 1, queue: []uint64{50}}}, start[1]}},
		{"deposit queues a hot credit", tx(KindDeposit, 0, 0, 20, 1, ledger.StatusOK), bank{
			{{bal: 50, nonce: 3, queue: []uint64{20}}, {bal: 0, nonce: 2}}, start[1]}},
		{"read before the credit", rd(false, seen{1, coldSide, 5, 0}), start},
		{"read after the credit", rd(false, seen{1, coldSide, 45, 0}), bank{start[0], {{}, {bal: 45}}}},
		{"read between", rd(false, seen{1, coldSide, 25, 0}), nil},
		{"read the wrong nonce", rd(false, seen{0, hotSide, 50, 2}), nil},
		{"drained read before the credit", rd(true, seen{1, coldSide, 5, 0}), nil},
		{"drained read after it", rd(true, seen{1, coldSide, 45, 0}), bank{start[0], {{}, {bal: 45}}}},
	}
	for _, tt := range tests {
		got, ok := start.step(tt.m)
		if ok != (tt.want != nil) || ok && !got.equal(tt.want) {
			t.Errorf("%s: step(%s) = %v, %s, want %v, %s", tt.name, tt.m.describe([]string{"a0", "a1"}),
				ok, describeOr(got, ok), tt.want != nil, describeOr(tt.want, tt.want != nil))
		}
		if start[1][coldSide].bal != 5 || len(start[1][coldSide].queue) != 1 {
			t.Fatalf("%s: step changed the state it stepped from: %s", tt.name, start.describe([]string{"a0", "a1"}))
		}
	}
}

func describeOr(b bank, ok bool) string {
	if !ok {
		return "no state"
	}
	return b.describe([]string{"a0", "a1"})
}

func TestBankHash(t *testing.T) {
	a := bank{{{bal: 1, queue: []uint64{2}}, {}}}
	b := bank{{{bal: 1, queue: []uint64{2}}, {}}}
	c := bank{{{bal: 1, queue: []uint64{3}}, {}}}
	if !a.equal(b) || a.hash() != b.hash() {
		t.Errorf("equal banks: equal %v, hashes %x %x", a.equal(b), a.hash(), b.hash())
	}
	if a.equal(c) || a.hash() == c.hash() {
		t.Errorf("banks that differ in a queue: equal %v, hashes %x %x", a.equal(c), a.hash(), c.hash())
	}
}
