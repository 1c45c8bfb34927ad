package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/dualchain/dualchain/ledger"
)

// TraceBackend is what a backend that keeps VM traces adds to Backend: the
// memory trace of each call that ran in the VM of a node recording them (a
// node's --vm-trace). A server whose backend does not implement it serves
// no traces: ?trace=true and ?traces=true add none, and
// GET /v1/transactions/{id}/trace is not_found.
type TraceBackend interface {
	// Trace returns an included transaction's VM trace; code "not_found"
	// when the transaction is unknown or has none, with a message that
	// says why it may have none.
	Trace(ctx context.Context, id ledger.Hash) (*ledger.Trace, error)

	// Traces returns the VM traces of the transactions of the hot blocks
	// from..to (inclusive), keyed by ledger.TxKey(height, index); the
	// transactions without one are absent.
	Traces(ctx context.Context, from, to uint64) (map[uint64]*ledger.Trace, error)
}

// errNoTraces answers GET /v1/transactions/{id}/trace on a backend that
// keeps no traces.
var errNoTraces = errorf(CodeNotFound, "this node keeps no VM traces", nil)

// getTrace serves GET /v1/transactions/{id}/trace.
func (s *Server) getTrace(w http.ResponseWriter, r *http.Request) {
	id, err := ledger.ParseHash(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, requestError(err))
		return
	}
	tb, ok := s.b.(TraceBackend)
	if !ok {
		s.writeError(w, r, errNoTraces)
		return
	}
	t, err := tb.Trace(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, t)
}

// txTrace returns the trace of the transaction id for a TxView, nil if
// the node has none.
func (s *Server) txTrace(ctx context.Context, id ledger.Hash) (*ledger.Trace, error) {
	tb, ok := s.b.(TraceBackend)
	if !ok {
		return nil, nil
	}
	t, err := tb.Trace(ctx, id)
	if hasCode(err, CodeNotFound) {
		return nil, nil
	}
	return t, err
}

// addTraces sets the traces of block view v's transactions.
func (s *Server) addTraces(ctx context.Context, v *BlockView) error {
	tr, _, err := s.blockTraces(ctx, v.Height, len(v.Txs))
	for i, t := range tr {
		v.Txs[i].Trace = t
	}
	return err
}

// blockTraces returns the traces of the txs transactions of block height,
// by index (nil where the node has none), and how many frames they hold;
// nil without a TraceBackend or transactions.
func (s *Server) blockTraces(ctx context.Context, height uint64, txs int) ([]*ledger.Trace, int, error) {
	tb, ok := s.b.(TraceBackend)
	if !ok || txs == 0 {
		return nil, 0, nil
	}
	traces, err := tb.Traces(ctx, height, height)
	if err != nil {
		return nil, 0, fmt.Errorf("traces of block %d: %w", height, err)
	}
	out, frames := make([]*ledger.Trace, txs), 0
	for i := range out {
		if t := traces[ledger.TxKey(height, uint32(i))]; t != nil {
			out[i] = t
			frames += len(t.Frames)
		}
	}
	return out, frames, nil
}
