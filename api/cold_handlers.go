package api

import (
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
