package coldchain

import "testing"

// TestSlab: indices are distinct and never 0, values survive growth past
// a chunk, and released indices are reused.
func TestSlab(t *testing.T) {
	var s slab[leafNode]
	const n = slabChunk + 1000
	idx := make([]uint32, n)
	for i := range idx {
		idx[i] = s.alloc(leafNode{acct: Account{Balance: uint64(i + 1)}})
		if idx[i] == 0 || (i > 0 && idx[i] <= idx[i-1]) {
			t.Fatalf("alloc %d = index %d after %d", i, idx[i], idx[max(i-1, 0)])
		}
	}
	for i, x := range idx {
		if got := s.at(x).acct.Balance; got != uint64(i+1) {
			t.Fatalf("at(%d) = balance %d, want %d", x, got, i+1)
		}
	}
	for _, x := range idx[:10] {
		s.release(x)
	}
	if s.live() != n-10 {
		t.Fatalf("live() = %d, want %d", s.live(), n-10)
	}
	reused := map[uint32]bool{}
	for range 10 {
		reused[s.alloc(leafNode{})] = true
	}
	for _, x := range idx[:10] {
		if !reused[x] {
			t.Fatalf("released index %d not reused", x)
		}
	}
	if s.live() != n {
		t.Fatalf("live() = %d, want %d", s.live(), n)
	}
}
