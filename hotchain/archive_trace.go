package hotchain

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/dualchain/dualchain/ledger"
)

// TxTrace is the VM trace of one of a block's transactions, by the
// transaction's index in the block. A block's traces travel with it in its
// log entry (node/entry.go), listed by increasing index, and only for the
// transactions that have one.
type TxTrace struct {
	_     struct{} `cbor:",toarray"`
	Index uint32
	Trace ledger.Trace
}

// In the archive a trace is
//
//	x <height: 8 bytes big-endian> <index: 4 bytes big-endian>  →  the ledger.Trace, canonical CBOR
//
// so the traces of a range of blocks are one prefix scan, in block and
// transaction order, and a transaction id finds its trace through its
// place (the t record).
func archiveTraceKey(height uint64, index uint32) []byte {
	k := binary.BigEndian.AppendUint64(append(make([]byte, 0, archiveTraceKeyLen), traceKeyTag), height)
	return binary.BigEndian.AppendUint32(k, index)
}

const (
	traceKeyTag        = 'x'
	archiveTraceKeyLen = 1 + 8 + 4
)

// ErrBadTraces: a block's traces are not by increasing index within the
// block, or a trace holds more than ledger.MaxTraceFrames frames.
var ErrBadTraces = errors.New("hotchain: bad block traces")

// CheckTraces checks traces against a block of txs transactions: strictly
// increasing indexes below txs, at most ledger.MaxTraceFrames frames each.
func CheckTraces(traces []TxTrace, txs int) error {
	for i, t := range traces {
		switch {
		case int64(t.Index) >= int64(txs):
			return fmt.Errorf("%w: trace of transaction %d in a block of %d", ErrBadTraces, t.Index, txs)
		case i > 0 && t.Index <= traces[i-1].Index:
			return fmt.Errorf("%w: trace of transaction %d after %d", ErrBadTraces, t.Index, traces[i-1].Index)
		case len(t.Trace.Frames) > ledger.MaxTraceFrames:
			return fmt.Errorf("%w: trace of transaction %d has %d frames, limit %d", ErrBadTraces, t.Index, len(t.Trace.Frames), ledger.MaxTraceFrames)
		}
	}
	return nil
}

// putTraces adds a block's traces to batch.
func putTraces(batch *pebble.Batch, height uint64, traces []TxTrace) error {
	for i := range traces {
		data, err := ledger.Marshal(&traces[i].Trace)
		if err != nil {
			return fmt.Errorf("hotchain: archive trace %d/%d: %w", height, traces[i].Index, err)
		}
		if err := batch.Set(archiveTraceKey(height, traces[i].Index), data, nil); err != nil {
			return err
		}
	}
	return nil
}

// Trace returns the VM trace of an archived transaction, or ErrNotFound:
// the transaction is not archived, or has no trace (its call ran natively,
// the leader that executed it recorded none, or the block was backfilled
// from a peer, which serves blocks without their traces).
func (a *Archive) Trace(id ledger.Hash) (*ledger.Trace, error) {
	height, index, err := a.place(id)
	if err != nil {
		return nil, err
	}
	data, closer, err := a.db.Get(archiveTraceKey(height, index))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, fmt.Errorf("%w: trace of transaction %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("hotchain: archive: %w", err)
	}
	defer closer.Close()
	t := new(ledger.Trace)
	if err := ledger.Unmarshal(data, t); err != nil {
		return nil, fmt.Errorf("%w: archived trace %d/%d: %w", ErrCorrupt, height, index, err)
	}
	return t, nil
}

// Traces calls fn with each archived trace of the blocks from..to
// (inclusive), in block and transaction order, read in one scan; it stops
// at fn's first error and returns it.
func (a *Archive) Traces(from, to uint64, fn func(height uint64, index uint32, t *ledger.Trace) error) error {
	if to < from {
		return nil
	}
	opts := &pebble.IterOptions{LowerBound: archiveTraceKey(from, 0), UpperBound: []byte{traceKeyTag + 1}}
	if to < ^uint64(0) {
		opts.UpperBound = archiveTraceKey(to+1, 0)
	}
	it, err := a.db.NewIter(opts)
	if err != nil {
		return fmt.Errorf("hotchain: archive: %w", err)
	}
	for ok := it.First(); ok && err == nil; ok = it.Next() {
		err = scanTrace(it.Key(), it.Value(), fn)
	}
	if ierr := errors.Join(it.Error(), it.Close()); ierr != nil && err == nil {
		err = fmt.Errorf("hotchain: archive: %w", ierr)
	}
	return err
}

func scanTrace(k, v []byte, fn func(height uint64, index uint32, t *ledger.Trace) error) error {
	if len(k) != archiveTraceKeyLen {
		return fmt.Errorf("%w: archived trace key %x", ErrCorrupt, k)
	}
	height, index := binary.BigEndian.Uint64(k[1:]), binary.BigEndian.Uint32(k[9:])
	t := new(ledger.Trace)
	if err := ledger.Unmarshal(v, t); err != nil {
		return fmt.Errorf("%w: archived trace %d/%d: %w", ErrCorrupt, height, index, err)
	}
	return fn(height, index, t)
}
