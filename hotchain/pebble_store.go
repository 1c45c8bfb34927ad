package hotchain

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/dualchain/dualchain/ledger"
)

var _ Store = (*PebbleStore)(nil)

// The Pebble key schema. DESIGN.md explains it; keep the two in step.
//
//	m                      CBOR metaRecord, as RedisStore's dc:meta
//	s <state key>          the state value, raw bytes; an empty value is never stored
//	b <height: 8 bytes BE> CBOR blockRecord: header, receipts, write set
//	t <tx id: 32 bytes>    CBOR ledger.TxRecord
//
// Every key starts with one of these letters, so [pebbleMin, pebbleMax)
// covers every key the store writes.
const (
	pebbleMeta  = 'm'
	pebbleState = 's'
	pebbleBlock = 'b'
	pebbleTx    = 't'
)

var (
	pebbleMetaKey = []byte{pebbleMeta}
	pebbleMin     = []byte{0x00}
	pebbleMax     = []byte{0xff}
)

func pebbleStateKey(k []byte) []byte { return append([]byte{pebbleState}, k...) }

func pebbleBlockKey(height uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{pebbleBlock}, height)
}

func pebbleTxKey(id ledger.Hash) []byte { return append([]byte{pebbleTx}, id[:]...) }

// PebbleStore keeps hot state in a Pebble database of its own, on the
// node's disk. Every write (Open's genesis, Apply, Restore) is one batch
// committed with pebble.Sync, so an applied block survives a power cut.
// Reads go through a Pebble snapshot, so a read that checks the meta and
// then reads data sees one moment of the store. It is safe for concurrent
// use.
type PebbleStore struct {
	db *pebbleDB

	mu     sync.Mutex
	opened string      // incarnation Open (or Restore) saw; "" before Open
	chain  ledger.Hash // genesis Open (or Restore) saw
}

// pebbleDB is the database and the lock that makes each writer's
// read-check-write one step (Pebble has no WATCH). Handles on the same
// database share it.
type pebbleDB struct {
	db    *pebble.DB
	write sync.Mutex
}

// OpenPebble opens (or creates) a store in dir. fs is the file system to
// use: nil for the operating system's, vfs.NewMem() in tests. It does not
// open the chain: call Open.
func OpenPebble(dir string, fs vfs.FS, logger *slog.Logger) (*PebbleStore, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts := &pebble.Options{
		Logger: pebbleLogger{logger.With("component", "hotstore")},
		FS:     fs,
		// A 10,000-transfer block is a batch of about 7 MB; a batch over
		// half the memtable is flushed on its own, so keep it well under.
		MemTableSize: 64 << 20,
	}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("hotchain: open pebble store %s: %w", dir, err)
	}
	return &PebbleStore{db: &pebbleDB{db: db}}, nil
}

func (s *PebbleStore) setOpened(m Meta) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opened, s.chain = m.Incarnation, m.Genesis
}

func (s *PebbleStore) openedChain() (string, ledger.Hash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opened, s.chain
}

// pebbleReader is what reads need of a *pebble.DB or *pebble.Snapshot.
type pebbleReader interface {
	Get(key []byte) ([]byte, io.Closer, error)
	NewIter(o *pebble.IterOptions) (*pebble.Iterator, error)
}

// getCopy returns a copy of key's value; nil if missing.
func getCopy(r pebbleReader, key []byte) ([]byte, error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("hotchain: pebble: %w", err)
	}
	defer closer.Close()
	return slices.Clone(v), nil
}

// readPebbleMeta reads the meta record; nil if the store holds no chain.
func readPebbleMeta(r pebbleReader) (*Meta, error) {
	data, err := getCopy(r, pebbleMetaKey)
	if err != nil || data == nil {
		return nil, err
	}
	m, err := decodeMeta(data)
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// Open implements Store. Under the write lock: if the store holds no meta,
// one synced batch deletes every key and writes the genesis state and a
// new incarnation's meta.
func (s *PebbleStore) Open(ctx context.Context, gen *Genesis) (Meta, error) {
	writes, c, err := genesisState(gen)
	if err != nil {
		return Meta{}, err
	}
	s.db.write.Lock()
	defer s.db.write.Unlock()
	stored, err := readPebbleMeta(s.db.db)
	if err != nil {
		return Meta{}, fmt.Errorf("hotchain: open pebble: %w", err)
	}
	if stored == nil {
		m, err := genesisMeta(gen, c)
		if err != nil {
			return Meta{}, err
		}
		if err := s.db.replace(writes, m); err != nil {
			return Meta{}, fmt.Errorf("hotchain: open pebble: %w", err)
		}
		stored = &m
	}
	if err := checkGenesis(*stored, gen); err != nil {
		return Meta{}, err
	}
	s.setOpened(*stored)
	return *stored, nil
}

// replace deletes everything the database holds and writes state and m, in
// one synced batch: a later operation in a batch wins over an earlier
// range deletion.
func (d *pebbleDB) replace(state []ledger.Write, m Meta) error {
	b := d.db.NewBatch()
	defer b.Close()
	if err := b.DeleteRange(pebbleMin, pebbleMax, nil); err != nil {
		return err
	}
	for _, w := range state {
		if err := b.Set(pebbleStateKey(w.Key), w.Value, nil); err != nil {
			return err
		}
	}
	if err := b.Set(pebbleMetaKey, encodeMeta(m), nil); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

// Meta implements Store.
func (s *PebbleStore) Meta(ctx context.Context) (Meta, error) {
	inc, _ := s.openedChain()
	m, err := readPebbleMeta(s.db.db)
	if err != nil {
		return Meta{}, fmt.Errorf("hotchain: meta: %w", err)
	}
	if err := checkIncarnation(m, inc); err != nil {
		return Meta{}, err
	}
	return *m, nil
}

// checkedSnapshot returns a Pebble snapshot of the store after checking the
// incarnation in it, so what is read from it belongs to the incarnation
// Open saw. The caller closes it.
func (s *PebbleStore) checkedSnapshot() (*pebble.Snapshot, *Meta, error) {
	inc, _ := s.openedChain()
	if inc == "" {
		return nil, nil, ErrNotOpen
	}
	snap := s.db.db.NewSnapshot()
	m, err := readPebbleMeta(snap)
	if err == nil {
		err = checkIncarnation(m, inc)
	}
	if err != nil {
		snap.Close()
		return nil, nil, err
	}
	return snap, m, nil
}

// Get implements Store: the meta and the keys are read from one snapshot.
func (s *PebbleStore) Get(ctx context.Context, keys [][]byte) ([][]byte, error) {
	snap, _, err := s.checkedSnapshot()
	if err != nil {
		return nil, fmt.Errorf("get %d keys: %w", len(keys), err)
	}
	defer snap.Close()
	out := make([][]byte, len(keys))
	key := make([]byte, 0, 64)
	for i, k := range keys {
		key = append(append(key[:0], pebbleState), k...)
		if out[i], err = getCopy(snap, key); err != nil {
			return nil, fmt.Errorf("get %d keys: %w", len(keys), err)
		}
	}
	return out, nil
}

// Apply implements Store. Under the write lock it reads the meta, runs the
// checks, and writes the state (in the write set's order: a Pebble batch
// applies its operations in order), the tx and block records and the new
// meta in one batch committed with pebble.Sync.
func (s *PebbleStore) Apply(ctx context.Context, u *Update) (bool, error) {
	if err := checkUpdate(u); err != nil {
		return false, err
	}
	inc, _ := s.openedChain()
	if inc == "" {
		return false, ErrNotOpen
	}
	block, txs := encodeRecords(u.Block) // outside the lock: it is most of the CPU
	s.db.write.Lock()
	defer s.db.write.Unlock()
	m, err := s.readForApply(inc, u)
	if err != nil || m == nil {
		return false, wrapApply(u, err)
	}
	if err := s.db.commitBlock(u, nextMeta(*m, u), block, txs); err != nil {
		return false, wrapApply(u, err)
	}
	return true, nil
}

func wrapApply(u *Update, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("apply block %d: %w", u.Block.Header.Height, err)
}

// readForApply reads the meta and runs the checks that need it (and the
// state, with the invariants tag). It returns the meta to build on, or nil
// if the store has already applied u.
func (s *PebbleStore) readForApply(inc string, u *Update) (*Meta, error) {
	m, err := readPebbleMeta(s.db.db)
	if err != nil {
		return nil, err
	}
	if err := checkIncarnation(m, inc); err != nil || m.Index >= u.Index {
		return nil, err
	}
	if err := checkNext(*m, u.Block); err != nil {
		return nil, err
	}
	if !invariants {
		return m, nil
	}
	old := make([][]byte, len(u.Block.Writes))
	for i, w := range u.Block.Writes {
		if old[i], err = getCopy(s.db.db, pebbleStateKey(w.Key)); err != nil {
			return nil, err
		}
	}
	return m, checkAgainstState(m.Commitment, u, old)
}

// commitBlock writes u's effects and records and next in one synced batch.
func (d *pebbleDB) commitBlock(u *Update, next Meta, block []byte, txs [][]byte) error {
	b := d.db.NewBatch()
	defer b.Close()
	key := make([]byte, 0, 64)
	for _, w := range u.Block.Writes {
		key = append(append(key[:0], pebbleState), w.Key...) // Set and Delete copy the key
		var err error
		if len(w.Value) == 0 {
			err = b.Delete(key, nil)
		} else {
			err = b.Set(key, w.Value, nil)
		}
		if err != nil {
			return err
		}
	}
	for i, rec := range txs {
		if err := b.Set(pebbleTxKey(u.Block.Receipts[i].TxID), rec, nil); err != nil {
			return err
		}
	}
	if err := b.Set(pebbleBlockKey(u.Block.Header.Height), block, nil); err != nil {
		return err
	}
	if err := b.Set(pebbleMetaKey, encodeMeta(next), nil); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

// Block implements Store: the meta, the block record and its tx records are
// read from one snapshot.
func (s *PebbleStore) Block(ctx context.Context, height uint64) (*ledger.Block, error) {
	r, txs, err := s.blockRecords(height)
	if err != nil {
		return nil, fmt.Errorf("block %d: %w", height, err)
	}
	return assembleBlock(r, txs)
}

func (s *PebbleStore) blockRecords(height uint64) (*blockRecord, [][]byte, error) {
	snap, _, err := s.checkedSnapshot()
	if err != nil {
		return nil, nil, err
	}
	defer snap.Close()
	data, err := getCopy(snap, pebbleBlockKey(height))
	if err != nil || data == nil {
		return nil, nil, cmpOr(err, ErrNotFound)
	}
	r, err := decodeBlockRecord(data)
	if err != nil {
		return nil, nil, err
	}
	txs := make([][]byte, len(r.Receipts))
	for i := range r.Receipts {
		if txs[i], err = getCopy(snap, pebbleTxKey(r.Receipts[i].TxID)); err != nil {
			return nil, nil, err
		}
	}
	return r, txs, nil
}

// cmpOr returns err if it is not nil, else or.
func cmpOr(err, or error) error {
	if err != nil {
		return err
	}
	return or
}

// Tx implements Store.
func (s *PebbleStore) Tx(ctx context.Context, id ledger.Hash) (*ledger.TxRecord, error) {
	snap, _, err := s.checkedSnapshot()
	if err != nil {
		return nil, fmt.Errorf("tx %s: %w", id, err)
	}
	defer snap.Close()
	data, err := getCopy(snap, pebbleTxKey(id))
	if err != nil || data == nil {
		return nil, fmt.Errorf("tx %s: %w", id, cmpOr(err, ErrNotFound))
	}
	return decodeTxRecord(data)
}

// Scan implements Store: it iterates over the state keys of one Pebble
// snapshot, so it sees one moment's state and never fails with ErrConflict.
// fn gets copies and may use the store.
func (s *PebbleStore) Scan(ctx context.Context, fn func(key, value []byte) error) error {
	snap, _, err := s.checkedSnapshot()
	if err != nil {
		return err
	}
	defer snap.Close()
	return scanPebbleState(ctx, snap, fn)
}

// scanPebbleState calls fn with a copy of every state key and value in r, in
// key order.
func scanPebbleState(ctx context.Context, r pebbleReader, fn func(key, value []byte) error) error {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: []byte{pebbleState}, UpperBound: []byte{pebbleState + 1}})
	if err != nil {
		return fmt.Errorf("hotchain: scan: %w", err)
	}
	for it.First(); it.Valid(); it.Next() {
		if err := ctx.Err(); err != nil {
			return errors.Join(err, it.Close())
		}
		if err := fn(bytes.Clone(it.Key()[1:]), bytes.Clone(it.Value())); err != nil {
			return errors.Join(err, it.Close())
		}
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("hotchain: scan: %w", err)
	}
	return nil
}

// Snapshot implements Store: the state of one Pebble snapshot, already
// sorted by key.
func (s *PebbleStore) Snapshot(ctx context.Context) (*Snapshot, error) {
	snap, m, err := s.checkedSnapshot()
	if err != nil {
		return nil, snapshotErr(err)
	}
	defer snap.Close()
	out := &Snapshot{Meta: *m}
	out.Meta.Incarnation = ""
	err = scanPebbleState(ctx, snap, func(k, v []byte) error {
		out.Writes = append(out.Writes, ledger.Write{Key: k, Value: v})
		return nil
	})
	if err != nil {
		return nil, snapshotErr(err)
	}
	return out, nil
}

// Restore implements Store: after the checks, one synced batch deletes
// everything and writes the snapshot's state and the new meta, so a crash
// leaves the old chain or the new one.
func (s *PebbleStore) Restore(ctx context.Context, snap *Snapshot) (Meta, error) {
	if err := checkRestore(snap); err != nil {
		return Meta{}, restoreErr(snap, err)
	}
	m, err := restoredMeta(snap)
	if err != nil {
		return Meta{}, restoreErr(snap, err)
	}
	opened, chain := s.openedChain()
	s.db.write.Lock()
	defer s.db.write.Unlock()
	stored, err := readPebbleMeta(s.db.db)
	if err == nil {
		err = checkRestoreGenesis(snap, opened, chain, stored)
	}
	if err == nil {
		err = s.db.replace(snap.Writes, m)
	}
	if err != nil {
		return Meta{}, restoreErr(snap, err)
	}
	s.setOpened(m)
	return m, nil
}

// Kind implements Store.
func (s *PebbleStore) Kind() string { return "pebble" }

// Close implements Store: it closes the database; the data stays on disk.
func (s *PebbleStore) Close() error { return s.db.db.Close() }
