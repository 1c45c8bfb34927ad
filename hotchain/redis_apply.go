package hotchain

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/dualchain/dualchain/ledger"
)

// Apply implements Store. It WATCHes the meta key, reads it (with the old
// values of the write set under the invariants build tag), checks the
// incarnation, the index and the parent, and writes everything in one
// MULTI/EXEC: the state (MSET and DEL), the tx and block records and the
// meta key. If anything touched the meta key since the WATCH (another
// writer, a FLUSHALL) EXEC writes nothing and Apply starts again from the
// read, which then sees what happened.
func (s *RedisStore) Apply(ctx context.Context, u *Update) (bool, error) {
	if err := checkUpdate(u); err != nil {
		return false, err
	}
	inc := s.incarnation()
	if inc == "" {
		return false, ErrNotOpen
	}
	for range maxAttempts {
		applied, err := s.applyOnce(ctx, inc, u)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("apply block %d: %w", u.Block.Header.Height, err)
		}
		return applied, nil
	}
	return false, fmt.Errorf("apply block %d: %w", u.Block.Header.Height, ErrConflict)
}

func (s *RedisStore) applyOnce(ctx context.Context, inc string, u *Update) (applied bool, err error) {
	err = s.rdb.Watch(ctx, func(tx *redis.Tx) error {
		m, err := s.readForApply(ctx, tx, inc, u)
		if err != nil || m == nil { // failed, or already applied
			return err
		}
		args := applyArgs(u, nextMeta(*m, u))
		if s.beforeExec != nil {
			s.beforeExec()
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			queueSets(ctx, p, args.sets)
			queueDels(ctx, p, args.dels)
			return nil
		})
		applied = err == nil
		return err
	}, metaKey)
	return applied, err
}

// readForApply reads the meta key and runs the checks that need it. It
// returns the meta to build on, or nil if the store has already applied u.
func (s *RedisStore) readForApply(ctx context.Context, tx *redis.Tx, inc string, u *Update) (*Meta, error) {
	names := []string{metaKey}
	if invariants {
		for _, w := range u.Block.Writes {
			names = append(names, stateKey(w.Key))
		}
	}
	vals, err := tx.MGet(ctx, names...).Result()
	if err != nil {
		return nil, err
	}
	m, err := metaFromReply(vals[0])
	if err != nil {
		return nil, err
	}
	if err := checkIncarnation(m, inc); err != nil || m.Index >= u.Index {
		return nil, err
	}
	if err := checkNext(*m, u.Block); err != nil {
		return nil, err
	}
	if invariants {
		return m, checkAgainstState(m.Commitment, u, bytesValues(vals[1:]))
	}
	return m, nil
}

// redisArgs are the MSET and DEL arguments of one update.
type redisArgs struct {
	sets []any // key, value, key, value, ...
	dels []any // keys
}

// applyArgs builds the commands of u: state values, tx records, block
// record and meta in MSET, deleted state keys in DEL. The prefixed keys
// share one buffer; values are the block's own slices.
func applyArgs(u *Update, next Meta) redisArgs {
	b := u.Block
	sets, dels := resolveWrites(b.Writes)
	keys := newKeyArena(keysSize(b.Writes, len(statePrefix)) + len(b.Txs)*(len(txPrefix)+len(ledger.Hash{})))
	setArgs := newBulkArgs(2 * (len(sets) + len(b.Txs) + 2))
	for _, w := range sets {
		setArgs.add(keys.key(statePrefix, w.Key), w.Value)
	}
	block, txs := encodeRecords(b)
	for i, rec := range txs {
		setArgs.add(keys.key(txPrefix, b.Receipts[i].TxID[:]), rec)
	}
	setArgs.add([]byte(blockKey(b.Header.Height)), block, []byte(metaKey), encodeMeta(next))
	delArgs := newBulkArgs(len(dels))
	for _, k := range dels {
		delArgs.add(keys.key(statePrefix, k))
	}
	return redisArgs{sets: setArgs.args, dels: delArgs.args}
}

// bulk is one argument of a Redis command. Arguments are passed as *bulk:
// a pointer fits in an interface without an allocation, which a []byte does
// not; a block of 10,000 transfers has about 80,000 arguments.
type bulk []byte

// MarshalBinary lets go-redis write the argument as it is.
func (b *bulk) MarshalBinary() ([]byte, error) { return *b, nil }

// bulkArgs is a command's arguments, boxed without allocating one by one.
type bulkArgs struct {
	bulks []bulk // never grows past its capacity: args point into it
	args  []any
}

func newBulkArgs(n int) *bulkArgs {
	return &bulkArgs{bulks: make([]bulk, 0, n), args: make([]any, 0, n)}
}

func (a *bulkArgs) add(values ...[]byte) {
	for _, v := range values {
		if len(a.bulks) == cap(a.bulks) { // more than planned: box it
			a.args = append(a.args, v)
			continue
		}
		a.bulks = append(a.bulks, v)
		a.args = append(a.args, &a.bulks[len(a.bulks)-1])
	}
}

// keysSize is the bytes of all of writes' keys with a prefix of n bytes.
func keysSize(writes []ledger.Write, n int) int {
	size := 0
	for _, w := range writes {
		size += n + len(w.Key)
	}
	return size
}

// queueSets queues MSETs of key/value pairs, at most maxArgs arguments each.
func queueSets(ctx context.Context, p redis.Pipeliner, pairs []any) {
	for len(pairs) > 0 {
		n := min(len(pairs), maxArgs)
		p.Do(ctx, append([]any{"MSET"}, pairs[:n]...)...)
		pairs = pairs[n:]
	}
}

// queueDels queues DELs of keys, at most maxArgs each.
func queueDels(ctx context.Context, p redis.Pipeliner, keys []any) {
	for len(keys) > 0 {
		n := min(len(keys), maxArgs)
		p.Do(ctx, append([]any{"DEL"}, keys[:n]...)...)
		keys = keys[n:]
	}
}

// Scan implements Store: SCAN with MATCH on the state prefix, one MGET per
// step. SCAN may return a key twice (when Redis resizes its table mid-scan),
// so Scan remembers the keys it has passed to fn. It is not a snapshot: if
// an Apply ran during the scan (the meta changed) it fails with ErrConflict,
// and the caller may try again.
func (s *RedisStore) Scan(ctx context.Context, fn func(key, value []byte) error) error {
	before, err := s.Meta(ctx)
	if err != nil {
		return err
	}
	if err := s.scanState(ctx, fn); err != nil {
		return err
	}
	after, err := s.Meta(ctx)
	if err != nil {
		return err
	}
	if after.Index != before.Index {
		return fmt.Errorf("hotchain: scan: index moved from %d to %d: %w", before.Index, after.Index, ErrConflict)
	}
	return nil
}

func (s *RedisStore) scanState(ctx context.Context, fn func(key, value []byte) error) error {
	seen := map[string]struct{}{}
	var cursor uint64
	for {
		names, next, err := s.rdb.Scan(ctx, cursor, stateMatch, scanCount).Result()
		if err != nil {
			return fmt.Errorf("hotchain: scan: %w", err)
		}
		if err := s.scanStep(ctx, names, seen, fn); err != nil {
			return err
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}

// scanStep reads the values of one SCAN step's keys and passes the ones not
// seen before to fn.
func (s *RedisStore) scanStep(ctx context.Context, names []string, seen map[string]struct{}, fn func(key, value []byte) error) error {
	if len(names) == 0 {
		return nil
	}
	vals, err := s.rdb.MGet(ctx, names...).Result()
	if err != nil {
		return fmt.Errorf("hotchain: scan: %w", err)
	}
	for i, name := range names {
		v, ok := vals[i].(string)
		if _, dup := seen[name]; dup || !ok {
			continue
		}
		seen[name] = struct{}{}
		if err := fn([]byte(name[len(statePrefix):]), []byte(v)); err != nil {
			return err
		}
	}
	return nil
}
