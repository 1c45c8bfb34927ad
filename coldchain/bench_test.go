package coldchain

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

// loadState returns a state on disk (b.TempDir, real fsync) holding n
// accounts, and their addresses.
func loadState(b *testing.B, n, cacheDepth int) (*State, []ledger.Address) {
	b.Helper()
	cfg := DefaultConfig(b.TempDir())
	cfg.NodeCacheDepth = cacheDepth
	s := openTest(b, cfg)
	r := rand.New(rand.NewPCG(41, 42))
	addrs := make([]ledger.Address, n)
	const chunk = 100_000
	for lo := 0; lo < n; lo += chunk {
		ws := make([]AccountWrite, 0, chunk)
		for i := lo; i < min(n, lo+chunk); i++ {
			addrs[i] = randAddr(r)
			ws = append(ws, AccountWrite{addrs[i], Account{Balance: 1 + r.Uint64N(1e6), Nonce: r.Uint64N(10)}})
		}
		if _, err := s.Apply(ws, s.AppliedIndex()+1); err != nil {
			b.Fatal(err)
		}
	}
	return s, addrs
}

// BenchmarkApply: one Apply of 10K changed accounts (a checkpoint) in a
// state of 100K or 1M accounts, committed with fsync, with the default
// node cache (depth 16) and a larger one (depth 20: about 2^20 nodes in
// memory for 1M accounts).
func BenchmarkApply(b *testing.B) {
	for _, c := range []struct{ n, cacheDepth int }{{100_000, 16}, {1_000_000, 16}, {1_000_000, 20}} {
		n := c.n
		b.Run(fmt.Sprintf("accounts=%d/changed=10000/cachedepth=%d", n, c.cacheDepth), func(b *testing.B) {
			if n > 100_000 && testing.Short() {
				b.Skip("1M accounts: not in -short")
			}
			s, addrs := loadState(b, n, c.cacheDepth)
			r := rand.New(rand.NewPCG(43, 44))
			b.ResetTimer()
			for b.Loop() {
				ws := make([]AccountWrite, 0, 10_000)
				seen := make(map[int]bool, 10_000)
				for len(ws) < 10_000 {
					i := r.IntN(len(addrs))
					if !seen[i] {
						seen[i] = true
						ws = append(ws, AccountWrite{addrs[i], Account{Balance: 1 + r.Uint64N(1e6), Nonce: r.Uint64N(10)}})
					}
				}
				if _, err := s.Apply(ws, s.AppliedIndex()+1); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/apply")
		})
	}
}

// BenchmarkProve and BenchmarkVerify: one proof in a state of 100K accounts.
func BenchmarkProve(b *testing.B) {
	s, addrs := loadState(b, 100_000, 16)
	i := 0
	for b.Loop() {
		if _, err := s.Prove(addrs[i%len(addrs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkVerify(b *testing.B) {
	s, addrs := loadState(b, 100_000, 16)
	p, err := s.Prove(addrs[0])
	if err != nil {
		b.Fatal(err)
	}
	root := s.Root()
	for b.Loop() {
		if err := p.Verify(root); err != nil {
			b.Fatal(err)
		}
	}
}
