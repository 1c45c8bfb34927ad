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

// Pebble key schema (DESIGN.md). Keys whose first byte is an uppercase
// letter belong to chain.go's records; this file's are lowercase:
//
//	a <address: 32 bytes>         →  account: balance ‖ nonce, 8 bytes big-endian each
//	p <index> <depth> <position>  →  a page of the tree (tree_page.go)
//	v <index: 8 bytes>            →  a retained root: hash ‖ root slot (history.go)
//	g <index: 8 bytes>            →  the pages of that root's tree the next root's lacks
//	m root                        →  the current root hash
//	m applied                     →  the applied log index, 8 bytes big-endian
//	m format                      →  storeFormat
const (
	accountPrefix = 'a'
	pagePrefix    = 'p'
	versionPrefix = 'v'
	garbagePrefix = 'g'
)

func accountKey(a ledger.Address) []byte { return append([]byte{accountPrefix}, a[:]...) }

var (
	metaRootKey    = []byte("mroot")
	metaAppliedKey = []byte("mapplied")
	metaFormatKey  = []byte("mformat")
)

// storeFormat is the version of the key schema. Format 1 stored one
// record per tree node; it is not read (rebuild the state from the log or
// a snapshot).
const storeFormat = 2

// AccountWrite sets an account's state; the zero Account deletes it.
type AccountWrite struct {
	Address ledger.Address
	Account Account
}

// State is the cold chain's account state in one Pebble database: the
// sparse Merkle tree over the accounts (whole in memory, and in pages in
// Pebble), the roots of the last applies, and the applied log index. It is
// safe for concurrent use; Apply excludes readers.
type State struct {
	mu       sync.RWMutex
	db       *pebble.DB
	tree     *tree
	root     ledger.Hash // tree.rootHash()
	applied  uint64
	versions []version // the retained roots, oldest first; the last is the current one
	keep     int       // Config.KeepVersions

	// beforeCommit, if set, runs in Apply after its batch is built and
	// before it is committed (crash tests).
	beforeCommit func()
}

// Open opens (or creates) the state described by cfg. It reads the
// current tree into memory: its cost grows with the state (about a
// second per million accounts, DESIGN.md).
func Open(cfg Config) (*State, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts := pebbleOptions(cfg)
	if cfg.CacheSize > 0 {
		cache := pebble.NewCache(cfg.CacheSize)
		defer cache.Unref()
		opts.Cache = cache
	}
	db, err := pebble.Open(cfg.Dir, opts)
	if err != nil {
		return nil, fmt.Errorf("coldchain: open %s: %w", cfg.Dir, err)
	}
	s := &State{db: db, tree: newTree(), keep: cfg.keepVersions()}
	if err := s.load(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

func pebbleOptions(cfg Config) *pebble.Options {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts := &pebble.Options{
		FS:     cfg.FS,
		Logger: pebbleLogger{logger.With("component", "coldchain")},
		// A checkpoint of 10K accounts writes about 11 MB of pages: a
		// batch over half the memtable is turned into a flushable batch,
		// which costs more than the write.
		MemTableSize: 64 << 20,
	}
	// Every page read is a point lookup of a key that exists in one level
	// only: Bloom filters let it skip the data blocks of the others.
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	return opts
}

// load reads the meta records, the retained roots and the current tree.
func (s *State) load() error {
	applied, ok, err := s.get(metaAppliedKey)
	if err != nil || !ok {
		return err
	}
	format, _, err := s.get(metaFormatKey)
	if err != nil {
		return err
	}
	if !bytes.Equal(format, []byte{storeFormat}) {
		return fmt.Errorf("%w: store format %x, want %d (rebuild the state)", ErrCorrupt, format, storeFormat)
	}
	root, _, err := s.get(metaRootKey)
	if err != nil {
		return err
	}
	if len(root) != len(s.root) || len(applied) != 8 {
		return fmt.Errorf("%w: meta records", ErrCorrupt)
	}
	copy(s.root[:], root)
	s.applied = binary.BigEndian.Uint64(applied)
	if err := s.loadVersions(); err != nil {
		return err
	}
	return s.loadTree()
}

// loadTree reads the current tree from its pages into memory.
func (s *State) loadTree() error {
	cur := s.versions[len(s.versions)-1]
	if cur.index != s.applied || cur.root != s.root {
		return fmt.Errorf("%w: current root is not the last retained one", ErrCorrupt)
	}
	slot, err := s.rootSlot(cur.index)
	if err != nil {
		return err
	}
	r, err := s.tree.load(s, slot, 0, ledger.Hash{})
	if err != nil {
		return err
	}
	s.tree.root, s.tree.rootH = r, slot.hash
	if s.tree.rootHash() != s.root {
		return fmt.Errorf("%w: tree hashes to %x, root is %x", ErrCorrupt, s.tree.rootHash(), s.root)
	}
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

// Close closes the database.
func (s *State) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return ErrClosed
	}
	err := s.db.Close()
	s.db, s.tree = nil, newTree()
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
	return s.account(addr)
}

// account is Account for a caller that holds the lock.
func (s *State) account(addr ledger.Address) (Account, bool, error) {
	if s.db == nil {
		return Account{}, false, ErrClosed
	}
	a, ok := s.tree.account(keyOf(addr))
	return a, ok, nil
}

// Prove returns a proof, against the current root, that addr's account is
// in the state (inclusion) or that there is none (non-inclusion).
func (s *State) Prove(addr ledger.Address) (*Proof, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return nil, ErrClosed
	}
	return s.proveCurrent(addr), nil
}

// Apply writes the accounts of one log entry and records index as
// applied, and returns the new root. The tree's new pages, the pages and
// roots that fall out of the retained history, the root and the index
// are committed in one synced Pebble batch: after a crash the state holds
// all of it or none. An index at or below the applied index changes
// nothing and returns the current root. Two writes to one address are
// ErrBadWrite.
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
	u, err := updateTree(s.tree, changes, index)
	if err != nil {
		return ledger.Hash{}, fmt.Errorf("coldchain: apply %d: %w", index, err)
	}
	root := u.root.h
	versions, err := s.commit(writes, records, u, root, index)
	if err != nil {
		u.abort()
		return ledger.Hash{}, fmt.Errorf("coldchain: apply %d: %w", index, err)
	}
	u.commit()
	s.root, s.applied, s.versions = root, index, versions
	return root, nil
}

// changesOf turns writes into tree changes sorted by key.
func changesOf(writes []AccountWrite) ([]change, error) {
	changes := make([]change, len(writes))
	for i, w := range writes {
		changes[i] = change{key: keyOf(w.Address), acct: w.Account}
	}
	slices.SortFunc(changes, func(a, b change) int { return bytes.Compare(a.key[:], b.key[:]) })
	for i := 1; i < len(changes); i++ {
		if changes[i].key == changes[i-1].key {
			return nil, fmt.Errorf("%w: an address written twice", ErrBadWrite)
		}
	}
	return changes, nil
}

// commit writes one Apply's batch: the records, the accounts, the new pages, the
// history (new root, garbage, pruned roots), the meta records. It returns
// the retained roots after it.
func (s *State) commit(writes []AccountWrite, records []record, u *treeUpdate, root ledger.Hash, index uint64) ([]version, error) {
	// About 600 bytes a page and 60 an account: growing the batch as it
	// fills would copy it again and again.
	b := s.db.NewBatchWithSize(len(u.dirty)*600 + len(writes)*60)
	defer b.Close()
	for _, r := range records {
		var err error
		if value := r.valueAt(root); value == nil {
			err = b.Delete(r.key, nil)
		} else {
			err = b.Set(r.key, value, nil)
		}
		if err != nil {
			return nil, err
		}
	}
	for _, w := range writes {
		if err := setOrDelete(b, accountKey(w.Address), w.Account); err != nil {
			return nil, err
		}
	}
	if err := s.writePages(b, u); err != nil {
		return nil, err
	}
	versions, err := s.writeHistory(b, u, root, index)
	if err != nil {
		return nil, err
	}
	if err := s.writeMeta(b, root, index); err != nil {
		return nil, err
	}
	if s.beforeCommit != nil {
		s.beforeCommit()
	}
	return versions, b.Commit(pebble.Sync)
}

// writePages writes the update's new pages.
func (s *State) writePages(b *pebble.Batch, u *treeUpdate) error {
	var key, val []byte
	for _, p := range u.dirty {
		key = pageID{ver: u.ver, depth: p.depth, key: p.key}.appendBody(append(key[:0], pagePrefix))
		val = s.tree.encodePage(val[:0], p.r)
		if err := b.Set(key, val, nil); err != nil {
			return err
		}
	}
	return nil
}

func (s *State) writeMeta(b *pebble.Batch, root ledger.Hash, index uint64) error {
	if err := b.Set(metaRootKey, root[:], nil); err != nil {
		return err
	}
	if err := b.Set(metaFormatKey, []byte{storeFormat}, nil); err != nil {
		return err
	}
	return b.Set(metaAppliedKey, binary.BigEndian.AppendUint64(nil, index), nil)
}

func setOrDelete(b *pebble.Batch, key []byte, a Account) error {
	if a.IsZero() {
		return b.Delete(key, nil)
	}
	return b.Set(key, a.encode(), nil)
}
