package hotchain

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/dualchain/dualchain/ledger"
)

// Backfill is a gap in the archive that is still to be filled: the blocks
// from Top down to the archived history below it (or to height 1) are
// missing, and Hash is the hash block Top must have. A node that restores
// a snapshot holds no blocks below it (a snapshot carries state, not
// history), so it records one, then fetches the missing blocks from its
// peers top down, each checked against the hash its child names, moving
// Top down block by block (PutBackfilled).
//
// In the archive a gap is
//
//	g <top: 8 bytes big-endian>  →  the hash block top must have (32 bytes)
//
// Several may be pending at once: a node that lags again before its first
// backfill ended restores a second snapshot higher up.
type Backfill struct {
	Top  uint64
	Hash ledger.Hash
}

func archiveBackfillKey(top uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{'g'}, top)
}

// SetBackfill records gap m, synced: the node records it in the same step
// as the snapshot it restores, and must find it after a crash.
func (a *Archive) SetBackfill(m Backfill) error {
	if m.Top == 0 {
		return errors.New("hotchain: archive: a backfill starts at height 1 or above")
	}
	if err := a.db.Set(archiveBackfillKey(m.Top), m.Hash[:], pebble.Sync); err != nil {
		return fmt.Errorf("hotchain: archive: record backfill from %d: %w", m.Top, err)
	}
	return nil
}

// Backfills returns the gaps still to be filled, highest first.
func (a *Archive) Backfills() ([]Backfill, error) {
	it, err := a.db.NewIter(&pebble.IterOptions{LowerBound: []byte{'g'}, UpperBound: []byte{'g' + 1}})
	if err != nil {
		return nil, fmt.Errorf("hotchain: archive: %w", err)
	}
	var out []Backfill
	for ok := it.Last(); ok; ok = it.Prev() {
		k, v := it.Key(), it.Value()
		if len(k) != 9 || len(v) != len(ledger.Hash{}) {
			it.Close()
			return nil, fmt.Errorf("%w: archived backfill record %x", ErrCorrupt, k)
		}
		out = append(out, Backfill{Top: binary.BigEndian.Uint64(k[1:]), Hash: ledger.Hash(v)})
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return nil, fmt.Errorf("hotchain: archive: %w", err)
	}
	return out, nil
}

// ClearBackfill removes the gap that starts at top: it is filled.
func (a *Archive) ClearBackfill(top uint64) error {
	if err := a.db.Delete(archiveBackfillKey(top), pebble.NoSync); err != nil {
		return fmt.Errorf("hotchain: archive: clear backfill from %d: %w", top, err)
	}
	return nil
}

// PutBackfilled archives b, the block at the top of gap m, given also as
// encoded (its canonical CBOR, stored as is; nil: encoded here), and in the same batch moves
// the gap down to b's parent (or removes it at height 1): a crash leaves
// the archive with either both or neither. The caller has checked that b
// hashes to m.Hash; b's height must not be archived yet.
func (a *Archive) PutBackfilled(b *ledger.Block, encoded []byte, m Backfill) error {
	h := b.Header.Height
	if h != m.Top || h == 0 {
		return fmt.Errorf("hotchain: archive: block %d is not the top of the backfill from %d", h, m.Top)
	}
	key := archiveBlockKey(h)
	held, err := a.has(key)
	if err != nil {
		return err
	}
	if held {
		return fmt.Errorf("hotchain: archive: backfill block %d: the archive holds one already", h)
	}
	if encoded == nil {
		if encoded, err = ledger.Marshal(b); err != nil {
			return err
		}
	}
	batch := a.db.NewBatch()
	defer batch.Close()
	if err := batch.Set(key, encoded, nil); err != nil {
		return err
	}
	if err := putTxPlaces(batch, b); err != nil {
		return err
	}
	if err := batch.Delete(archiveBackfillKey(h), nil); err != nil {
		return err
	}
	if h > 1 {
		if err := batch.Set(archiveBackfillKey(h-1), b.Header.Parent[:], nil); err != nil {
			return err
		}
	}
	if err := batch.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("hotchain: archive backfill block %d: %w", h, err)
	}
	return nil
}

// Has reports whether the block at height is archived.
func (a *Archive) Has(height uint64) (bool, error) {
	return a.has(archiveBlockKey(height))
}

func (a *Archive) has(key []byte) (bool, error) {
	_, closer, err := a.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("hotchain: archive: %w", err)
	}
	return true, closer.Close()
}

// HeldBelow returns the highest archived height below height, or 0 if
// none is: where the archived history resumes below a gap at height.
func (a *Archive) HeldBelow(height uint64) (uint64, error) {
	if height <= 1 {
		return 0, nil
	}
	it, err := a.db.NewIter(&pebble.IterOptions{LowerBound: archiveBlockKey(1), UpperBound: archiveBlockKey(height)})
	if err != nil {
		return 0, fmt.Errorf("hotchain: archive: %w", err)
	}
	var below uint64
	if it.Last() {
		k := it.Key()
		if len(k) != 9 {
			it.Close()
			return 0, fmt.Errorf("%w: archived block key %x", ErrCorrupt, k)
		}
		below = binary.BigEndian.Uint64(k[1:])
	}
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return 0, fmt.Errorf("hotchain: archive: %w", err)
	}
	return below, nil
}

// RawBlock returns the archived block at height as stored (its canonical
// CBOR), or ErrNotFound.
func (a *Archive) RawBlock(height uint64) ([]byte, error) {
	data, closer, err := a.db.Get(archiveBlockKey(height))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, fmt.Errorf("%w: block %d", ErrNotFound, height)
	}
	if err != nil {
		return nil, fmt.Errorf("hotchain: archive: %w", err)
	}
	defer closer.Close()
	return bytes.Clone(data), nil
}
