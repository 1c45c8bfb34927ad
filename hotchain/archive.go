package hotchain

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dualchain/dualchain/ledger"
)

// Archive keeps, on this node's disk, every hot block the node applied, so
// blocks and transactions can still be read once the store's history is
// gone: a snapshot carries no history, so a store restored from one (a
// wiped Redis, a whole cluster restarted after a power cut) has none. It
// is a Pebble database:
//
//	b <height: 8 bytes big-endian>  →  the block, canonical CBOR
//	t <tx id: 32 bytes>             →  height (8 bytes) ‖ index in the block (4 bytes)
//	g <height: 8 bytes big-endian>  →  a gap still to be filled (Backfill)
//	x <height: 8 bytes> <index: 4 bytes>  →  a transaction's VM trace (archive_trace.go)
//
// A block's traces are put with it, when its log entry carries them (the
// leader ran with --vm-trace and some of its calls ran in the VM). Blocks
// backfilled from peers come without traces: a node that restored a
// snapshot serves none for the blocks below it.
//
// Blocks are put as they are applied; a node that restored a snapshot
// fills the gap below it with blocks fetched from its peers
// (PutBackfilled), so in the end every node serves the whole history.
//
// Writes are not synced one by one (Pebble's write-ahead log reaches the OS
// at once, so a killed process loses nothing); Sync makes everything put
// so far durable, and the node calls it before Raft may compact the log
// entries the blocks came from.
type Archive struct {
	db *pebble.DB
}

// OpenArchive opens (or creates) the archive in dir.
func OpenArchive(dir string, logger *slog.Logger) (*Archive, error) {
	return openArchive(dir, nil, logger)
}

// openArchive opens the archive in dir on fs (nil: the OS's).
func openArchive(dir string, fs vfs.FS, logger *slog.Logger) (*Archive, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	db, err := pebble.Open(dir, &pebble.Options{
		FS:     fs,
		Logger: pebbleLogger{logger.With("component", "archive")},
		// Blocks arrive at tens of MB/s under load: bigger memtables
		// mean fewer flushes and less compaction work.
		MemTableSize: 64 << 20,
	})
	if err != nil {
		return nil, fmt.Errorf("hotchain: open archive %s: %w", dir, err)
	}
	return &Archive{db: db}, nil
}

func archiveBlockKey(height uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{'b'}, height)
}

func archiveTxKey(id ledger.Hash) []byte {
	return append([]byte{'t'}, id[:]...)
}

// Put archives b, given also as encoded (its canonical CBOR, as it came in
// the log entry: it is stored as is), unless a block of its height is
// already there. The first block archived at a height is the one the chain
// holds: a block skipped because it did not extend the head is never put
// before it.
func (a *Archive) Put(b *ledger.Block, encoded []byte) error {
	return a.PutWithTraces(b, encoded, nil)
}

// PutWithTraces is Put, archiving also the VM traces of b's transactions
// (CheckTraces must accept them) in the same batch as the block: a crash
// leaves both or neither, and a block already archived keeps the traces
// it came with.
func (a *Archive) PutWithTraces(b *ledger.Block, encoded []byte, traces []TxTrace) error {
	if err := CheckTraces(traces, len(b.Txs)); err != nil {
		return err
	}
	key := archiveBlockKey(b.Header.Height)
	_, closer, err := a.db.Get(key)
	if err == nil {
		return closer.Close()
	}
	if !errors.Is(err, pebble.ErrNotFound) {
		return fmt.Errorf("hotchain: archive: %w", err)
	}
	data := encoded
	if data == nil {
		if data, err = ledger.Marshal(b); err != nil {
			return err
		}
	}
	batch := a.db.NewBatchWithSize(len(key) + len(data) + len(b.Receipts)*(1+len(ledger.Hash{})+12+8) + 64)
	defer batch.Close()
	if err := batch.Set(key, data, nil); err != nil {
		return err
	}
	if err := putTxPlaces(batch, b); err != nil {
		return err
	}
	if err := putTraces(batch, b.Header.Height, traces); err != nil {
		return err
	}
	if err := batch.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("hotchain: archive block %d: %w", b.Header.Height, err)
	}
	return nil
}

// putTxPlaces adds the place of each of b's transactions to batch, in key
// order: the memtable inserts a batch's keys in turn, and a key next to the
// one before starts its search from there (Pebble's skiplist keeps the
// last insert's splice), where random tx ids searched from the top each.
func putTxPlaces(batch *pebble.Batch, b *ledger.Block) error {
	order := make([]uint32, len(b.Receipts))
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(x, y uint32) int {
		return bytes.Compare(b.Receipts[x].TxID[:], b.Receipts[y].TxID[:])
	})
	var key [1 + len(ledger.Hash{})]byte
	var v [12]byte
	key[0] = 't'
	binary.BigEndian.PutUint64(v[:], b.Header.Height)
	for _, i := range order {
		copy(key[1:], b.Receipts[i].TxID[:])
		binary.BigEndian.PutUint32(v[8:], i)
		if err := batch.Set(key[:], v[:], nil); err != nil { // Set copies both
			return err
		}
	}
	return nil
}

// Sync makes every block put so far durable.
func (a *Archive) Sync() error {
	if err := a.db.LogData(nil, pebble.Sync); err != nil {
		return fmt.Errorf("hotchain: sync archive: %w", err)
	}
	return nil
}

// Block returns the archived block at height, or ErrNotFound.
func (a *Archive) Block(height uint64) (*ledger.Block, error) {
	data, closer, err := a.db.Get(archiveBlockKey(height))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, fmt.Errorf("%w: block %d", ErrNotFound, height)
	}
	if err != nil {
		return nil, fmt.Errorf("hotchain: archive: %w", err)
	}
	defer closer.Close()
	b := new(ledger.Block)
	if err := ledger.Unmarshal(data, b); err != nil {
		return nil, fmt.Errorf("%w: archived block %d: %w", ErrCorrupt, height, err)
	}
	return b, nil
}

// Tx returns an archived transaction with its receipt and place, or
// ErrNotFound.
func (a *Archive) Tx(id ledger.Hash) (*ledger.TxRecord, error) {
	height, index, err := a.place(id)
	if err != nil {
		return nil, err
	}
	b, err := a.Block(height)
	if err != nil {
		return nil, err
	}
	if int(index) >= len(b.Txs) || int(index) >= len(b.Receipts) || b.Receipts[index].TxID != id {
		return nil, fmt.Errorf("%w: transaction %s is not at %d/%d", ErrCorrupt, id, height, index)
	}
	return &ledger.TxRecord{Tx: b.Txs[index], Receipt: b.Receipts[index], Height: height, Index: index}, nil
}

// place returns the height of an archived transaction's block and its
// index there, or ErrNotFound.
func (a *Archive) place(id ledger.Hash) (height uint64, index uint32, err error) {
	v, closer, err := a.db.Get(archiveTxKey(id))
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, 0, fmt.Errorf("%w: transaction %s", ErrNotFound, id)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("hotchain: archive: %w", err)
	}
	defer closer.Close()
	if len(v) != 12 {
		return 0, 0, fmt.Errorf("%w: archived place of transaction %s", ErrCorrupt, id)
	}
	return binary.BigEndian.Uint64(v), binary.BigEndian.Uint32(v[8:]), nil
}

// Close syncs and closes the archive.
func (a *Archive) Close() error {
	return errors.Join(a.Sync(), a.db.Close())
}

// pebbleLogger sends Pebble's logs to slog.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) { p.l.Debug(fmt.Sprintf(format, args...)) }
func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...))
}

// Fatalf is called by Pebble when it cannot go on; it logs and panics, as
// Pebble's own logger exits.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error(msg)
	panic("hotchain: archive: " + msg)
}
