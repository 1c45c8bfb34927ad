package apitest

import (
	"context"
	"fmt"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/ledger"
)

var _ api.TraceBackend = (*Backend)(nil)

// SetTrace makes t the VM trace of transaction id (nil removes it).
func (b *Backend) SetTrace(id ledger.Hash, t *ledger.Trace) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t == nil {
		delete(b.traces, id)
		return
	}
	b.traces[id] = t
}

// Trace returns a transaction's VM trace.
func (b *Backend) Trace(ctx context.Context, id ledger.Hash) (*ledger.Trace, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.records[id]; !ok {
		return nil, Errorf("not_found", "transaction %s not found", id)
	}
	t, ok := b.traces[id]
	if !ok {
		return nil, Errorf("not_found", "transaction %s has no VM trace", id)
	}
	return t, nil
}

// Traces returns the VM traces of the transactions of blocks from..to, by
// ledger.TxKey.
func (b *Backend) Traces(ctx context.Context, from, to uint64) (map[uint64]*ledger.Trace, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[uint64]*ledger.Trace)
	for h := from; h <= to && h < uint64(len(b.blocks)); h++ {
		for _, r := range b.blocks[h].Receipts {
			rec := b.records[r.TxID]
			if t, ok := b.traces[r.TxID]; ok && rec != nil {
				out[ledger.TxKey(rec.Height, rec.Index)] = t
			}
		}
	}
	return out, nil
}

// FakeTrace is a trace made up from a transaction record, different for
// each: a Config.Trace for tests that need every transaction traced.
func FakeTrace(rec *ledger.TxRecord) *ledger.Trace {
	t := &ledger.Trace{}
	for i := range 1 + rec.Index%3 {
		t.Frames = append(t.Frames, ledger.Frame{
			Depth: min(i, 1), Function: fmt.Sprintf("%s#%d", rec.Tx.Function, i), MemBefore: 65536, MemAfter: 65536 * uint64(1+i),
			GrowPages: i, GrowGas: uint64(i) * 100, Gas: rec.Receipt.GasUsed/uint64(1+i) + uint64(i), Loads: rec.Tx.Nonce + uint64(i), Stores: uint64(i),
		})
	}
	return t
}
