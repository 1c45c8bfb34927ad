package robust

import (
	"slices"
	"testing"

	"github.com/anishathalye/porcupine"
)

func TestWindows(t *testing.T) {
	op := func(call, ret int64) porcupine.Operation { return porcupine.Operation{Call: call, Return: ret} }
	ops := []porcupine.Operation{op(0, 2), op(1, 5), op(5, 6), op(7, 8), op(9, 12), op(10, 11), op(13, 13)}
	tests := []struct {
		size int
		want []int // window lengths
	}{
		{1, []int{3, 1, 2, 1}}, // 5 is in flight at 5: closed intervals
		{2, []int{3, 3, 1}},
		{4, []int{4, 3}},
		{100, []int{7}},
	}
	for _, tt := range tests {
		var got []int
		for _, w := range windows(ops, tt.size) {
			got = append(got, len(w))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("windows(ops, %d) lengths = %v, want %v", tt.size, got, tt.want)
		}
	}
}

// TestCutAfterDrainedRead: a window that ends with a drained read of every
// account hands the next exactly what it read, credits arrived; after any
// other cut, the next window starts with the credits still on their way.
func TestCutAfterDrainedRead(t *testing.T) {
	script := []step{
		0: ok(0, KindSettle, 0, 0, 20, 0, 1*ms, 2*ms).with(func(s *step) { s.credit = 3 * ms }),
		1: readAll(1, 4*ms, 5*ms, 6*ms),
		2: read(1, 0, 7*ms, 8*ms, 9*ms),
	}
	sim := simulate(t, accounts(2, 100, 100), script, false)
	if got := sim.ops[1].Result.Snapshot.Sums.InFlight; got != 0 {
		t.Fatalf("read all in flight = %d, want 0", got)
	}
	for _, size := range []int{1, DefaultWindowOps} {
		if r := check(t, sim, Options{WindowOps: size}); !r.Pass {
			t.Fatalf("Check(drained read, windows of %d) failed:\n%s", size, r)
		}
	}
	sim.ops[2].Result.Snapshot.Accounts[0].Cold = 100 // the credit gone again
	sim.ledger.Final.Accounts[0].Cold = 100
	sim.ledger.Final.Sums.Cold -= 20
	sim.ledger.Final.Sums.InFlight = 20
	for _, size := range []int{1, DefaultWindowOps} {
		if r := check(t, sim, Options{WindowOps: size}); r.Violations(InvLinearizable) == 0 {
			t.Errorf("Check(credit gone after a drained read, windows of %d) passed linearizability:\n%s", size, r)
		}
	}
}
