package redistest

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvURL names the environment variable with the URL of a redis-server that
// tests share, e.g. redis://127.0.0.1:6399 (CI starts one with
// --databases 4096).
const EnvURL = "DUALCHAIN_TEST_REDIS"

// counterKey is the key in database 0 of the shared server whose INCR hands
// out databases.
const counterKey = "redistest:next-db"

// Shared returns client options for a database of its own: a fresh one on
// the server EnvURL names, flushed now and when the test ends; or, when
// EnvURL is not set, database 0 of a server of its own (Start). Tests that
// use Shared must not FLUSHALL: they share the server; FLUSHDB is theirs.
func Shared(tb testing.TB) *redis.Options {
	tb.Helper()
	url := os.Getenv(EnvURL)
	if url == "" {
		return Start(tb).Options()
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		tb.Fatalf("redistest: %s=%q: %v", EnvURL, url, err)
	}
	opts.DB = allocDB(tb, *opts)
	flushDB(tb, opts)
	tb.Cleanup(func() { flushDB(tb, opts) })
	return opts
}

// allocDB hands out databases 1 to n-1 in turn, n being the server's
// database count; database 0 holds the counter.
func allocDB(tb testing.TB, opts redis.Options) int {
	tb.Helper()
	opts.DB = 0
	c := redis.NewClient(&opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := c.ConfigGet(ctx, "databases").Result()
	if err != nil {
		tb.Fatalf("redistest: CONFIG GET databases on %s: %v", opts.Addr, err)
	}
	n, err := strconv.Atoi(cfg["databases"])
	if err != nil || n < 2 {
		tb.Fatalf("redistest: server %s has databases=%q; start it with --databases 4096", opts.Addr, cfg["databases"])
	}
	next, err := c.Incr(ctx, counterKey).Result()
	if err != nil {
		tb.Fatalf("redistest: INCR %s: %v", counterKey, err)
	}
	return 1 + int((next-1)%int64(n-1))
}

func flushDB(tb testing.TB, opts *redis.Options) {
	c := redis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.FlushDB(ctx).Err(); err != nil {
		tb.Errorf("redistest: FLUSHDB %d on %s: %v", opts.DB, opts.Addr, err)
	}
}
