package demo

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/ledger"
)

// fakeNode is a node whose answers to submissions a test scripts: reply
// gets the try (0 first) and the transactions, and returns an HTTP status
// and a JSON body. GET /v1/transactions/{id} finds what found holds.
type fakeNode struct {
	t     *testing.T
	reply func(try int, txs []*ledger.Tx) (int, any)
	found map[ledger.Hash]api.TxView

	mu    sync.Mutex
	tries int
}

func (f *fakeNode) serve() *client.Client {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/transactions", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			f.t.Errorf("read submission: %v", err)
		}
		f.mu.Lock()
		try := f.tries
		f.tries++
		f.mu.Unlock()
		status, v := f.reply(try, decodeSubmission(f.t, body))
		writeJSON(w, status, v)
	})
	mux.HandleFunc("GET /v1/transactions/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := ledger.ParseHash(r.PathValue("id"))
		if v, ok := f.found[id]; err == nil && ok {
			writeJSON(w, http.StatusOK, v)
			return
		}
		writeJSON(w, http.StatusNotFound, errorBody(api.CodeNotFound))
	})
	srv := httptest.NewServer(mux)
	f.t.Cleanup(srv.Close)
	return client.New(srv.URL)
}

func (f *fakeNode) submissions() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tries
}

// decodeSubmission reads a batch (a CBOR array) or a single transaction.
func decodeSubmission(t *testing.T, body []byte) []*ledger.Tx {
	var batch []ledger.Tx
	if err := ledger.Unmarshal(body, &batch); err == nil {
		out := make([]*ledger.Tx, len(batch))
		for i := range batch {
			out[i] = &batch[i]
		}
		return out
	}
	tx, err := ledger.DecodeTx(body)
	if err != nil {
		t.Errorf("decode submission: %v", err)
		return nil
	}
	return []*ledger.Tx{tx}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", api.MediaJSON)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func errorBody(code string) api.ErrorResponse {
	return api.ErrorResponse{Error: api.ErrorBody{Code: code, Message: "scripted " + code}}
}

// answer answers every tx with f(i, tx).
func answer(txs []*ledger.Tx, f func(i int, tx *ledger.Tx) api.TxResult) api.SubmitResponse {
	var resp api.SubmitResponse
	for i, tx := range txs {
		resp.Results = append(resp.Results, f(i, tx))
	}
	return resp
}

func committed(block uint64) func(int, *ledger.Tx) api.TxResult {
	return func(i int, tx *ledger.Tx) api.TxResult {
		return api.TxResult{ID: tx.ID(), Status: api.StatusCommitted, Block: block, Index: uint32(i),
			Receipt: &ledger.Receipt{TxID: tx.ID(), Status: ledger.StatusOK, Path: ledger.PathNative}}
	}
}

func rejected(code string) func(int, *ledger.Tx) api.TxResult {
	return func(_ int, tx *ledger.Tx) api.TxResult {
		return api.TxResult{ID: tx.ID(), Status: api.StatusRejected, Error: &api.ErrorBody{Code: code, Message: "scripted"}}
	}
}

func signedTransfers(n int) []*ledger.Tx {
	a := &account{name: "a", key: ledger.KeyFromSeed(make([]byte, 32))}
	txs := make([]*ledger.Tx, n)
	for i := range txs {
		txs[i] = a.sign("c", transfer(a.addr(), 1))
	}
	return txs
}

// A node that cannot help is left for the next, which commits.
func TestSettleMovesOn(t *testing.T) {
	down := &fakeNode{t: t, reply: func(int, []*ledger.Tx) (int, any) {
		return http.StatusServiceUnavailable, errorBody("unavailable")
	}}
	up := &fakeNode{t: t, reply: func(_ int, txs []*ledger.Tx) (int, any) {
		return http.StatusOK, answer(txs, committed(4))
	}}
	b := newBook()
	s := newSender([]*client.Client{down.serve(), up.serve()}, b)
	txs := signedTransfers(3)
	res, err := s.settle(context.Background(), 0, txs)
	if err != nil {
		t.Fatalf("settle() = %v", err)
	}
	for i, r := range res {
		if r.Status != api.StatusCommitted || r.Block != 4 || r.Index != uint32(i) {
			t.Errorf("result %d = %+v, want committed in block 4 at %d", i, r, i)
		}
	}
	if down.submissions() != 1 || up.submissions() != 1 || b.len() != 3 {
		t.Errorf("submissions %d and %d, %d acknowledged; want 1, 1, 3", down.submissions(), up.submissions(), b.len())
	}
	if got, want := s.resends(), "sent again: 3 after unavailable"; got != want {
		t.Errorf("resends() = %q, want %q", got, want)
	}
}

// A transaction answered pending is sent again; answered nonce_too_low
// then, it was committed by the first try and is looked up by id.
func TestSettleLostAnswer(t *testing.T) {
	txs := signedTransfers(2)
	n := &fakeNode{t: t, found: map[ledger.Hash]api.TxView{txs[1].ID(): {ID: txs[1].ID(), Block: 7, Index: 3, Chain: ledger.Hot, Path: ledger.PathNative}}}
	n.reply = func(try int, sent []*ledger.Tx) (int, any) {
		if try == 0 {
			return http.StatusOK, answer(sent, func(i int, tx *ledger.Tx) api.TxResult {
				if i == 0 {
					return committed(6)(0, tx)
				}
				return api.TxResult{ID: tx.ID(), Status: api.StatusPending}
			})
		}
		return http.StatusConflict, answer(sent, rejected(codeNonceTooLow))
	}
	b := newBook()
	res, err := newSender([]*client.Client{n.serve()}, b).settle(context.Background(), 0, txs)
	if err != nil {
		t.Fatalf("settle() = %v", err)
	}
	if res[0].Block != 6 || res[1].Status != api.StatusCommitted || res[1].Block != 7 || res[1].Index != 3 || b.len() != 2 {
		t.Errorf("results %+v, %+v; %d acknowledged; want blocks 6 and 7/3, 2 acknowledged", res[0], res[1], b.len())
	}
}

// A refusal for good is returned, not sent again nor acknowledged.
func TestSettleRefused(t *testing.T) {
	n := &fakeNode{t: t, reply: func(_ int, txs []*ledger.Tx) (int, any) {
		return http.StatusConflict, answer(txs, rejected("insufficient_funds"))
	}}
	b := newBook()
	res, err := newSender([]*client.Client{n.serve()}, b).settle(context.Background(), 0, signedTransfers(1))
	if err != nil || res[0].Status != api.StatusRejected || n.submissions() != 1 || b.len() != 0 {
		t.Errorf("settle() = %+v, %v after %d submissions, %d acknowledged; want rejected once, nothing acknowledged", res, err, n.submissions(), b.len())
	}
}
