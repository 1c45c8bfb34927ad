package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

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
	if r.Header.Get(HeaderForwarded) != "" && s.cfg.AdminToken != "" {
		// A node of this cluster checked the signatures; without a
		// token to prove that, they are checked again.
		if err := s.authorized(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), verifiedKey{}, true))
	}
	leader, err := s.route(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if leader != "" {
		s.forwardSubmit(w, r, leader, txs, wait)
		return
	}
	sub := &submission{s: s, r: r, res: make([]TxResult, len(txs))}
	sub.admit(txs)
	s.countSubmitted(sub.res) // at admission: a tx dropped while waiting was still accepted
	if wait {
		sub.waitCommit()
	}
	s.logErrors(r, &sub.errs)
	s.writeSubmit(w, r, sub.res)
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

// maxPrealloc bounds the buffer allocated for a body before any of it
// arrives: a client announcing a 16 MB body and sending it slowly must not
// hold 16 MB per connection (the node's server also bounds how long a body
// may take). It fits a batch of 1,000 transfers in CBOR (~160 KiB) in one
// allocation; larger bodies grow the buffer as they arrive.
const maxPrealloc = 256 << 10

// readTxs reads the bounded body and decodes it.
func (s *Server) readTxs(w http.ResponseWriter, r *http.Request) ([]*ledger.Tx, error) {
	limit := s.cfg.MaxBodyBytes
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	var buf bytes.Buffer
	buf.Grow(int(min(max(r.ContentLength, 0), maxPrealloc)) + bytes.MinRead)
	if _, err := buf.ReadFrom(limitBody(w, r, limit)); err != nil {
		return nil, bodyError(err, limit)
	}
	return DecodeSubmit(r.Header.Get("Content-Type"), buf.Bytes(), s.cfg.MaxBatch)
}

func tooLarge(limit int64) error {
	return errorf(CodeTooLarge, fmt.Sprintf("request body larger than %d bytes", limit), ledger.ErrTooLarge)
}

// submission is one POST /v1/transactions being answered: a result per
// transaction, and the errors to log once when it is done.
type submission struct {
	s    *Server
	r    *http.Request
	res  []TxResult
	errs errLog
}

// admit validates txs and hands the valid ones to the backend.
func (sub *submission) admit(txs []*ledger.Tx) {
	if valid, at := sub.validated(txs); len(valid) > 0 {
		sub.submitValid(valid, at)
	}
}

// validated rejects the malformed transactions and returns the others with
// their positions.
func (sub *submission) validated(txs []*ledger.Tx) ([]*ledger.Tx, []int) {
	valid := make([]*ledger.Tx, 0, len(txs))
	at := make([]int, 0, len(txs))
	for i, tx := range txs {
		if err := tx.Validate(); err != nil {
			sub.reject(i, tx.ID(), requestError(err))
			continue
		}
		valid, at = append(valid, tx), append(at, i)
	}
	return valid, at
}

// submitValid submits txs, which are the results at positions at.
func (sub *submission) submitValid(txs []*ledger.Tx, at []int) {
	ids, errs := sub.s.b.Submit(sub.r.Context(), txs)
	if len(ids) != len(txs) || len(errs) != len(txs) {
		err := fmt.Errorf("api: backend answered %d ids and %d errors for %d txs", len(ids), len(errs), len(txs))
		for j, i := range at {
			sub.reject(i, txs[j].ID(), err)
		}
		return
	}
	for j, i := range at {
		if errs[j] != nil {
			sub.reject(i, ids[j], submitError(errs[j]))
		} else {
			sub.res[i] = TxResult{ID: ids[j], Status: StatusPending}
		}
	}
}

// reject makes result i a rejection with err, noting err for the log.
func (sub *submission) reject(i int, id ledger.Hash, err error) {
	v := classify(sub.r.Context(), err)
	sub.errs.add(v, err)
	sub.res[i] = TxResult{ID: id, Status: StatusRejected, Error: &v.body}
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
func (sub *submission) waitCommit() {
	var ids []ledger.Hash
	var at []int
	for i := range sub.res {
		if sub.res[i].Status == StatusPending {
			ids, at = append(ids, sub.res[i].ID), append(at, i)
		}
	}
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(sub.r.Context(), sub.s.cfg.WaitTimeout)
	defer cancel()
	out := sub.s.b.Wait(ctx, ids)
	for j, i := range at {
		if j < len(out) {
			sub.applyWait(ctx, i, out[j])
		}
	}
}

// applyWait fills in what waiting (under ctx) learned about result i. A
// coded error says the transaction was dropped. Any other error says only
// that the backend could not tell: the transaction stays pending, as it
// may yet commit, and the error is logged unless the wait had ended.
func (sub *submission) applyWait(ctx context.Context, i int, wr WaitResult) {
	res := &sub.res[i]
	switch {
	case wr.Record != nil:
		rc := wr.Record.Receipt
		res.Status, res.Receipt = StatusCommitted, &rc
		res.Block, res.Index = wr.Record.Height, wr.Record.Index
	case wr.Err == nil:
	case isCoded(wr.Err):
		sub.reject(i, res.ID, wr.Err)
	case ctx.Err() == nil:
		sub.errs.add(classify(sub.r.Context(), wr.Err), wr.Err)
	}
}

// writeSubmit answers with the results. If no transaction was accepted,
// the top-level error is the rejections' error when they share a code,
// else "rejected", and the status is the one their codes share, else 400.
// Otherwise the status is 200, and the body is CBOR when the client
// prefers it (a batch's receipts are a large answer, and CBOR costs both
// sides far less than JSON), else JSON.
func (s *Server) writeSubmit(w http.ResponseWriter, r *http.Request, res []TxResult) {
	resp := SubmitResponse{Results: res}
	status := http.StatusOK
	if allRejected(res) {
		resp.Error, status = summarize(res)
	}
	if status == http.StatusOK && prefersCBOR(r.Header.Get("Accept")) {
		s.writeCBOR(w, r, resp.appendCBOR)
		return
	}
	s.writeJSON(w, status, resp)
}

// writeCBOR answers 200 with the CBOR appendTo makes, its length
// announced: a client can tell a body cut short from a whole one.
func (s *Server) writeCBOR(w http.ResponseWriter, r *http.Request, appendTo func([]byte) ([]byte, error)) {
	data, err := appendTo(nil)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeRawCBOR(w, data)
}

// writeRawCBOR answers 200 with data, already CBOR.
func (s *Server) writeRawCBOR(w http.ResponseWriter, data []byte) {
	w.Header().Set("Content-Type", MediaCBOR)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
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
