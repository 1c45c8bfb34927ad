package hotchain

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/dualchain/dualchain/ledger"
)

// Snapshot is a point-in-time copy of a store's state: every non-empty
// state key with its value, sorted by key, and the meta they belong to.
// Meta.Incarnation is not part of it (Snapshot leaves it empty, WriteTo
// does not write it, Restore makes a new one). History (blocks and txs) is
// not part of it either.
type Snapshot struct {
	Meta   Meta
	Writes []ledger.Write
}

// checkSnapshot checks what Restore and ReadSnapshot require of a snapshot
// without any store: keys strictly ascending (so none twice) and non-empty,
// values non-empty.
func checkSnapshot(snap *Snapshot) error {
	if snap == nil {
		return fmt.Errorf("%w: no snapshot", ErrBadSnapshot)
	}
	for i := range snap.Writes {
		if err := checkSnapshotWrite(snap.Writes, i); err != nil {
			return err
		}
	}
	return nil
}

// checkSnapshotWrite checks writes[i] against the rules of checkSnapshot.
func checkSnapshotWrite(writes []ledger.Write, i int) error {
	w := writes[i]
	switch {
	case len(w.Key) == 0:
		return fmt.Errorf("%w: write %d has an empty key", ErrBadSnapshot, i)
	case len(w.Value) == 0:
		return fmt.Errorf("%w: write %d (key %x) has an empty value", ErrBadSnapshot, i, []byte(w.Key))
	case i > 0 && bytes.Compare(writes[i-1].Key, w.Key) >= 0:
		return fmt.Errorf("%w: write %d (key %x) is not after key %x", ErrBadSnapshot, i, []byte(w.Key), []byte(writes[i-1].Key))
	}
	return nil
}

// checkSnapshotCommitment fails with ErrCommitmentMismatch unless the
// commitment of snap's writes is snap.Meta.Commitment.
func checkSnapshotCommitment(snap *Snapshot) error {
	changes := make([]Change, len(snap.Writes))
	for i, w := range snap.Writes {
		changes[i] = Change{Key: w.Key, New: w.Value}
	}
	if got := Apply(Commitment{}, changes); got != snap.Meta.Commitment {
		return fmt.Errorf("%w: snapshot at index %d: its writes have %s, its meta %s",
			ErrCommitmentMismatch, snap.Meta.Index, got.Digest(), snap.Meta.Commitment.Digest())
	}
	return nil
}

// checkRestore runs Restore's checks that need no store: the snapshot's
// shape and its commitment.
func checkRestore(snap *Snapshot) error {
	if err := checkSnapshot(snap); err != nil {
		return err
	}
	return checkSnapshotCommitment(snap)
}

// checkRestoreGenesis fails with ErrGenesisMismatch if the store belongs to
// another chain than snap: the chain the handle was opened on (opened
// names its incarnation; "" if the handle is not open), or the chain the
// store holds (stored; nil if none).
func checkRestoreGenesis(snap *Snapshot, opened string, openedGenesis ledger.Hash, stored *Meta) error {
	g := snap.Meta.Genesis
	if opened != "" && openedGenesis != g {
		return fmt.Errorf("%w: store was opened on genesis %s, snapshot has %s", ErrGenesisMismatch, openedGenesis, g)
	}
	if stored != nil && stored.Genesis != g {
		return fmt.Errorf("%w: store holds genesis %s, snapshot has %s", ErrGenesisMismatch, stored.Genesis, g)
	}
	return nil
}

// restoredMeta is the meta a store holds after restoring snap.
func restoredMeta(snap *Snapshot) (Meta, error) {
	inc, err := newIncarnation()
	if err != nil {
		return Meta{}, err
	}
	m := snap.Meta
	m.Incarnation = inc
	return m, nil
}

// sortWrites sorts a snapshot's writes by key.
func sortWrites(writes []ledger.Write) {
	slices.SortFunc(writes, func(a, b ledger.Write) int { return bytes.Compare(a.Key, b.Key) })
}

func snapshotErr(err error) error { return fmt.Errorf("snapshot: %w", err) }

func restoreErr(snap *Snapshot, err error) error {
	if snap == nil {
		return fmt.Errorf("restore: %w", err)
	}
	return fmt.Errorf("restore snapshot at index %d: %w", snap.Meta.Index, err)
}
