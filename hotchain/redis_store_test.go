package hotchain

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/dualchain/dualchain/internal/redistest"
	"github.com/dualchain/dualchain/ledger"
)

func redisBackend() backend {
	return backend{name: "redis", setup: func(t *testing.T) (func() Store, func(), func() map[string]string) {
		r := newRedisSetup(t)
		return r.handle, r.wipe, r.dump
	}}
}

// redisSetup is a database of its own (redistest.Shared) and an admin
// client on it.
type redisSetup struct {
	t     *testing.T
	opts  *redis.Options
	admin *redis.Client
}

func newRedisSetup(t *testing.T) *redisSetup {
	r := &redisSetup{t: t, opts: redistest.Shared(t)}
	r.admin = redis.NewClient(r.opts)
	t.Cleanup(func() { r.admin.Close() })
	return r
}

// handle opens a new store on the database.
func (r *redisSetup) handle() Store {
	s := NewRedisStore(r.opts)
	r.t.Cleanup(func() { s.Close() })
	return s
}

func (r *redisSetup) wipe() {
	if err := r.admin.FlushDB(context.Background()).Err(); err != nil {
		r.t.Fatalf("FLUSHDB: %v", err)
	}
}

func (r *redisSetup) dump() map[string]string { return dumpRedis(r.t, r.admin) }

// dumpRedis returns every key and value of the client's database.
func dumpRedis(t *testing.T, c *redis.Client) map[string]string {
	t.Helper()
	ctx := context.Background()
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatalf("KEYS *: %v", err)
	}
	out := map[string]string{}
	if len(keys) == 0 {
		return out
	}
	vals, err := c.MGet(ctx, keys...).Result()
	if err != nil {
		t.Fatalf("MGET: %v", err)
	}
	for i, k := range keys {
		out[k], _ = vals[i].(string)
	}
	return out
}

// newRedisFixture is newFixture on Redis, with an admin client.
func newRedisFixture(t *testing.T) (fixture, *redis.Client) {
	r := newRedisSetup(t)
	f := newFixture(t, backend{name: "redis", setup: func(*testing.T) (func() Store, func(), func() map[string]string) {
		return r.handle, r.wipe, r.dump
	}})
	return f, r.admin
}

// TestRedisWipedByOtherIncarnation: the database was flushed and another
// handle opened it again (a rebuild). This handle must neither write nor
// read: a committed block and tx read ErrWiped, not ErrNotFound.
func TestRedisWipedByOtherIncarnation(t *testing.T) {
	f, _ := newRedisFixture(t)
	committed := f.chain.nextBlock(2)
	f.apply(t, committed)
	f.wipe()
	if _, err := f.handle().Open(f.ctx, f.chain.gen); err != nil {
		t.Fatalf("Open() by another handle = %v", err)
	}
	before := f.dump()
	if ok, err := f.s.Apply(f.ctx, f.chain.nextBlock(1)); ok || !errors.Is(err, ErrWiped) {
		t.Errorf("Apply on a new incarnation = %v, %v, want false, %v", ok, err, ErrWiped)
	}
	f.unchanged(t, "Apply on a new incarnation", before)
	assertReadsFail(t, f.ctx, f.s, "on a new incarnation", committed.Block, ErrWiped)
}

// TestRedisRestartedEmpty: redis-server restarts without its data while the
// node runs; the next Apply must notice and write nothing.
func TestRedisRestartedEmpty(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	s := NewRedisStore(srv.Options())
	defer s.Close()
	chain := newTestChain(2, 10, 100)
	if _, err := s.Open(ctx, chain.gen); err != nil {
		t.Fatalf("Open() = %v", err)
	}
	if ok, err := s.Apply(ctx, chain.nextBlock(3)); !ok || err != nil {
		t.Fatalf("Apply(block 1) = %v, %v", ok, err)
	}
	srv.Restart()
	ok, err := s.Apply(ctx, chain.nextBlock(3))
	for range 3 { // the first calls may see the old connections fail
		if ok || errors.Is(err, ErrWiped) {
			break
		}
		ok, err = s.Apply(ctx, chain.nextBlock(0))
	}
	if ok || !errors.Is(err, ErrWiped) {
		t.Errorf("Apply after restart = %v, %v, want false, %v", ok, err, ErrWiped)
	}
	admin := redis.NewClient(srv.Options())
	defer admin.Close()
	if n, err := admin.DBSize(ctx).Result(); err != nil || n != 0 {
		t.Errorf("DBSIZE after failed Apply = %d, %v, want 0", n, err)
	}
}

// TestRedisRestartedFromSnapshot: redis-server restarts from an RDB file
// saved a few blocks ago, so the store has the same incarnation at an older
// index.
func TestRedisRestartedFromSnapshot(t *testing.T) {
	srv := redistest.Start(t)
	admin := redis.NewClient(srv.Options())
	defer admin.Close()
	f := fixture{ctx: context.Background(), s: NewRedisStore(srv.Options()), chain: newTestChain(4, 10, 100)}
	defer f.s.Close()
	f.dump = func() map[string]string { return dumpRedis(t, admin) }
	if _, err := f.s.Open(f.ctx, f.chain.gen); err != nil {
		t.Fatalf("Open() = %v", err)
	}
	us := make([]*Update, 5)
	for i := range us {
		us[i] = f.chain.nextBlock(3)
	}
	f.apply(t, us[0])
	older, _ := f.s.Meta(f.ctx)
	mustDo(t, admin.Save(f.ctx))
	f.apply(t, us[1])
	f.apply(t, us[2])
	srv.Restart()
	var err error
	for range 3 { // the first calls may see the old connections fail
		if _, err = f.s.Meta(f.ctx); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("Meta() after restart = %v", err)
	}
	assertRestoredOlder(t, f, older, us[1:])
}

// TestRedisApplyAtomic interferes between Apply's read of the meta key and
// its MULTI/EXEC, and checks that the store holds the whole block or none.
func TestRedisApplyAtomic(t *testing.T) {
	tests := []struct {
		name    string
		writes  int // writes instead of transfers; past maxArgs/2 the block needs several MSETs
		hook    func(t *testing.T, f fixture, admin *redis.Client, u *Update, calls int)
		applied bool
		err     error
		calls   int // times the hook ran
	}{
		{"flushed", 0, func(t *testing.T, f fixture, admin *redis.Client, u *Update, calls int) {
			mustDo(t, admin.FlushDB(f.ctx))
		}, false, ErrWiped, 1},
		{"flushed, large block", maxArgs/2 + 64, func(t *testing.T, f fixture, admin *redis.Client, u *Update, calls int) {
			mustDo(t, admin.FlushDB(f.ctx))
		}, false, ErrWiped, 1},
		{"applied by another writer", 0, func(t *testing.T, f fixture, admin *redis.Client, u *Update, calls int) {
			other := f.handle()
			if _, err := other.Open(f.ctx, f.chain.gen); err != nil {
				t.Fatalf("other Open() = %v", err)
			}
			if ok, err := other.Apply(f.ctx, u); !ok || err != nil {
				t.Fatalf("other Apply() = %v, %v", ok, err)
			}
		}, false, nil, 1},
		{"meta touched once", 0, func(t *testing.T, f fixture, admin *redis.Client, u *Update, calls int) {
			if calls == 1 {
				touchMeta(t, f, admin)
			}
		}, true, nil, 2},
		{"meta touched always, large block", maxArgs/2 + 64, func(t *testing.T, f fixture, admin *redis.Client, u *Update, calls int) {
			touchMeta(t, f, admin)
		}, false, ErrConflict, maxAttempts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, admin := newRedisFixture(t)
			u := atomicTestBlock(f, tt.writes)
			if n := len(applyArgs(u, f.chain.meta).sets); tt.writes > 0 && n <= maxArgs {
				t.Fatalf("block of %d writes has %d MSET arguments, want more than %d", tt.writes, n, maxArgs)
			}
			before := f.dump()
			calls := 0
			f.s.(*RedisStore).beforeExec = func() { calls++; tt.hook(t, f, admin, u, calls) }
			ok, err := f.s.Apply(f.ctx, u)
			if ok != tt.applied || !errors.Is(err, tt.err) || calls != tt.calls {
				t.Fatalf("Apply() = %v, %v after %d hook calls, want %v, %v after %d", ok, err, calls, tt.applied, tt.err, tt.calls)
			}
			assertWholeOrNothing(t, f, u, before)
		})
	}
}

// atomicTestBlock is the next block with 4 transfers and n more writes.
func atomicTestBlock(f fixture, n int) *Update {
	if n == 0 {
		return f.chain.nextBlock(4)
	}
	writes := make([]ledger.Write, n)
	for i := range writes {
		writes[i] = ledger.Write{Key: fmt.Appendf(nil, "bulk-%d", i), Value: []byte{1}}
	}
	return f.chain.writesBlock(writes)
}

// assertWholeOrNothing checks that the store holds either everything it
// held before and nothing more, or that plus all of u.
func assertWholeOrNothing(t *testing.T, f fixture, u *Update, before map[string]string) {
	t.Helper()
	after := f.dump()
	if len(after) == 0 || maps.Equal(after, before) {
		return // wiped, or untouched
	}
	m, err := f.s.Meta(f.ctx)
	if err != nil || m.Index != u.Index {
		t.Fatalf("store changed but Meta() = index %d, %v, want %d", m.Index, err, u.Index)
	}
	assertState(t, f.ctx, f.s, f.chain.state)
	assertBlock(t, f.ctx, f.s, u.Block)
}

func touchMeta(t *testing.T, f fixture, admin *redis.Client) {
	t.Helper()
	v, err := admin.Get(f.ctx, metaKey).Result()
	if err != nil {
		t.Fatalf("GET meta: %v", err)
	}
	mustDo(t, admin.Set(f.ctx, metaKey, v, 0))
}

func mustDo(t *testing.T, c redis.Cmder) {
	t.Helper()
	if err := c.Err(); err != nil {
		t.Fatalf("%v: %v", c.Args(), err)
	}
}

// TestRedisKeySchema checks that a block lands under exactly the keys
// redis_schema.go and DESIGN.md document.
func TestRedisKeySchema(t *testing.T) {
	f, _ := newRedisFixture(t)
	u := f.chain.nextBlock(3)
	f.apply(t, u)
	want := map[string]bool{metaKey: true, "dc:b:1": true}
	for k := range f.chain.state {
		want["dc:s:"+k] = true
	}
	for _, rc := range u.Block.Receipts {
		want["dc:t:"+string(rc.TxID[:])] = true
	}
	got := f.dump()
	for k := range got {
		if !want[k] {
			t.Errorf("unexpected key %q", k)
		}
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("missing key %q", k)
		}
	}
}

func TestOpenRedis(t *testing.T) {
	tests := []struct {
		url     string
		wantErr bool
	}{
		{"redis://127.0.0.1:6379/3", false},
		{"http://127.0.0.1:6379", true},
		{"redis://127.0.0.1:6379/notanumber", true},
	}
	for _, tt := range tests {
		s, err := OpenRedis(tt.url)
		if (err != nil) != tt.wantErr {
			t.Errorf("OpenRedis(%q) = %v, want error %v", tt.url, err, tt.wantErr)
		}
		if err == nil {
			if s.Kind() != "redis" || s.rdb.Options().DB != 3 {
				t.Errorf("OpenRedis(%q) = kind %s db %d, want redis db 3", tt.url, s.Kind(), s.rdb.Options().DB)
			}
			s.Close()
		}
	}
}
