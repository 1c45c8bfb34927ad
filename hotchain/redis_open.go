package hotchain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/dualchain/dualchain/ledger"
)

// Open implements Store. It first refuses a server that may evict keys
// (checkEviction). Creating the genesis state is guarded by a WATCH on the
// meta key, so of two Opens racing on an empty database one creates it and
// the other reads it. A database without a meta key may still hold keys of
// an earlier incarnation (the meta key was deleted or evicted, or a crash
// came mid-initialization); Open deletes them before writing the genesis,
// so a new incarnation starts from exactly the genesis state.
func (s *RedisStore) Open(ctx context.Context, gen *Genesis) (Meta, error) {
	writes, c, err := genesisState(gen)
	if err != nil {
		return Meta{}, err
	}
	if err := s.checkEviction(ctx); err != nil {
		return Meta{}, fmt.Errorf("hotchain: open redis: %w", err)
	}
	for range maxAttempts {
		m, err := s.openOnce(ctx, gen, writes, c)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if err != nil {
			return Meta{}, fmt.Errorf("hotchain: open redis: %w", err)
		}
		s.setOpened(m)
		return m, nil
	}
	return Meta{}, fmt.Errorf("hotchain: open redis: %w", ErrConflict)
}

func (s *RedisStore) openOnce(ctx context.Context, gen *Genesis, writes []ledger.Write, c Commitment) (Meta, error) {
	var m Meta
	err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
		stored, err := readMeta(ctx, tx)
		if err != nil {
			return err
		}
		if stored != nil {
			m = *stored
			return checkGenesis(m, gen)
		}
		if err := clearLeftovers(ctx, tx); err != nil {
			return err
		}
		if m, err = genesisMeta(gen, c); err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			queueSets(ctx, p, genesisArgs(writes, m))
			return nil
		})
		return err
	}, metaKey)
	return m, err
}

// genesisArgs are the MSET arguments of a new incarnation: its state and
// its meta.
func genesisArgs(writes []ledger.Write, m Meta) []any {
	args := make([]any, 0, 2*len(writes)+2)
	for _, w := range writes {
		args = append(args, stateKey(w.Key), []byte(w.Value))
	}
	return append(args, metaKey, encodeMeta(m))
}

// clearLeftovers deletes every key under the schema's prefix, one SCAN step
// at a time. It runs on the connection of Open's WATCH, with the meta key
// watched and seen missing. Each step's keys are deleted in a MULTI/EXEC
// that fails if the meta key was written since: another Open then created
// the chain, and its keys must stay. It returns with the meta key watched
// and missing, or with redis.TxFailedErr (Open then reads the meta again).
func clearLeftovers(ctx context.Context, tx *redis.Tx) error {
	var cursor uint64
	for {
		names, next, err := tx.Scan(ctx, cursor, keyMatch, scanCount).Result()
		if err != nil {
			return fmt.Errorf("clear leftover keys: %w", err)
		}
		if err := unlinkWatched(ctx, tx, names); err != nil {
			return err
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}

// unlinkWatched deletes names, but never the meta key, in one MULTI/EXEC
// under the WATCH of the meta key, then watches the meta key again and
// checks that it is still missing.
func unlinkWatched(ctx context.Context, tx *redis.Tx, names []string) error {
	names = slices.DeleteFunc(names, func(n string) bool { return n == metaKey })
	if len(names) == 0 {
		return nil
	}
	_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Unlink(ctx, names...)
		return nil
	})
	if err != nil {
		return err
	}
	if err := tx.Watch(ctx, metaKey).Err(); err != nil { // EXEC ended the WATCH
		return err
	}
	n, err := tx.Exists(ctx, metaKey).Result()
	switch {
	case err != nil:
		return err
	case n > 0: // another Open created the chain
		return redis.TxFailedErr
	}
	return nil
}

// checkEviction fails with ErrEvictingRedis if the server's maxmemory-policy
// may evict our keys. noeviction never does, and a volatile-* policy evicts
// only keys with a TTL, which this store never sets; every other policy
// (allkeys-*) may drop state without a trace. A server that refuses CONFIG
// (renamed, as managed services do, or denied by an ACL) cannot be checked:
// Open then goes on, without an error or a log line, and the operator is
// responsible for the policy (DESIGN.md).
func (s *RedisStore) checkEviction(ctx context.Context) error {
	cfg, err := s.rdb.ConfigGet(ctx, "maxmemory-policy").Result()
	if configRefused(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("CONFIG GET maxmemory-policy: %w", err)
	}
	policy, ok := cfg["maxmemory-policy"]
	if !ok || policy == "noeviction" || strings.HasPrefix(policy, "volatile-") {
		return nil
	}
	return fmt.Errorf("maxmemory-policy is %s: %w", policy, ErrEvictingRedis)
}

// configRefused reports whether err is the server refusing the CONFIG
// command: NOPERM from an ACL, or an unknown command where it was renamed.
func configRefused(err error) bool {
	var reply redis.Error
	if !errors.As(err, &reply) {
		return false
	}
	return redis.IsPermissionError(err) || strings.Contains(strings.ToLower(reply.Error()), "unknown command")
}
