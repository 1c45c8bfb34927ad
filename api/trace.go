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

// addTraces sets the traces of block view v's transactions, and returns
// how many frames they hold.
func (s *Server) addTraces(ctx context.Context, v *BlockView) (frames int, err error) {
	tb, ok := s.b.(TraceBackend)
	if !ok || len(v.Txs) == 0 {
		return 0, nil
	}
	traces, err := tb.Traces(ctx, v.Height, v.Height)
	if err != nil {
		return 0, fmt.Errorf("traces of block %d: %w", v.Height, err)
	}
	for i := range v.Txs {
		if t := traces[ledger.TxKey(v.Height, v.Txs[i].Index)]; t != nil {
			v.Txs[i].Trace = t
			frames += len(t.Frames)
		}
	}
	return frames, nil
}
