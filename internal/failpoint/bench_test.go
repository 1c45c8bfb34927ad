package failpoint

import "testing"

// sink keeps the benchmarks' results alive.
var sink error

// BenchmarkInject is the cost of a point that is not armed: a constant
// nil, inlined, without the failpoints tag (under a nanosecond; `go build
// -gcflags=-m` says "inlining call to failpoint.Inject"), one atomic load
// with it.
func BenchmarkInject(b *testing.B) {
	for b.Loop() {
		sink = Inject(HotApplied)
	}
}

// BenchmarkEvalArmedElsewhere is an unarmed point's cost while another
// point is armed: a lock and a map lookup.
func BenchmarkEvalArmedElsewhere(b *testing.B) {
	r := New()
	if err := r.ArmList("clock-skew=skew(1s)"); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		sink = r.Eval(HotApplied)
	}
}
