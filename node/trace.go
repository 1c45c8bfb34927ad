package node

import (
	"context"
	"errors"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/coldchain"
	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/ledger"
)

// VM traces (Config.VMTrace): the leader's VM records a trace of each call
// it runs, the executor collects them by transaction, and the block's log
// entry carries them (entry.go) to every node, which archives them with the
// block (hotchain.Archive.PutWithTraces). Followers never run the VM, so
// whether a block has traces depends on the leader that executed it.

// maxBlockTraceBytes bounds what one block's traces add to its log entry.
// A trace holds at most ledger.MaxTraceFrames frames (about 100 KB), so a
// block of 10,000 VM calls could otherwise add a gigabyte; a token
// transfer's trace is a few frames, and 10,000 of them take about 3 MB.
// Past the budget a trace keeps no frames, and counts them all in Dropped.
const maxBlockTraceBytes = 16 << 20

// addTrace records t as the trace of the block's transaction at index:
// clipped to ledger.MaxTraceFrames frames, and without frames once the
// block's traces are over maxBlockTraceBytes.
func (ex *execution) addTrace(index uint32, t *ledger.Trace) {
	kept := *t
	if len(kept.Frames) > ledger.MaxTraceFrames {
		kept.Dropped += uint64(len(kept.Frames) - ledger.MaxTraceFrames)
		kept.Frames = kept.Frames[:ledger.MaxTraceFrames:ledger.MaxTraceFrames]
	}
	size := traceSize(&kept)
	if ex.traceBytes+size > maxBlockTraceBytes {
		kept = ledger.Trace{Dropped: kept.Dropped + uint64(len(kept.Frames))}
		size = traceSize(&kept)
	}
	ex.traceBytes += size
	ex.traces = append(ex.traces, hotchain.TxTrace{Index: index, Trace: kept})
}

// traceSize bounds the length of t's encoding in a log entry, with its
// index: every integer at its longest.
func traceSize(t *ledger.Trace) int {
	n := 1 + 5 + 1 + 9 + 9 // TxTrace and Trace heads, index, frames head, dropped
	for i := range t.Frames {
		n += 1 + 5 + 9 + len(t.Frames[i].Function) + 7*9
	}
	return n
}

var _ api.TraceBackend = backend{}

// Trace returns an included transaction's VM trace from the archive.
func (b backend) Trace(ctx context.Context, id ledger.Hash) (*ledger.Trace, error) {
	t, err := b.n.archive.Trace(id)
	if !errors.Is(err, hotchain.ErrNotFound) {
		return t, err
	}
	if err := b.n.readable(); err != nil {
		return nil, err
	}
	rec, err := b.n.tx(ctx, id)
	if errors.Is(err, hotchain.ErrNotFound) || errors.Is(err, coldchain.ErrNotFound) {
		return nil, detail(ErrNotFound, "transaction %s", id)
	}
	if err != nil {
		return nil, b.n.storeErr(err)
	}
	waited := false
	if rec.Tx.Chain == ledger.Hot {
		if waited, err = b.n.awaitArchived(ctx, rec.Height); err != nil {
			return nil, err
		}
	}
	if waited { // the block was being archived: its trace may be there now
		if t, err := b.n.archive.Trace(id); !errors.Is(err, hotchain.ErrNotFound) {
			return t, err
		}
	}
	return nil, detail(ErrNotFound, "transaction %s has no VM trace on this node: %s", id, noTraceReason(rec, b.n.cfg.VMTrace))
}

// archiveWait bounds how long a trace read waits for a block to reach the
// archive (awaitArchived).
const archiveWait = time.Second

// awaitArchived waits until the block at height, which the store holds, is
// in the archive: the state machine archives a block (with its traces) a
// moment after it is in the store, and a reader that saw it there must
// not be told it has no traces. It reports whether it waited. A block not
// archived as it was applied (below a restored snapshot: backfilled later,
// if at all, without traces) is not waited for; nor, past archiveWait, is
// anything.
func (n *Node) awaitArchived(ctx context.Context, height uint64) (bool, error) {
	if height > n.chain.Head().Height || height <= n.sm.archived.Load() {
		return false, nil
	}
	if held, err := n.archive.Has(height); err != nil || held {
		return false, err
	}
	wctx, cancel := context.WithTimeout(ctx, archiveWait)
	defer cancel()
	err := n.heights.wait(wctx, height, n.sm.archived.Load)
	if ctx.Err() != nil {
		return true, ctx.Err()
	}
	if err != nil {
		n.logger.Warn("block in the store still not archived; serving it without traces", "height", height, "waited", archiveWait)
	}
	return true, nil
}

// noTraceReason says why a committed transaction may have no trace.
func noTraceReason(rec *ledger.TxRecord, tracing bool) string {
	this := "this node runs without --vm-trace"
	if tracing {
		this = "this node runs with it"
	}
	general := "traces are recorded by the leader that executed the block, only when it runs with --vm-trace (" + this +
		"), and blocks a node fetched from its peers after restoring a snapshot carry none"
	switch {
	case rec.Tx.Chain == ledger.Cold:
		return "it is a cold-chain transaction: only hot-chain calls run in the VM"
	case rec.Receipt.Path == ledger.PathNative:
		return "its call ran natively, not in the VM (with --exec native, the default, the token's transfer runs natively; " +
			"--exec vm runs every call in the VM); or " + general
	}
	return general
}

// Traces returns the archived VM traces of the hot blocks from..to, keyed
// by ledger.TxKey(height, index).
func (b backend) Traces(ctx context.Context, from, to uint64) (map[uint64]*ledger.Trace, error) {
	if from <= to {
		if _, err := b.n.awaitArchived(ctx, min(to, b.n.chain.Head().Height)); err != nil {
			return nil, err
		}
	}
	out := make(map[uint64]*ledger.Trace)
	err := b.n.archive.Traces(from, to, func(height uint64, index uint32, t *ledger.Trace) error {
		out[ledger.TxKey(height, index)] = t
		return nil
	})
	return out, err
}
