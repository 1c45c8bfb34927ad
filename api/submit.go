package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/dualchain/dualchain/ledger"
)

// submit serves POST /v1/transactions.
func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	wait, err := parseWait(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	txs, err := s.readTxs(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res := s.admit(r, txs)
	if wait {
		s.waitCommit(r, res)
	}
	s.writeSubmit(w, r, res)
}

func parseWait(q url.Values) (bool, error) {
	switch v := q.Get("wait"); v {
	case "":
		return false, nil
	case "commit":
		return true, nil
	default:
		return false, errorf(CodeBadRequest, fmt.Sprintf("wait=%q: want wait=commit", v), nil)
	}
}

// readTxs reads the bounded body and decodes it.
func (s *Server) readTxs(w http.ResponseWriter, r *http.Request) ([]*ledger.Tx, error) {
	limit := s.cfg.MaxBodyBytes
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	var buf bytes.Buffer
	buf.Grow(int(max(r.ContentLength, 0)) + bytes.MinRead)
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, tooLarge(limit)
	}
	if err != nil {
		return nil, errorf(CodeBadRequest, fmt.Sprintf("read request body: %v", err), err)
	}
	return DecodeSubmit(r.Header.Get("Content-Type"), buf.Bytes(), s.cfg.MaxBatch)
}

func tooLarge(limit int64) error {
	return errorf(CodeTooLarge, fmt.Sprintf("request body larger than %d bytes", limit), ledger.ErrTooLarge)
}

// admit validates txs and hands the valid ones to the backend.
func (s *Server) admit(r *http.Request, txs []*ledger.Tx) []TxResult {
	res := make([]TxResult, len(txs))
	valid := make([]*ledger.Tx, 0, len(txs))
	at := make([]int, 0, len(txs))
	for i, tx := range txs {
		if err := tx.Validate(); err != nil {
			res[i] = s.rejected(r, tx.ID(), err)
			continue
		}
		valid = append(valid, tx)
		at = append(at, i)
	}
	if len(valid) > 0 {
		s.submitValid(r, valid, at, res)
	}
	s.countSubmitted(res)
	return res
}

func (s *Server) submitValid(r *http.Request, txs []*ledger.Tx, at []int, res []TxResult) {
	ids, errs := s.b.Submit(r.Context(), txs)
	if len(ids) != len(txs) || len(errs) != len(txs) {
		err := fmt.Errorf("api: backend answered %d ids and %d errors for %d txs", len(ids), len(errs), len(txs))
		for j, i := range at {
			res[i] = s.rejected(r, txs[j].ID(), err)
		}
		return
	}
	for j, i := range at {
		if errs[j] != nil {
			res[i] = s.rejected(r, ids[j], errs[j])
		} else {
			res[i] = TxResult{ID: ids[j], Status: StatusPending}
		}
	}
}

func (s *Server) rejected(r *http.Request, id ledger.Hash, err error) TxResult {
	body := s.errorBody(r, err)
	return TxResult{ID: id, Status: StatusRejected, Error: &body}
}

func (s *Server) countSubmitted(res []TxResult) {
	var rejected int
	for i := range res {
		if res[i].Status == StatusRejected {
			rejected++
		}
	}
	s.metrics.submitted.WithLabelValues("accepted").Add(float64(len(res) - rejected))
	s.metrics.submitted.WithLabelValues("rejected").Add(float64(rejected))
}

// waitCommit waits, at most WaitTimeout, for the pending results to be
// committed or dropped, and fills in what it learns.
func (s *Server) waitCommit(r *http.Request, res []TxResult) {
	var ids []ledger.Hash
	var at []int
	for i := range res {
		if res[i].Status == StatusPending {
			ids, at = append(ids, res[i].ID), append(at, i)
		}
	}
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.WaitTimeout)
	defer cancel()
	out := s.b.Wait(ctx, ids)
	for j, i := range at {
		if j < len(out) {
			s.applyWait(r, &res[i], out[j])
		}
	}
}

func (s *Server) applyWait(r *http.Request, res *TxResult, wr WaitResult) {
	switch {
	case wr.Record != nil:
		rc := wr.Record.Receipt
		res.Status, res.Receipt = StatusCommitted, &rc
		res.Block, res.Index = wr.Record.Height, wr.Record.Index
	case wr.Err != nil:
		*res = s.rejected(r, res.ID, wr.Err)
	}
}

// writeSubmit answers 200 if any transaction was accepted. If none was,
// the top-level error is the rejections' error when they share a code, else
// "rejected"; the status is the one their codes share, else 400.
// writeSubmit answers with the results: in CBOR when the client accepts it
// and some transaction was accepted (a batch's receipts are a large answer,
// and CBOR costs both sides far less than JSON), else in JSON.
func (s *Server) writeSubmit(w http.ResponseWriter, r *http.Request, res []TxResult) {
	resp := SubmitResponse{Results: res}
	status := http.StatusOK
	if allRejected(res) {
		resp.Error, status = summarize(res)
	}
	if status == http.StatusOK && acceptsCBOR(r) {
		s.writeCBOR(w, r, resp)
		return
	}
	s.writeJSON(w, status, resp)
}

// acceptsCBOR reports whether the request's Accept header names CBOR.
func acceptsCBOR(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), MediaCBOR)
}

func (s *Server) writeCBOR(w http.ResponseWriter, r *http.Request, v any) {
	data, err := ledger.Marshal(v)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", MediaCBOR)
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(data); err != nil {
		s.log.Debug("write response", "err", err)
	}
}

func allRejected(res []TxResult) bool {
	for i := range res {
		if res[i].Status != StatusRejected {
			return false
		}
	}
	return len(res) > 0
}

// summarize picks the top-level error and status for all-rejected results.
func summarize(res []TxResult) (*ErrorBody, int) {
	first := res[0].Error
	sameCode, status := true, StatusFor(first.Code)
	for i := range res {
		sameCode = sameCode && res[i].Error.Code == first.Code
		if StatusFor(res[i].Error.Code) != status {
			status = http.StatusBadRequest
		}
	}
	if sameCode {
		return first, status
	}
	msg := fmt.Sprintf("all %d transactions were rejected; see results", len(res))
	return &ErrorBody{Code: CodeRejected, Message: msg}, status
}
