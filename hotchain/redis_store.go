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
	opened string      // incarnation Open (or Restore) saw; "" before Open
	chain  ledger.Hash // genesis Open (or Restore) saw

	// beforeExec, when set (by tests), runs in Apply between reading the
	// meta key and MULTI/EXEC.
	beforeExec func()
	// afterScan, when set (by tests), runs in Snapshot between the scan and
	// the second read of the meta key.
	afterScan func()
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

// setOpened records the incarnation and chain Open or Restore saw.
func (s *RedisStore) setOpened(m Meta) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opened, s.chain = m.Incarnation, m.Genesis
}

// openedChain returns the incarnation and chain Open or Restore saw.
func (s *RedisStore) openedChain() (string, ledger.Hash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opened, s.chain
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
	names := withMeta(len(keys))
	for _, k := range keys {
		names = append(names, stateKey(k))
	}
	vals, err := s.checkedMGet(ctx, names)
	if err != nil {
		return nil, fmt.Errorf("get %d keys: %w", len(keys), err)
	}
	return vals, nil
}

// withMeta returns a slice of Redis key names for checkedMGet: the meta
// key, and room for n more.
func withMeta(n int) []string {
	names := make([]string, 1, 1+n)
	names[0] = metaKey
	return names
}

// checkedMGet reads names (the first is the meta key, see withMeta) in one
// MGET and checks the incarnation in the meta key's value, so a read never
// returns what a wiped or re-initialized database holds: ErrNotOpen before
// Open, ErrWiped after a wipe. It returns the values of names[1:]; a missing
// key is nil.
func (s *RedisStore) checkedMGet(ctx context.Context, names []string) ([][]byte, error) {
	inc := s.incarnation()
	if inc == "" {
		return nil, ErrNotOpen
	}
	vals, err := s.rdb.MGet(ctx, names...).Result()
	if err != nil {
		return nil, fmt.Errorf("hotchain: redis: %w", err)
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

// Block implements Store: one MGET for the meta key and the block record,
// one for the meta key and its transactions. Both check the incarnation, so
// a wipe between them is ErrWiped too, not a block with missing txs.
func (s *RedisStore) Block(ctx context.Context, height uint64) (*ledger.Block, error) {
	vals, err := s.checkedMGet(ctx, append(withMeta(1), blockKey(height)))
	if err != nil {
		return nil, fmt.Errorf("block %d: %w", height, err)
	}
	if vals[0] == nil {
		return nil, fmt.Errorf("block %d: %w", height, ErrNotFound)
	}
	r, err := decodeBlockRecord(vals[0])
	if err != nil {
		return nil, err
	}
	txs, err := s.txRecords(ctx, r.Receipts)
	if err != nil {
		return nil, fmt.Errorf("block %d: %w", height, err)
	}
	return assembleBlock(r, txs)
}

func (s *RedisStore) txRecords(ctx context.Context, receipts []ledger.Receipt) ([][]byte, error) {
	if len(receipts) == 0 {
		return nil, nil
	}
	names := withMeta(len(receipts))
	for i := range receipts {
		names = append(names, txKey(receipts[i].TxID))
	}
	return s.checkedMGet(ctx, names)
}

// Tx implements Store: one MGET of the meta key and the tx record.
func (s *RedisStore) Tx(ctx context.Context, id ledger.Hash) (*ledger.TxRecord, error) {
	vals, err := s.checkedMGet(ctx, append(withMeta(1), txKey(id)))
	if err != nil {
		return nil, fmt.Errorf("tx %s: %w", id, err)
	}
	if vals[0] == nil {
		return nil, fmt.Errorf("tx %s: %w", id, ErrNotFound)
	}
	return decodeTxRecord(vals[0])
}

// Kind implements Store.
func (s *RedisStore) Kind() string { return "redis" }

// Close implements Store: it closes the connections; the data stays in Redis.
func (s *RedisStore) Close() error { return s.rdb.Close() }
