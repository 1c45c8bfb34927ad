package hotchain

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/dualchain/dualchain/internal/redistest"
	"github.com/dualchain/dualchain/ledger"
)

// genesisDump is every key and value a database holds right after Open
// created m's incarnation of chain's genesis, plus the keys in foreign.
func genesisDump(chain *testChain, m Meta, foreign map[string]string) map[string]string {
	want := mergeDumps(foreign, nil)
	for k, v := range chain.genesis() {
		want[stateKey([]byte(k))] = string(v)
	}
	want[metaKey] = string(encodeMeta(m))
	return want
}

// genesis is the chain's genesis state.
func (c *testChain) genesis() map[string][]byte {
	writes, _, _ := genesisState(c.gen)
	out := make(map[string][]byte, len(writes))
	for _, w := range writes {
		out[string(w.Key)] = w.Value
	}
	return out
}

// manyLeftovers is n stale state keys: more than one SCAN step's worth if
// n is more than scanCount.
func manyLeftovers(n int) map[string]string {
	out := make(map[string]string, n)
	for i := range n {
		out[stateKey(fmt.Appendf(nil, "stale-%d", i))] = "x"
	}
	return out
}

// TestRedisOpenClearsLeftovers: a database without a meta key but with keys
// under the schema's prefix. Open must delete them all, and only them,
// before it writes the genesis.
func TestRedisOpenClearsLeftovers(t *testing.T) {
	chain := newTestChain(5, 10, 100)
	genKey := stateKey(chain.gen.Writes[0].Key)
	tests := []struct {
		name      string
		leftovers map[string]string
	}{
		{"none", nil},
		{"crash mid-initialization", map[string]string{genKey: "stale", "dc:s:gone": "1"}},
		{"old history and unknown keys", map[string]string{
			"dc:b:1": "block", txKey(ledger.Hash{7}): "tx", "dc:s:n" + strings.Repeat("\x00", 20): "nonce", "dc:junk": "?",
		}},
		{"more than one SCAN step", manyLeftovers(3*scanCount + 7)},
	}
	foreign := map[string]string{"other:keep": "mine", "dc": "not under dc:"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRedisSetup(t)
			ctx := context.Background()
			if all := mergeDumps(tt.leftovers, foreign); len(all) > 0 {
				mustDo(t, r.admin.MSet(ctx, pairs(all)...))
			}
			m, err := r.handle().Open(ctx, chain.gen)
			if err != nil {
				t.Fatalf("Open() = %v", err)
			}
			got, want := r.dump(), genesisDump(chain, m, foreign)
			if !maps.Equal(got, want) {
				t.Errorf("keys after Open() = %d, want %d (genesis, meta and the foreign keys)%s", len(got), len(want), diffDump(got, want))
			}
		})
	}
}

// TestRedisConcurrentOpen: Opens racing on one database agree on one
// incarnation, and none deletes the keys of the genesis another wrote.
func TestRedisConcurrentOpen(t *testing.T) {
	tests := []struct {
		name      string
		leftovers int
	}{
		{"empty", 0},
		{"leftovers", 3 * scanCount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			chain := newTestChain(3, 5, 10)
			r := newRedisSetup(t)
			if tt.leftovers > 0 {
				mustDo(t, r.admin.MSet(ctx, pairs(manyLeftovers(tt.leftovers))...))
			}
			stores := []Store{r.handle(), r.handle(), r.handle()}
			metas := make([]Meta, len(stores))
			errs := make([]error, len(stores))
			var wg sync.WaitGroup
			for i, s := range stores {
				wg.Go(func() { metas[i], errs[i] = s.Open(ctx, chain.gen) })
			}
			wg.Wait()
			for i := range stores {
				if errs[i] != nil || metas[i] != metas[0] {
					t.Errorf("Open() #%d = incarnation %s, %v, want %s as Open #0", i, metas[i].Incarnation, errs[i], metas[0].Incarnation)
				}
			}
			if got, want := r.dump(), genesisDump(chain, metas[0], nil); !maps.Equal(got, want) {
				t.Errorf("keys after concurrent Opens = %d, want %d%s", len(got), len(want), diffDump(got, want))
			}
		})
	}
}

// TestRedisEvictionPolicy: Open refuses a server whose maxmemory-policy may
// evict our keys, writing nothing, and goes on where it cannot read the
// policy.
func TestRedisEvictionPolicy(t *testing.T) {
	srv := redistest.Start(t) // a server of its own: the policy is server-wide
	ctx := context.Background()
	admin := redis.NewClient(srv.Options())
	defer admin.Close()
	mustDo(t, admin.Do(ctx, "ACL", "SETUSER", "noconfig", "on", ">pw", "~*", "&*", "+@all", "-config"))
	chain := newTestChain(6, 5, 10)
	tests := []struct {
		policy string
		user   string // "": the default user, who may run CONFIG
		want   error
	}{
		{"noeviction", "", nil},
		{"volatile-lru", "", nil},
		{"volatile-lfu", "", nil},
		{"volatile-random", "", nil},
		{"volatile-ttl", "", nil},
		{"allkeys-lru", "", ErrEvictingRedis},
		{"allkeys-lfu", "", ErrEvictingRedis},
		{"allkeys-random", "", ErrEvictingRedis},
		{"allkeys-lru", "noconfig", nil}, // CONFIG denied: cannot check, goes on
	}
	for _, tt := range tests {
		t.Run(tt.policy+"/"+tt.user, func(t *testing.T) {
			mustDo(t, admin.FlushAll(ctx))
			mustDo(t, admin.ConfigSet(ctx, "maxmemory-policy", tt.policy))
			opts := srv.Options()
			if tt.user != "" {
				opts.Username, opts.Password = tt.user, "pw"
			}
			s := NewRedisStore(opts)
			defer s.Close()
			_, err := s.Open(ctx, chain.gen)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open() with maxmemory-policy %s as %q = %v, want %v", tt.policy, tt.user, err, tt.want)
			}
			if tt.want == nil {
				return
			}
			if !strings.Contains(err.Error(), "maxmemory-policy noeviction") {
				t.Errorf("Open() error = %q, want it to say to set maxmemory-policy noeviction", err)
			}
			if n, err := admin.DBSize(ctx).Result(); err != nil || n != 0 {
				t.Errorf("DBSIZE after refused Open() = %d, %v, want 0", n, err)
			}
		})
	}
}

// replyError is an error reply from a server, as go-redis types them.
type replyError string

func (e replyError) Error() string { return string(e) }
func (replyError) RedisError()     {}

func TestConfigRefused(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{replyError("NOPERM User x has no permissions to run the 'config|get' command"), true},
		{replyError("ERR unknown command 'CONFIG', with args beginning with: 'GET' 'maxmemory-policy' "), true},
		{fmt.Errorf("wrapped: %w", replyError("ERR unknown command `config`")), true},
		{replyError("LOADING Redis is loading the dataset in memory"), false},
		{errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), false},
		{errors.New("unknown command"), false}, // not a server reply
	}
	for _, tt := range tests {
		if got := configRefused(tt.err); got != tt.want {
			t.Errorf("configRefused(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func mergeDumps(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, b)
	return out
}

// pairs is m as MSET arguments.
func pairs(m map[string]string) []any {
	out := make([]any, 0, 2*len(m))
	for k, v := range m {
		out = append(out, k, v)
	}
	return out
}

// diffDump names one key that differs between got and want.
func diffDump(got, want map[string]string) string {
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			return fmt.Sprintf(": key %q is %q (present %v), want %q", k, truncate(g), ok, truncate(v))
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			return fmt.Sprintf(": key %q is %q, want absent", k, truncate(v))
		}
	}
	return ""
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
