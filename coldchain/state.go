package coldchain

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/dualchain/dualchain/ledger"
)

// Pebble key schema (DESIGN.md):
//
//	a <address: 32 bytes>  →  account: balance ‖ nonce, 8 bytes big-endian each
//	n <hash: 32 bytes>     →  tree node: prefix ‖ 32 bytes ‖ 32 bytes (the hash's preimage)
//	m root                 →  the tree's root hash
//	m applied              →  the applied log index, 8 bytes big-endian
const (
	accountPrefix = 'a'
	nodePrefix    = 'n'
)

var (
	metaRootKey    = []byte("mroot")
	metaAppliedKey = []byte("mapplied")
)

func accountKey(a ledger.Address) []byte { return append([]byte{accountPrefix}, a[:]...) }
func nodeKey(h ledger.Hash) []byte       { return append([]byte{nodePrefix}, h[:]...) }

// AccountWrite sets an account's state; the zero Account deletes it.
type AccountWrite struct {
	Address ledger.Address
	Account Account
}

// State is the cold chain's account state in one Pebble database: the
// accounts, the sparse Merkle tree over them, its root, and the applied
// log index. It is safe for concurrent use; Apply excludes readers.
type State struct {
	mu      sync.RWMutex
	db      *pebble.DB
	root    ledger.Hash
	applied uint64

	// cache holds the tree's nodes at depth below cacheDepth, where every
	// Apply passes: it saves Pebble reads. Nodes are stored by hash, so
	// an entry is never stale; Apply removes the nodes it deletes, which
	// bounds the cache by the live nodes near the root. Only Apply (under
	// the write lock) adds to it.
	cache      map[ledger.Hash]node
	cacheDepth int

	// beforeCommit, if set, runs in Apply after its batch is built and
	// before it is committed (crash tests).
	beforeCommit func()
}

// Open opens (or creates) the state described by cfg.
func Open(cfg Config) (*State, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts := &pebble.Options{
		FS:     cfg.FS,
		Logger: pebbleLogger{logger.With("component", "coldchain")},
		// A checkpoint of 10K accounts writes about 10 MB of nodes: a
		// batch over half the memtable is turned into a flushable batch,
		// which costs more than the write.
		MemTableSize: 64 << 20,
	}
	// Every tree read is a point lookup of a key that exists in one level
	// only: Bloom filters let it skip the data blocks of the others.
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	if cfg.CacheSize > 0 {
		cache := pebble.NewCache(cfg.CacheSize)
		defer cache.Unref()
		opts.Cache = cache
	}
	db, err := pebble.Open(cfg.Dir, opts)
	if err != nil {
		return nil, fmt.Errorf("coldchain: open %s: %w", cfg.Dir, err)
	}
	s := &State{db: db, cache: make(map[ledger.Hash]node), cacheDepth: cfg.NodeCacheDepth}
	if err := s.loadMeta(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

func (s *State) loadMeta() error {
	root, ok, err := s.get(metaRootKey)
	if err != nil || !ok {
		return err
	}
	applied, ok, err := s.get(metaAppliedKey)
	if err != nil {
		return err
	}
	if len(root) != len(s.root) || !ok || len(applied) != 8 {
		return fmt.Errorf("%w: meta records", ErrCorrupt)
	}
	copy(s.root[:], root)
	s.applied = binary.BigEndian.Uint64(applied)
	return nil
}

// get returns a copy of key's value, and whether it is there.
func (s *State) get(key []byte) ([]byte, bool, error) {
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("coldchain: read: %w", err)
	}
	defer closer.Close()
	return bytes.Clone(v), true, nil
}

// node reads a tree node through the cache, without adding to it: State is
// the nodeReader of readers that hold the read lock.
func (s *State) node(h ledger.Hash, _ int) (node, error) {
	if n, ok := s.cache[h]; ok {
		return n, nil
	}
	return s.dbNode(h)
}

// fillingReader is the nodeReader of Apply, which holds the write lock: it
// adds the nodes it reads near the root to the cache.
type fillingReader struct{ s *State }

func (f fillingReader) node(h ledger.Hash, depth int) (node, error) {
	if n, ok := f.s.cache[h]; ok {
		return n, nil
	}
	n, err := f.s.dbNode(h)
	if err == nil && depth < f.s.cacheDepth {
		f.s.cache[h] = n
	}
	return n, err
}

// updateCache follows a committed Apply: it drops the deleted nodes and
// adds the new ones near the root.
func (s *State) updateCache(puts map[ledger.Hash]newNode, deletes []ledger.Hash) {
	for _, h := range deletes {
		delete(s.cache, h)
	}
	for h, n := range puts {
		if n.depth < s.cacheDepth {
			if dn, err := decodeNode(n.enc); err == nil {
				s.cache[h] = dn
			}
		}
	}
	if len(s.cache) > 4<<s.cacheDepth { // a backstop; never seen in tests
		clear(s.cache)
	}
}

// dbNode reads a tree node from the database.
func (s *State) dbNode(h ledger.Hash) (node, error) {
	v, ok, err := s.get(nodeKey(h))
	if err != nil {
		return node{}, err
	}
	if !ok {
		return node{}, fmt.Errorf("%w: tree node %x missing", ErrCorrupt, h)
	}
	return decodeNode(v)
}

// Close closes the database.
func (s *State) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return ErrClosed
	}
	err := s.db.Close()
	s.db = nil
	return err
}

// Root returns the Merkle root of the current state.
func (s *State) Root() ledger.Hash {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.root
}

// AppliedIndex returns the log index of the last applied batch (0 if none).
func (s *State) AppliedIndex() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.applied
}

// Account returns addr's account, and whether it exists.
func (s *State) Account(addr ledger.Address) (Account, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return Account{}, false, ErrClosed
	}
	return s.account(addr)
}

func (s *State) account(addr ledger.Address) (Account, bool, error) {
	v, ok, err := s.get(accountKey(addr))
	if err != nil || !ok {
		return Account{}, false, err
	}
	a, valid := decodeAccount(v)
	if !valid || a.IsZero() {
		return Account{}, false, fmt.Errorf("%w: account %s", ErrCorrupt, addr)
	}
	return a, true, nil
}

// Prove returns a proof, against the current root, that addr's account is
// in the state (inclusion) or that there is none (non-inclusion).
func (s *State) Prove(addr ledger.Address) (*Proof, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return nil, ErrClosed
	}
	acct, found, err := s.account(addr)
	if err != nil {
		return nil, err
	}
	p, err := newProof(s, s.root, addr, acct, found)
	if err != nil {
		return nil, fmt.Errorf("coldchain: prove %s: %w", addr, err)
	}
	return p, nil
}

// Apply writes the accounts of one log entry and records index as
// applied, and returns the new root. The accounts, the tree nodes, the
// root and the index are committed in one synced Pebble batch: after a
// crash the state holds all of it or none. An index at or below the
// applied index changes nothing and returns the current root. Two writes
// to one address are ErrBadWrite.
func (s *State) Apply(writes []AccountWrite, index uint64) (ledger.Hash, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apply(writes, nil, index)
}

// apply is Apply with records, written in the same batch, for the caller
// holding the write lock.
func (s *State) apply(writes []AccountWrite, records []record, index uint64) (ledger.Hash, error) {
	if s.db == nil {
		return ledger.Hash{}, ErrClosed
	}
	if index <= s.applied {
		return s.root, nil
	}
	changes, err := changesOf(writes)
	if err != nil {
		return ledger.Hash{}, fmt.Errorf("coldchain: apply %d: %w", index, err)
	}
	root, puts, deletes, err := updateTree(fillingReader{s}, s.root, changes)
	if err != nil {
		return ledger.Hash{}, fmt.Errorf("coldchain: apply %d: %w", index, err)
	}
	if err := s.commit(writes, records, root, puts, deletes, index); err != nil {
		return ledger.Hash{}, fmt.Errorf("coldchain: apply %d: %w", index, err)
	}
	s.root, s.applied = root, index
	s.updateCache(puts, deletes)
	return root, nil
}

// changesOf turns writes into tree changes sorted by key.
func changesOf(writes []AccountWrite) ([]change, error) {
	changes := make([]change, len(writes))
	for i, w := range writes {
		changes[i].key = keyOf(w.Address)
		if !w.Account.IsZero() {
			vh := w.Account.valueHash()
			changes[i].vh = &vh
		}
	}
	slices.SortFunc(changes, func(a, b change) int { return bytes.Compare(a.key[:], b.key[:]) })
	for i := 1; i < len(changes); i++ {
		if changes[i].key == changes[i-1].key {
			return nil, fmt.Errorf("%w: an address written twice", ErrBadWrite)
		}
	}
	return changes, nil
}

func (s *State) commit(writes []AccountWrite, records []record, root ledger.Hash, puts map[ledger.Hash]newNode, deletes []ledger.Hash, index uint64) error {
	b := s.db.NewBatch()
	defer b.Close()
	for _, r := range records {
		var err error
		if value := r.valueAt(root); value == nil {
			err = b.Delete(r.key, nil)
		} else {
			err = b.Set(r.key, value, nil)
		}
		if err != nil {
			return err
		}
	}
	for _, w := range writes {
		if err := setOrDelete(b, accountKey(w.Address), w.Account); err != nil {
			return err
		}
	}
	for _, h := range deletes {
		if err := b.Delete(nodeKey(h), nil); err != nil {
			return err
		}
	}
	for h, n := range puts {
		if err := b.Set(nodeKey(h), n.enc, nil); err != nil {
			return err
		}
	}
	if err := b.Set(metaRootKey, root[:], nil); err != nil {
		return err
	}
	if err := b.Set(metaAppliedKey, binary.BigEndian.AppendUint64(nil, index), nil); err != nil {
		return err
	}
	if s.beforeCommit != nil {
		s.beforeCommit()
	}
	return b.Commit(pebble.Sync)
}

func setOrDelete(b *pebble.Batch, key []byte, a Account) error {
	if a.IsZero() {
		return b.Delete(key, nil)
	}
	return b.Set(key, a.encode(), nil)
}
