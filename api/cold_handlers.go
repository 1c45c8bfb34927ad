package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/dualchain/dualchain/ledger"
)

// CodeUnsupported is the code of a request this node cannot serve at all,
// such as a cold-chain read on a node whose backend has no cold chain.
const CodeUnsupported = "unsupported"

// errNoColdChain answers the cold and bridge endpoints on a backend that
// does not implement ColdBackend.
var errNoColdChain = errorf(CodeUnsupported, "this node has no cold chain: it serves neither cold-chain nor bridge requests", nil)

// errBadProofBody is the backend's fault: a proof that is not JSON cannot
// be served (encoding it would fail after the status was written).
var errBadProofBody = errors.New("api: backend returned a proof that is not valid JSON")

// coldRead wraps a cold-chain read: it answers unsupported unless the
// backend has a cold chain, and honours ?consistency= like every read.
func (s *Server) coldRead(h func(w http.ResponseWriter, r *http.Request, cb ColdBackend)) http.HandlerFunc {
	return s.reads(func(w http.ResponseWriter, r *http.Request) {
		cb, ok := s.b.(ColdBackend)
		if !ok {
			s.writeError(w, r, errNoColdChain)
			return
		}
		h(w, r, cb)
	})
}

// getColdAccount serves GET /v1/cold/accounts/{addr}.
func (s *Server) getColdAccount(w http.ResponseWriter, r *http.Request, cb ColdBackend) {
	addr, err := ledger.ParseAddress(r.PathValue("addr"))
	if err != nil {
		s.writeError(w, r, requestError(err))
		return
	}
	acct, err := cb.ColdAccount(r.Context(), addr)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, acct)
}

// getColdBlock serves GET /v1/cold/blocks/{height}.
func (s *Server) getColdBlock(w http.ResponseWriter, r *http.Request, cb ColdBackend) {
	h, err := parseColdHeight("height", r.PathValue("height"), "/v1/cold/blocks/latest")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.serveColdBlock(w, r, cb, h)
}

// getLatestColdBlock serves GET /v1/cold/blocks/latest.
func (s *Server) getLatestColdBlock(w http.ResponseWriter, r *http.Request, cb ColdBackend) {
	s.serveColdBlock(w, r, cb, 0)
}

// serveColdBlock answers with cold block h (0: the latest).
func (s *Server) serveColdBlock(w http.ResponseWriter, r *http.Request, cb ColdBackend, h uint64) {
	b, err := cb.ColdBlock(r.Context(), h)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, b)
}

// ColdHeadBackend is what a ColdBackend may add so that a cold range
// learns the cold head without reading the block there; without it the
// server reads the latest cold block (ColdBlock(ctx, 0)).
type ColdHeadBackend interface {
	// ColdHeight returns the height of the latest cold block, 0 if none.
	ColdHeight(ctx context.Context) (uint64, error)
}

// getColdBlocks serves GET /v1/cold/blocks?from=H1&to=H2: cold heights H1
// to H2 inclusive, at most MaxRangeBlocks of them, cut at the cold head;
// to defaults to from+MaxRangeBlocks-1. Past MaxRangeTxs cold transactions
// the page ends early with Next set. Cold heights start at 1.
func (s *Server) getColdBlocks(w http.ResponseWriter, r *http.Request, cb ColdBackend) {
	from, to, err := s.parseColdRange(r, cb)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page := ColdBlocksPage{Blocks: []ledger.ColdBlock{}}
	txs := 0
	for i := uint64(0); from <= to && i <= to-from; i++ {
		h := from + i
		if txs >= MaxRangeTxs {
			page.Next = h
			break
		}
		b, err := cb.ColdBlock(r.Context(), h)
		if err != nil {
			s.writeError(w, r, fmt.Errorf("cold block %d: %w", h, err))
			return
		}
		page.Blocks = append(page.Blocks, *b)
		txs += len(b.Txs)
	}
	s.writeJSON(w, http.StatusOK, page)
}

// parseColdRange reads from and to, and cuts to at the cold head: from
// past to means an empty page.
func (s *Server) parseColdRange(r *http.Request, cb ColdBackend) (from, to uint64, err error) {
	if from, to, err = rangeQuery(r.URL.Query()); err != nil {
		return 0, 0, err
	}
	if from == 0 {
		return 0, 0, errorf(CodeBadRequest, "from 0: cold block heights start at 1", nil)
	}
	head, err := coldHead(r.Context(), cb)
	if err != nil {
		return 0, 0, err
	}
	return from, min(to, head), nil
}

// coldHead returns the height of the latest cold block, 0 if none.
func coldHead(ctx context.Context, cb ColdBackend) (uint64, error) {
	if hb, ok := cb.(ColdHeadBackend); ok {
		return hb.ColdHeight(ctx)
	}
	b, err := cb.ColdBlock(ctx, 0)
	if hasCode(err, CodeNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return b.Header.Height, nil
}

// getColdProof serves GET /v1/cold/proofs/{addr}?height=H; without height
// the proof is against the latest cold block.
func (s *Server) getColdProof(w http.ResponseWriter, r *http.Request, cb ColdBackend) {
	addr, err := ledger.ParseAddress(r.PathValue("addr"))
	if err != nil {
		s.writeError(w, r, requestError(err))
		return
	}
	var h uint64
	if q := r.URL.Query(); q.Has("height") {
		if h, err = parseColdHeight("height", q.Get("height"), "leave height out"); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	p, err := cb.ColdProof(r.Context(), addr, h)
	if err == nil && !json.Valid(p.Proof) {
		err = errBadProofBody
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, p)
}

// getBridgeTransfer serves GET /v1/bridge/transfers/{id}.
func (s *Server) getBridgeTransfer(w http.ResponseWriter, r *http.Request, cb ColdBackend) {
	id, err := ledger.ParseHash(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, requestError(fmt.Errorf("bridge transfer id (the settle's or deposit's tx id): %w", err)))
		return
	}
	t, err := cb.BridgeTransfer(r.Context(), id)
	if err == nil && t.Proof != nil && !json.Valid(t.Proof.Proof) {
		err = errBadProofBody
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, t)
}

// getAudit serves GET /v1/audit.
func (s *Server) getAudit(w http.ResponseWriter, r *http.Request, cb ColdBackend) {
	a, err := cb.Audit(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, a)
}

// parseColdHeight reads a cold block height. Cold heights start at 1: the
// backend reads height 0 as "the latest", so an explicit 0 is refused
// rather than silently answered with another block; latest says how to ask
// for the latest instead.
func parseColdHeight(name, v, latest string) (uint64, error) {
	h, err := parseHeight(name, v)
	if err != nil {
		return 0, err
	}
	if h == 0 {
		return 0, errorf(CodeBadRequest, fmt.Sprintf("%s 0: cold block heights start at 1 (for the latest, %s)", name, latest), nil)
	}
	return h, nil
}
