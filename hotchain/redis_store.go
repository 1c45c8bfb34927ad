package hotchain

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/dualchain/dualchain/ledger"
)

var _ Store = (*RedisStore)(nil)

// maxAttempts bounds how often Open and Apply retry after the meta key
// changed under their WATCH.
const maxAttempts = 3

// maxArgs bounds the arguments of one MSET or DEL; a block's writes go out
// in as many commands as needed, all inside the same MULTI/EXEC.
const maxArgs = 1 << 16

// scanCount is the COUNT hint of each SCAN step of Scan.
const scanCount = 1000

// RedisStore keeps hot state in one Redis database under the key schema in
// redis_schema.go and DESIGN.md. It is safe for concurrent use.
type RedisStore struct {
	rdb *redis.Client

	mu     sync.Mutex
	opened string // incarnation Open saw; "" before Open

	// beforeExec, when set (by tests), runs in Apply between reading the
	// meta key and MULTI/EXEC.
	beforeExec func()
}

// NewRedisStore returns a store on the Redis server and database opts names.
// It does not connect until the first call.
func NewRedisStore(opts *redis.Options) *RedisStore {
	return &RedisStore{rdb: redis.NewClient(opts)}
}

// OpenRedis returns a store for a redis:// URL such as
// redis://127.0.0.1:6379/0.
func OpenRedis(url string) (*RedisStore, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("hotchain: redis url: %w", err)
	}
	return NewRedisStore(opts), nil
}

func (s *RedisStore) incarnation() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opened
}

// Open implements Store. Creating the genesis state is guarded by a WATCH on
// the meta key, so of two Opens racing on an empty database one creates it
// and the other reads it.
func (s *RedisStore) Open(ctx context.Context, gen *Genesis) (Meta, error) {
	writes, c, err := genesisState(gen)
	if err != nil {
		return Meta{}, err
	}
	for range maxAttempts {
		m, err := s.openOnce(ctx, gen, writes, c)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if err != nil {
			return Meta{}, fmt.Errorf("hotchain: open redis: %w", err)
		}
		s.mu.Lock()
		s.opened = m.Incarnation
		s.mu.Unlock()
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

// readMeta reads the meta key; nil if the database holds no chain.
func readMeta(ctx context.Context, c redis.Cmdable) (*Meta, error) {
	data, err := c.Get(ctx, metaKey).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m, err := decodeMeta(data)
	return &m, err
}

// Meta implements Store.
func (s *RedisStore) Meta(ctx context.Context) (Meta, error) {
	m, err := readMeta(ctx, s.rdb)
	if err != nil {
		return Meta{}, fmt.Errorf("hotchain: meta: %w", err)
	}
	if err := checkIncarnation(m, s.incarnation()); err != nil {
		return Meta{}, err
	}
	return *m, nil
}

// Get implements Store: one MGET of the meta key and the state keys, so a
// wiped database is noticed on reads as on writes.
func (s *RedisStore) Get(ctx context.Context, keys [][]byte) ([][]byte, error) {
	inc := s.incarnation()
	if inc == "" {
		return nil, ErrNotOpen
	}
	names := make([]string, 1, 1+len(keys))
	names[0] = metaKey
	for _, k := range keys {
		names = append(names, stateKey(k))
	}
	vals, err := s.rdb.MGet(ctx, names...).Result()
	if err != nil {
		return nil, fmt.Errorf("hotchain: get %d keys: %w", len(keys), err)
	}
	m, err := metaFromReply(vals[0])
	if err != nil {
		return nil, err
	}
	if err := checkIncarnation(m, inc); err != nil {
		return nil, err
	}
	return bytesValues(vals[1:]), nil
}

// metaFromReply decodes the meta key's value in an MGET reply; nil if the
// key is missing.
func metaFromReply(v any) (*Meta, error) {
	s, ok := v.(string)
	if !ok {
		return nil, nil
	}
	m, err := decodeMeta([]byte(s))
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// bytesValues converts an MGET reply: a missing key is nil.
func bytesValues(vals []any) [][]byte {
	out := make([][]byte, len(vals))
	for i, v := range vals {
		if s, ok := v.(string); ok {
			out[i] = []byte(s)
		}
	}
	return out
}

// Block implements Store: one GET for the block record, one MGET for its
// transactions.
func (s *RedisStore) Block(ctx context.Context, height uint64) (*ledger.Block, error) {
	data, err := s.rdb.Get(ctx, blockKey(height)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("block %d: %w", height, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("hotchain: block %d: %w", height, err)
	}
	r, err := decodeBlockRecord(data)
	if err != nil {
		return nil, err
	}
	txs, err := s.txRecords(ctx, r.Receipts)
	if err != nil {
		return nil, fmt.Errorf("hotchain: block %d: %w", height, err)
	}
	return assembleBlock(r, txs)
}

func (s *RedisStore) txRecords(ctx context.Context, receipts []ledger.Receipt) ([][]byte, error) {
	if len(receipts) == 0 {
		return nil, nil
	}
	names := make([]string, len(receipts))
	for i := range receipts {
		names[i] = txKey(receipts[i].TxID)
	}
	vals, err := s.rdb.MGet(ctx, names...).Result()
	if err != nil {
		return nil, err
	}
	return bytesValues(vals), nil
}

// Tx implements Store: one GET.
func (s *RedisStore) Tx(ctx context.Context, id ledger.Hash) (*ledger.TxRecord, error) {
	data, err := s.rdb.Get(ctx, txKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("tx %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("hotchain: tx %s: %w", id, err)
	}
	return decodeTxRecord(data)
}

// Kind implements Store.
func (s *RedisStore) Kind() string { return "redis" }

// Close implements Store: it closes the connections; the data stays in Redis.
func (s *RedisStore) Close() error { return s.rdb.Close() }
