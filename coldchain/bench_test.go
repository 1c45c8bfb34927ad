package coldchain

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/dualchain/dualchain/ledger"
)

// benchAddrs returns the addresses of a benchmark state of n accounts,
// the same on every run.
func benchAddrs(n int) []ledger.Address {
	r := rand.New(rand.NewPCG(41, 42))
	addrs := make([]ledger.Address, n)
	for i := range addrs {
		addrs[i] = randAddr(r)
	}
	return addrs
}

// cachedState returns the directory of a state of n accounts (addresses
// from benchAddrs) on disk. Building one of 1M accounts takes a while, so
// it is kept under os.TempDir, in a directory named for the store format
// and the page height: a change of either builds a new one.
func cachedState(b *testing.B, n int) string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("coldchain-bench-format%d-page%d-n%d", storeFormat, pageHeight, n))
	if _, err := os.Stat(filepath.Join(dir, "complete")); err == nil {
		return dir
	}
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	cfg := DefaultConfig(filepath.Join(dir, "db"))
	cfg.KeepVersions = 1 // no history of the build
	s, err := Open(cfg)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(45, 46))
	addrs := benchAddrs(n)
	const chunk = 100_000
	for lo := 0; lo < n; lo += chunk {
		ws := make([]AccountWrite, 0, chunk)
		for _, a := range addrs[lo:min(n, lo+chunk)] {
			ws = append(ws, AccountWrite{a, Account{Balance: 1 + r.Uint64N(1e6), Nonce: r.Uint64N(10)}})
		}
		if _, err := s.Apply(ws, s.AppliedIndex()+1); err != nil {
			b.Fatal(err)
		}
	}
	// Start every benchmark from a settled LSM, not from the compactions
	// the build left pending.
	if err := s.db.Compact(context.Background(), []byte{0}, []byte{0xff}, true); err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "complete"), nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

// loadState opens a copy (in b.TempDir, real fsync) of the cached state
// of n accounts, keeping keep roots, and returns it with its addresses.
func loadState(b *testing.B, n, keep int) (*State, []ledger.Address) {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "db")
	copySynced(b, dir, filepath.Join(cachedState(b, n), "db"))
	cfg := DefaultConfig(dir)
	cfg.KeepVersions = keep
	return openTest(b, cfg), benchAddrs(n)
}

// copySynced copies the files of directory src to a new directory dst and
// syncs them, so that writing them back does not slow the benchmark's
// own syncs down.
func copySynced(b *testing.B, dst, src string) {
	b.Helper()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		b.Fatal(err)
	}
	entries, err := os.ReadDir(dst)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range append(entries, nil) {
		name := dst
		if e != nil {
			name = filepath.Join(dst, e.Name())
		}
		f, err := os.Open(name)
		if err != nil {
			b.Fatal(err)
		}
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// heapMB is the live heap after a collection, in MB.
func heapMB() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

// BenchmarkApply: one Apply of 10K changed accounts (a checkpoint) in a
// state of 100K or 1M accounts, committed with fsync. keep=128 (the
// default) drops no root during the benchmark; keep=1 drops the previous
// root's pages in every Apply, the cost of a full window.
func BenchmarkApply(b *testing.B) {
	for _, c := range []struct{ n, keep int }{{100_000, 128}, {1_000_000, 128}, {1_000_000, 1}} {
		b.Run(fmt.Sprintf("accounts=%d/changed=10000/keep=%d", c.n, c.keep), func(b *testing.B) {
			if c.n > 100_000 && testing.Short() {
				b.Skip("1M accounts: not in -short")
			}
			before := heapMB()
			s, addrs := loadState(b, c.n, c.keep)
			heap := heapMB() - before
			r := rand.New(rand.NewPCG(43, 44))
			ws := randomUpdates(r, addrs, 10_000)
			apply := func() {
				if _, err := s.Apply(ws, s.AppliedIndex()+1); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				ws = randomUpdates(r, addrs, 10_000)
				b.StartTimer()
			}
			apply() // not timed: the first Apply after Open drops the roots past keep
			for b.Loop() {
				apply()
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/apply")
			b.ReportMetric(heap, "MB-heap")
		})
	}
}

// randomUpdates returns n writes that change accounts of distinct
// addresses of addrs.
func randomUpdates(r *rand.Rand, addrs []ledger.Address, n int) []AccountWrite {
	ws := make([]AccountWrite, 0, n)
	seen := make(map[int]bool, n)
	for len(ws) < n {
		i := r.IntN(len(addrs))
		if !seen[i] {
			seen[i] = true
			ws = append(ws, AccountWrite{addrs[i], Account{Balance: 1 + r.Uint64N(1e6), Nonce: r.Uint64N(10)}})
		}
	}
	return ws
}

// BenchmarkOpen: opening a state of 1M accounts, which reads its tree into
// memory.
func BenchmarkOpen(b *testing.B) {
	if testing.Short() {
		b.Skip("1M accounts: not in -short")
	}
	dir := filepath.Join(cachedState(b, 1_000_000), "db")
	for b.Loop() {
		start := time.Now()
		s, err := Open(DefaultConfig(dir))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms/open")
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProve, BenchmarkProveAt and BenchmarkVerify: one proof in a
// state of 100K accounts, against the current root (from memory) and
// against the previous one (from Pebble).
func BenchmarkProve(b *testing.B) {
	s, addrs := loadState(b, 100_000, 128)
	i := 0
	for b.Loop() {
		if _, err := s.Prove(addrs[i%len(addrs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkProveAt(b *testing.B) {
	s, addrs := loadState(b, 100_000, 128)
	old := s.Root()
	if _, err := s.Apply([]AccountWrite{{addrs[0], Account{Balance: 1}}}, s.AppliedIndex()+1); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		if _, err := s.ProveAt(addrs[i%len(addrs)], old); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkVerify(b *testing.B) {
	s, addrs := loadState(b, 100_000, 128)
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

// BenchmarkTreeUpdate: the in-memory part of an Apply (the tree update,
// without Pebble) of 10K changed accounts in a tree of 1M.
func BenchmarkTreeUpdate(b *testing.B) {
	if testing.Short() {
		b.Skip("1M accounts: not in -short")
	}
	r := rand.New(rand.NewPCG(47, 48))
	tr := newMemTree()
	keys := make([]ledger.Hash, 1_000_000)
	for lo := 0; lo < len(keys); lo += 100_000 {
		ch := make([]change, 0, 100_000)
		for i := lo; i < lo+100_000; i++ {
			keys[i] = randHash(r)
			ch = append(ch, change{key: keys[i], acct: randAccount(r)})
		}
		tr.apply(b, ch)
	}
	for b.Loop() {
		b.StopTimer()
		ch := make([]change, 0, 10_000)
		for _, i := range r.Perm(len(keys))[:10_000] {
			ch = append(ch, change{key: keys[i], acct: randAccount(r)})
		}
		slices.SortFunc(ch, func(a, b change) int { return bytes.Compare(a.key[:], b.key[:]) })
		b.StartTimer()
		u, err := updateTree(tr.t, ch, tr.ver+1)
		if err != nil {
			b.Fatal(err)
		}
		u.commit()
		tr.ver++
	}
}
