package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"

	"github.com/dualchain/dualchain/ledger"
)

// getTx serves GET /v1/transactions/{id}.
func (s *Server) getTx(w http.ResponseWriter, r *http.Request) {
	id, err := ledger.ParseHash(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, requestError(err))
		return
	}
	trace, err := parseBool(r.URL.Query(), "trace")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rec, err := s.b.Tx(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v := NewTxView(rec)
	if trace {
		if v.Trace, err = s.txTrace(r.Context(), id); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	s.writeJSON(w, http.StatusOK, v)
}

// getBlock serves GET /v1/blocks/{height}.
func (s *Server) getBlock(w http.ResponseWriter, r *http.Request) {
	h, err := parseHeight("height", r.PathValue("height"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.serveBlock(w, r, h, false)
}

// getLatestBlock serves GET /v1/blocks/latest.
func (s *Server) getLatestBlock(w http.ResponseWriter, r *http.Request) {
	st, err := s.b.Status(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.serveBlock(w, r, st.Height, true)
}

// errNoBlockYet answers GET /v1/blocks/latest on a chain still at genesis
// whose backend keeps no block 0.
var errNoBlockYet = errorf(CodeNotFound, "no block has been produced yet (the chain is at genesis)", nil)

// serveBlock answers with block h, which is the head if latest.
func (s *Server) serveBlock(w http.ResponseWriter, r *http.Request, h uint64, latest bool) {
	writes, traces, err := blockParams(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	b, err := s.b.Block(r.Context(), h)
	if latest && h == 0 && hasCode(err, CodeNotFound) {
		err = errNoBlockYet
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v := NewBlockView(b, writes)
	if traces {
		if err := s.addTraces(r.Context(), &v); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	s.writeJSON(w, http.StatusOK, v)
}

// blockParams reads a block read's ?writes= and ?traces=.
func blockParams(r *http.Request) (writes, traces bool, err error) {
	q := r.URL.Query()
	if writes, err = parseBool(q, "writes"); err != nil {
		return false, false, err
	}
	traces, err = parseBool(q, "traces")
	return writes, traces, err
}

// getBlocks serves GET /v1/blocks?from=H1&to=H2: heights H1 to H2
// inclusive, at most MaxRangeBlocks of them, cut at the head; to defaults
// to from+MaxRangeBlocks-1. Past MaxRangeTxs transactions the page ends
// early with Next set. The page is a BlocksPage in JSON, or a
// RawBlocksPage in CBOR when the Accept header prefers it.
func (s *Server) getBlocks(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Accept")
	from, to, err := s.parseRange(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if prefersCBOR(r.Header.Get("Accept")) {
		s.getRawBlocks(w, r, from, to)
		return
	}
	page, err := s.blockPage(r, from, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, page)
}

// parseRange reads from and to, and cuts to at the head.
func (s *Server) parseRange(r *http.Request) (from, to uint64, err error) {
	if from, to, err = rangeQuery(r.URL.Query()); err != nil {
		return 0, 0, err
	}
	st, err := s.b.Status(r.Context())
	if err != nil {
		return 0, 0, err
	}
	return from, min(to, st.Height), nil
}

// rangeQuery reads a range's from and to: at most MaxRangeBlocks heights,
// to defaulting to from+MaxRangeBlocks-1 (capped at the largest height).
func rangeQuery(q url.Values) (from, to uint64, err error) {
	if from, err = parseHeight("from", q.Get("from")); err != nil {
		return 0, 0, err
	}
	to = from + MaxRangeBlocks - 1
	if to < from {
		to = math.MaxUint64
	}
	if q.Has("to") {
		if to, err = parseHeight("to", q.Get("to")); err != nil {
			return 0, 0, err
		}
		if err := checkRange(from, to); err != nil {
			return 0, 0, err
		}
	}
	return from, to, nil
}

func checkRange(from, to uint64) error {
	if to < from {
		return errorf(CodeBadRequest, fmt.Sprintf("to %d is below from %d", to, from), nil)
	}
	if to-from >= MaxRangeBlocks {
		return errorf(CodeBadRequest, fmt.Sprintf("range of %d blocks, limit %d", to-from+1, MaxRangeBlocks), nil)
	}
	return nil
}

// blockPage reads blocks from..to; it is empty when from is past to. With
// ?traces=true it also stops early past MaxRangeFrames trace frames.
func (s *Server) blockPage(r *http.Request, from, to uint64) (BlocksPage, error) {
	writes, traces, err := blockParams(r)
	if err != nil {
		return BlocksPage{}, err
	}
	page := BlocksPage{Blocks: []BlockView{}}
	page.Next, err = s.walkRange(r.Context(), from, to, traces, func(b *ledger.Block, tr []*ledger.Trace) {
		v := NewBlockView(b, writes)
		for i, t := range tr {
			v.Txs[i].Trace = t
		}
		page.Blocks = append(page.Blocks, v)
	})
	if err != nil {
		return BlocksPage{}, err
	}
	return page, nil
}

// walkRange reads the blocks of a range page, from..to, and hands each to
// add with, when traces, its transactions' traces by index (nil where the
// node has none; a nil slice without a TraceBackend). It stops before a
// block once the page holds MaxRangeTxs transactions or MaxRangeFrames
// frames, and returns that block's height as the page's next (0 when the
// page reaches to). A backend that keeps no block 0 has it skipped. The
// JSON and the CBOR page are both walked here, so they cut alike.
func (s *Server) walkRange(ctx context.Context, from, to uint64, traces bool, add func(*ledger.Block, []*ledger.Trace)) (next uint64, err error) {
	txs, frames := 0, 0
	for i := uint64(0); from <= to && i <= to-from; i++ {
		h := from + i
		if txs >= MaxRangeTxs || frames >= MaxRangeFrames {
			return h, nil
		}
		b, err := s.b.Block(ctx, h)
		if h == 0 && hasCode(err, CodeNotFound) {
			continue // a backend need not keep genesis as a block
		}
		if err != nil {
			return 0, fmt.Errorf("block %d: %w", h, err)
		}
		var tr []*ledger.Trace
		if traces {
			var n int
			if tr, n, err = s.blockTraces(ctx, h, len(b.Txs)); err != nil {
				return 0, err
			}
			frames += n
		}
		add(b, tr)
		txs += len(b.Txs)
	}
	return 0, nil
}

// getAccount serves GET /v1/accounts/{addr}.
func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) {
	addr, err := ledger.ParseAddress(r.PathValue("addr"))
	if err != nil {
		s.writeError(w, r, requestError(err))
		return
	}
	acct, err := s.b.Account(r.Context(), addr)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, acct)
}

// getStatus serves GET /v1/status.
func (s *Server) getStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.b.Status(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, st)
}

func hasCode(err error, code string) bool {
	var c Coder
	return errors.As(err, &c) && c.Code() == code
}

func parseHeight(name, v string) (uint64, error) {
	h, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, errorf(CodeBadRequest, fmt.Sprintf("%s %q: want a block height (a non-negative integer)", name, v), nil)
	}
	return h, nil
}

func parseBool(q url.Values, name string) (bool, error) {
	if !q.Has(name) {
		return false, nil
	}
	b, err := strconv.ParseBool(q.Get(name))
	if err != nil {
		return false, errorf(CodeBadRequest, fmt.Sprintf("%s=%q: want true or false", name, q.Get(name)), nil)
	}
	return b, nil
}
