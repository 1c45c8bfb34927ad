package hotchain

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/dualchain/dualchain/ledger"
)

var _ Store = (*MemoryStore)(nil)

// MemoryStore is the embedded, in-process Store: the development default,
// and the reference the Redis store is tested against. It keeps records in
// the same encodings as RedisStore, so both return equal values. It is safe
// for concurrent use.
type MemoryStore struct {
	mu     sync.RWMutex
	opened string      // incarnation Open (or Restore) saw; "" before Open
	chain  ledger.Hash // genesis Open (or Restore) saw
	meta   *Meta       // nil while the store holds no chain
	state  map[string][]byte
	blocks map[uint64][]byte
	txs    map[ledger.Hash][]byte
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	s := new(MemoryStore)
	s.clear()
	return s
}

// Wipe drops everything the store holds, as a Redis FLUSHALL or a restart
// of an empty Redis would: every call but Open then fails with ErrWiped.
func (s *MemoryStore) Wipe() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clear()
}

func (s *MemoryStore) clear() {
	s.meta = nil
	s.state = map[string][]byte{}
	s.blocks = map[uint64][]byte{}
	s.txs = map[ledger.Hash][]byte{}
}

// Open implements Store.
func (s *MemoryStore) Open(ctx context.Context, gen *Genesis) (Meta, error) {
	writes, c, err := genesisState(gen)
	if err != nil {
		return Meta{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.meta == nil {
		if err := s.initialize(gen, writes, c); err != nil {
			return Meta{}, err
		}
	}
	if err := checkGenesis(*s.meta, gen); err != nil {
		return Meta{}, err
	}
	s.opened, s.chain = s.meta.Incarnation, gen.Hash
	return *s.meta, nil
}

// initialize starts a new incarnation from exactly gen's state: like the
// Redis store, it first drops whatever a store without a meta still holds.
func (s *MemoryStore) initialize(gen *Genesis, writes []ledger.Write, c Commitment) error {
	m, err := genesisMeta(gen, c)
	if err != nil {
		return err
	}
	s.clear()
	for _, w := range writes {
		s.state[string(w.Key)] = slices.Clone(w.Value)
	}
	s.meta = &m
	return nil
}

// Meta implements Store.
func (s *MemoryStore) Meta(ctx context.Context) (Meta, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := checkIncarnation(s.meta, s.opened); err != nil {
		return Meta{}, err
	}
	return *s.meta, nil
}

// Get implements Store.
func (s *MemoryStore) Get(ctx context.Context, keys [][]byte) ([][]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := checkIncarnation(s.meta, s.opened); err != nil {
		return nil, err
	}
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = slices.Clone(s.state[string(k)])
	}
	return out, nil
}

// Apply implements Store.
func (s *MemoryStore) Apply(ctx context.Context, u *Update) (bool, error) {
	if err := checkUpdate(u); err != nil {
		return false, err
	}
	block, txs := encodeRecords(u.Block)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := checkIncarnation(s.meta, s.opened); err != nil {
		return false, fmt.Errorf("apply block %d: %w", u.Block.Header.Height, err)
	}
	if u.Index <= s.meta.Index {
		return false, nil
	}
	if err := s.check(u); err != nil {
		return false, err
	}
	s.write(u, block, txs)
	return true, nil
}

// check runs the checks that need the current state.
func (s *MemoryStore) check(u *Update) error {
	if err := checkNext(*s.meta, u.Block); err != nil {
		return err
	}
	if !invariants {
		return nil
	}
	old := make([][]byte, len(u.Block.Writes))
	for i, w := range u.Block.Writes {
		old[i] = s.state[string(w.Key)]
	}
	return checkAgainstState(s.meta.Commitment, u, old)
}

// write stores the block's effects and records; nothing in it can fail.
func (s *MemoryStore) write(u *Update, block []byte, txs [][]byte) {
	for _, w := range u.Block.Writes {
		if len(w.Value) == 0 {
			delete(s.state, string(w.Key))
		} else {
			s.state[string(w.Key)] = slices.Clone(w.Value)
		}
	}
	for i, rec := range txs {
		s.txs[u.Block.Receipts[i].TxID] = rec
	}
	s.blocks[u.Block.Header.Height] = block
	m := nextMeta(*s.meta, u)
	s.meta = &m
}

// Block implements Store. Like every read, it checks the incarnation.
func (s *MemoryStore) Block(ctx context.Context, height uint64) (*ledger.Block, error) {
	r, txs, err := s.blockRecords(height)
	if err != nil {
		return nil, fmt.Errorf("block %d: %w", height, err)
	}
	return assembleBlock(r, txs)
}

// blockRecords returns the block record at height and its transactions'
// records, read under one lock.
func (s *MemoryStore) blockRecords(height uint64) (*blockRecord, [][]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := checkIncarnation(s.meta, s.opened); err != nil {
		return nil, nil, err
	}
	data, ok := s.blocks[height]
	if !ok {
		return nil, nil, ErrNotFound
	}
	r, err := decodeBlockRecord(data)
	if err != nil {
		return nil, nil, err
	}
	txs := make([][]byte, len(r.Receipts))
	for i := range r.Receipts {
		txs[i] = s.txs[r.Receipts[i].TxID]
	}
	return r, txs, nil
}

// Tx implements Store. Like every read, it checks the incarnation.
func (s *MemoryStore) Tx(ctx context.Context, id ledger.Hash) (*ledger.TxRecord, error) {
	s.mu.RLock()
	err := checkIncarnation(s.meta, s.opened)
	data, ok := s.txs[id]
	s.mu.RUnlock()
	switch {
	case err != nil:
		return nil, fmt.Errorf("tx %s: %w", id, err)
	case !ok:
		return nil, fmt.Errorf("tx %s: %w", id, ErrNotFound)
	}
	return decodeTxRecord(data)
}

// Scan implements Store. It sees the state as of one moment: it copies the
// entries' references under the lock and calls fn without it, so fn may use
// the store.
func (s *MemoryStore) Scan(ctx context.Context, fn func(key, value []byte) error) error {
	s.mu.RLock()
	if err := checkIncarnation(s.meta, s.opened); err != nil {
		s.mu.RUnlock()
		return err
	}
	entries := make([]ledger.Write, 0, len(s.state))
	for k, v := range s.state {
		entries = append(entries, ledger.Write{Key: []byte(k), Value: v})
	}
	s.mu.RUnlock()
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(e.Key, slices.Clone(e.Value)); err != nil {
			return err
		}
	}
	return nil
}

// Kind implements Store.
func (s *MemoryStore) Kind() string { return "memory" }

// Close implements Store; the state stays in the MemoryStore.
func (s *MemoryStore) Close() error { return nil }
