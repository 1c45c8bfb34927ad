package hotchain

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// pair is one state entry for commitment tests.
type pair struct{ key, value []byte }

// randomPairs returns n distinct keys with random non-empty values.
func randomPairs(r *rand.Rand, n int) []pair {
	ps := make([]pair, n)
	for i := range ps {
		ps[i].key = binary.BigEndian.AppendUint64([]byte("k"), uint64(i))
		ps[i].value = binary.BigEndian.AppendUint64(nil, r.Uint64()|1)
	}
	return ps
}

func commitmentOf(ps []pair) Commitment {
	var c Commitment
	for _, p := range ps {
		c.Add(p.key, p.value)
	}
	return c
}

func TestLaneArithmetic(t *testing.T) {
	lanes := []uint16{0, 1, 2, 0x7fff, 0x8000, 0x8001, 0xfffe, 0xffff, 0x1234, 0xabcd}
	pack := func(a, b, c, d uint16) uint64 {
		return uint64(a) | uint64(b)<<16 | uint64(c)<<32 | uint64(d)<<48
	}
	for _, a := range lanes {
		for _, b := range lanes {
			x, y := pack(a, b, a, b), pack(b, a, ^b, a+b)
			wantAdd := pack(a+b, b+a, a+^b, b+a+b)
			wantSub := pack(a-b, b-a, a-^b, b-(a+b))
			if got := addLanes(x, y); got != wantAdd {
				t.Errorf("addLanes(%#x, %#x) = %#x, want %#x", x, y, got, wantAdd)
			}
			if got := subLanes(x, y); got != wantSub {
				t.Errorf("subLanes(%#x, %#x) = %#x, want %#x", x, y, got, wantSub)
			}
		}
	}
}

func TestCommitmentOrderIndependent(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ps := randomPairs(r, 200)
	want := commitmentOf(ps)
	for i := range 5 {
		shuffled := slices.Clone(ps)
		r.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		if got := commitmentOf(shuffled); got != want {
			t.Errorf("shuffle %d: commitment = %v, want %v", i, got, want)
		}
	}
}

func TestCommitmentAddRemoveIdentity(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	base := commitmentOf(randomPairs(r, 10))
	for _, p := range randomPairs(r, 50) {
		c := base
		c.Add(p.key, p.value)
		if c == base {
			t.Fatalf("Add(%x, %x) left the commitment unchanged", p.key, p.value)
		}
		c.Remove(p.key, p.value)
		if c != base {
			t.Errorf("Add then Remove(%x, %x) = %v, want %v", p.key, p.value, c, base)
		}
	}
}

func TestCommitmentEmptyValueIsAbsent(t *testing.T) {
	var c Commitment
	c.Add([]byte("k"), nil)
	c.Add([]byte("k"), []byte{})
	c.Remove([]byte("j"), nil)
	c.Update([]byte("x"), nil, nil)
	if c != (Commitment{}) {
		t.Errorf("commitment after empty-value operations = %v, want the empty commitment", c)
	}
}

func TestCommitmentDigestDiffers(t *testing.T) {
	base := commitmentOf([]pair{{[]byte("a"), []byte("1")}, {[]byte("b"), []byte("2")}})
	tests := []struct {
		name string
		ps   []pair
	}{
		{"value changed", []pair{{[]byte("a"), []byte("1")}, {[]byte("b"), []byte("3")}}},
		{"key changed", []pair{{[]byte("a"), []byte("1")}, {[]byte("c"), []byte("2")}}},
		{"key removed", []pair{{[]byte("a"), []byte("1")}}},
		{"key added", []pair{{[]byte("a"), []byte("1")}, {[]byte("b"), []byte("2")}, {[]byte("c"), []byte("3")}}},
		{"key/value split moved", []pair{{[]byte(""), []byte("a1")}, {[]byte("b"), []byte("2")}}},
		{"boundary", []pair{{[]byte("a"), []byte("1")}, {[]byte("b2"), []byte("x")}}},
		{"pair duplicated", []pair{{[]byte("a"), []byte("1")}, {[]byte("a"), []byte("1")}, {[]byte("b"), []byte("2")}}},
	}
	seen := map[[32]byte]string{base.Digest(): "base"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := commitmentOf(tt.ps).Digest()
			if prev, ok := seen[d]; ok {
				t.Errorf("Digest(%s) = %v, same as %s", tt.name, d, prev)
			}
			seen[d] = tt.name
		})
	}
}

func TestCommitmentIncrementalMatchesScratch(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	state := map[string][]byte{}
	var inc Commitment
	for step := range 2000 {
		key := fmt.Appendf(nil, "key-%d", r.IntN(100))
		var val []byte
		if r.IntN(4) > 0 {
			val = binary.BigEndian.AppendUint64(nil, r.Uint64())
		}
		inc.Update(key, state[string(key)], val)
		if len(val) == 0 {
			delete(state, string(key))
		} else {
			state[string(key)] = val
		}
		if step%250 != 0 {
			continue
		}
		var scratch Commitment
		for k, v := range state {
			scratch.Add([]byte(k), v)
		}
		if inc != scratch {
			t.Fatalf("step %d: incremental = %v, from scratch = %v", step, inc, scratch)
		}
	}
}

func TestApplyMatchesSerial(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, parallelMin - 1, parallelMin * 2, 5000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			base := commitmentOf(randomPairs(r, 20))
			changes := make([]Change, n)
			for i := range changes {
				k := fmt.Appendf(nil, "c%d", i)
				changes[i] = Change{Key: k, Old: fmt.Appendf(nil, "%d", r.IntN(3)), New: fmt.Appendf(nil, "%d", r.IntN(3))}
			}
			want := base
			applySerial(&want, changes)
			if got := Apply(base, changes); got != want {
				t.Errorf("Apply(base, %d changes) = %v, want %v", n, got, want)
			}
			if n > 0 && want == base && !allNoOps(changes) {
				t.Errorf("Apply(base, %d changes) left base unchanged", n)
			}
		})
	}
}

func allNoOps(changes []Change) bool {
	for _, ch := range changes {
		if !bytes.Equal(ch.Old, ch.New) {
			return false
		}
	}
	return true
}

func TestCommitmentBinaryRoundTrip(t *testing.T) {
	c := commitmentOf(randomPairs(rand.New(rand.NewPCG(9, 10)), 3))
	b, err := c.MarshalBinary()
	if err != nil || len(b) != CommitmentSize {
		t.Fatalf("MarshalBinary() = %d bytes, %v, want %d bytes", len(b), err, CommitmentSize)
	}
	var got Commitment
	if err := got.UnmarshalBinary(b); err != nil || got != c {
		t.Errorf("UnmarshalBinary(MarshalBinary()) = %v, %v, want %v", got, err, c)
	}
	for _, n := range []int{0, 1, CommitmentSize - 1, CommitmentSize + 1} {
		if err := got.UnmarshalBinary(make([]byte, n)); err == nil {
			t.Errorf("UnmarshalBinary(%d bytes) = nil error, want one", n)
		}
	}
}

// TestCommitmentGolden pins the construction: a change to the tags, the
// element hash or the lane order changes these digests, and with them every
// block header ever produced. The vectors were checked against an independent
// implementation (Python's hashlib and `openssl enc -aes-256-ctr`), see
// DESIGN.md.
func TestCommitmentGolden(t *testing.T) {
	var c Commitment
	tests := []struct {
		name string
		do   func()
		want string
	}{
		{"empty", func() {}, "6aa578bdffd11a72d89da06af39f750fd6c0171099d2176506b0b94e086e7823"},
		{"one pair", func() { c.Add([]byte("alice"), []byte{0, 0, 0, 0, 0, 0, 0, 100}) }, "c963832eb0d6fd7427eb1a06ae13453bc3907055b1b1b964986e25c8f1dc035d"},
		{"two pairs", func() { c.Add([]byte("bob"), []byte("x")) }, "453ab1af0e42269fb64e90903b564e0e7f73cacc5324254b8f40683f81a348f4"},
		{"updated", func() { c.Update([]byte("alice"), []byte{0, 0, 0, 0, 0, 0, 0, 100}, []byte{7}) }, "15b9890f826b87f45e51bcaf7913355b53de2322ebadb9bda70856ee39d4cce5"},
	}
	for _, tt := range tests {
		tt.do()
		if got := c.Digest().String(); got != tt.want {
			t.Errorf("%s: Digest() = %s, want %s", tt.name, got, tt.want)
		}
	}
	const want = "c066c2b69540ab3a2496e62e5a294003"
	var h elementHasher
	h.hash(&h.element, []byte("alice"), []byte("x"))
	if got := fmt.Sprintf("%x", h.element[:16]); got != want {
		t.Errorf("elementHash(alice, x)[:16] = %s, want %s", got, want)
	}
}

func FuzzCommitment(f *testing.F) {
	f.Add([]byte("key"), []byte("value"), []byte("other"), uint8(3))
	f.Add([]byte(""), []byte("v"), []byte(""), uint8(0))
	f.Fuzz(func(t *testing.T, key, v1, v2 []byte, n uint8) {
		var c Commitment
		c.Add([]byte("base"), []byte("state"))
		base := c
		c.Update(key, nil, v1)
		c.Update(key, v1, v2)
		c.Update(key, v2, nil)
		if c != base {
			t.Fatalf("Update chain nil→%x→%x→nil on %x = %v, want %v", v1, v2, key, c, base)
		}
		changes := make([]Change, int(n))
		for i := range changes {
			changes[i] = Change{Key: append(slices.Clone(key), byte(i)), New: v1}
		}
		got := Apply(base, changes)
		for i := len(changes) - 1; i >= 0; i-- {
			got.Remove(changes[i].Key, changes[i].New)
		}
		if got != base {
			t.Fatalf("Apply then Remove of %d changes = %v, want %v", n, got, base)
		}
		var back Commitment
		b, _ := c.MarshalBinary()
		if err := back.UnmarshalBinary(b); err != nil || back != c {
			t.Fatalf("binary round trip = %v, %v, want %v", back, err, c)
		}
		if err := back.UnmarshalBinary(append(key, v1...)); err == nil && len(key)+len(v1) != CommitmentSize {
			t.Fatalf("UnmarshalBinary(%d bytes) = nil error", len(key)+len(v1))
		}
	})
}

func BenchmarkCommitmentUpdate(b *testing.B) {
	key := []byte("s0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	old, new := []byte("12345678"), []byte("87654321")
	var c Commitment
	for b.Loop() {
		c.Update(key, old, new)
		old, new = new, old
	}
}

func BenchmarkCommitmentApply30000(b *testing.B) {
	changes := make([]Change, 30_000)
	for i := range changes {
		changes[i] = Change{
			Key: fmt.Appendf(nil, "s%063d", i),
			Old: binary.BigEndian.AppendUint64(nil, uint64(i)),
			New: binary.BigEndian.AppendUint64(nil, uint64(i+1)),
		}
	}
	var c Commitment
	for b.Loop() {
		c = Apply(c, changes)
	}
	b.ReportMetric(float64(len(changes)*b.N)/b.Elapsed().Seconds(), "changes/s")
}
