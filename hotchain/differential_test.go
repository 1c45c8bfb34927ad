package hotchain

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
)

// TestDifferential applies the same random block sequence to the memory, the
// Redis and the Pebble store and compares them, and the model the blocks were built
// from, after every block: meta, recomputed commitments, every key's value,
// and the blocks and transactions read back.
func TestDifferential(t *testing.T) {
	tests := []struct {
		name      string
		seed      uint64
		accounts  int
		blocks    int
		dupWrites bool
		failEvery int
	}{
		{"final writes", 11, 300, 60, false, 0},
		{"every write, with failures", 12, 200, 60, true, 7},
		{"few accounts, many deletes", 13, 8, 80, false, 5},
	}
	if testing.Short() {
		tests = tests[:1]
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			chain := newTestChain(tt.seed, tt.accounts, 1_000)
			chain.dupWrites, chain.failEvery = tt.dupWrites, tt.failEvery
			stores := []Store{NewMemoryStore(), newRedisSetup(t).handle(), newPebbleSetup(t, t.TempDir(), nil).handle()}
			for _, s := range stores {
				if _, err := s.Open(ctx, chain.gen); err != nil {
					t.Fatalf("%s: Open() = %v", s.Kind(), err)
				}
			}
			for range tt.blocks {
				u := chain.nextBlock(chain.r.IntN(40))
				for _, s := range stores {
					if ok, err := s.Apply(ctx, u); !ok || err != nil {
						t.Fatalf("%s: Apply(block %d) = %v, %v", s.Kind(), u.Block.Header.Height, ok, err)
					}
				}
				compareStores(t, ctx, chain, u, stores...)
			}
		})
	}
}

// compareStores fails the test at the first difference between the stores
// and the chain's model.
func compareStores(t *testing.T, ctx context.Context, chain *testChain, u *Update, stores ...Store) {
	t.Helper()
	h := u.Block.Header.Height
	keys := chain.allKeys()
	for _, s := range stores {
		m, err := s.Meta(ctx)
		if err != nil || !sameChain(m, chain.meta) {
			t.Fatalf("block %d: %s Meta() = index %d height %d %v, %v, want %d %d %v",
				h, s.Kind(), m.Index, m.Height, m.Commitment, err, chain.meta.Index, chain.meta.Height, chain.meta.Commitment)
		}
		c, err := Recompute(ctx, s)
		if err != nil || c != chain.meta.Commitment {
			t.Fatalf("block %d: %s Recompute() = %v, %v, want %v", h, s.Kind(), c, err, chain.meta.Commitment)
		}
		got, err := s.Get(ctx, keys)
		if err != nil {
			t.Fatalf("block %d: %s Get(%d keys) = %v", h, s.Kind(), len(keys), err)
		}
		for i, k := range keys {
			if want := chain.state[string(k)]; !bytes.Equal(got[i], want) {
				t.Fatalf("block %d: %s Get(%x) = %x, want %x", h, s.Kind(), k, got[i], want)
			}
		}
		assertBlock(t, ctx, s, u.Block)
	}
	if t.Failed() {
		t.FailNow()
	}
}

// allKeys returns every key any block of the chain may have touched, live
// or deleted, in a fixed order.
func (c *testChain) allKeys() [][]byte {
	seen := map[string]bool{}
	for _, a := range c.accounts {
		seen[string(token.BalanceKey(a))] = true
		seen[string(ledger.NonceKey(a))] = true
	}
	for k := range c.state {
		seen[k] = true
	}
	keys := slices.Sorted(maps.Keys(seen))
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = []byte(k)
	}
	return out
}
