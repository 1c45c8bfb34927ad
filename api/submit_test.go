package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/api/apitest"
	"github.com/dualchain/dualchain/ledger"
)

func jsonTx(t *testing.T, tx *ledger.Tx) []byte {
	t.Helper()
	b, err := json.Marshal(api.NewTxJSON(tx))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func jsonBatch(t *testing.T, txs ...*ledger.Tx) []byte {
	t.Helper()
	req := api.SubmitRequest{}
	for _, tx := range txs {
		req.Txs = append(req.Txs, api.NewTxJSON(tx))
	}
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func cborBatch(t *testing.T, txs ...*ledger.Tx) []byte {
	t.Helper()
	b, err := ledger.Marshal(txs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func transfers(from *ledger.Key, n int) []*ledger.Tx {
	txs := make([]*ledger.Tx, n)
	for i := range txs {
		txs[i] = apitest.Transfer(from, uint64(i), bob.Address, 1)
	}
	return txs
}

func TestSubmitAccepted(t *testing.T) {
	tx0, tx1 := apitest.Transfer(alice, 0, bob.Address, 5), apitest.Transfer(alice, 1, bob.Address, 6)
	tests := []struct {
		name  string
		ct    string
		body  []byte
		count int
	}{
		{"json single", api.MediaJSON, jsonTx(t, tx0), 1},
		{"json single, charset", "application/json; charset=utf-8", jsonTx(t, tx0), 1},
		{"json single, no content type", "", jsonTx(t, tx0), 1},
		{"json batch", api.MediaJSON, jsonBatch(t, tx0, tx1), 2},
		{"json batch, whitespace after", api.MediaJSON, append(jsonBatch(t, tx0, tx1), " \n"...), 2},
		{"cbor single", api.MediaCBOR, tx0.Encode(), 1},
		{"cbor batch", api.MediaCBOR, cborBatch(t, tx0, tx1), 2},
		{"cbor batch of one", api.MediaCBOR, cborBatch(t, tx0), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := apitest.Funded(false, 100, alice)
			r := do(t, newHandler(t, b), "POST", "/v1/transactions", tt.ct, tt.body)
			if r.code != http.StatusOK {
				t.Fatalf("status = %d, want 200 (%s)", r.code, r.body)
			}
			resp := decode[api.SubmitResponse](t, r)
			if len(resp.Results) != tt.count || resp.Error != nil {
				t.Fatalf("response = %+v, want %d results and no error", resp, tt.count)
			}
			for i, res := range resp.Results {
				want := []*ledger.Tx{tx0, tx1}[i].ID()
				if res.ID != want || res.Status != api.StatusPending || res.Error != nil {
					t.Errorf("result %d = %+v, want pending %s", i, res, want)
				}
			}
			if st, _ := b.Status(context.Background()); st.Mempool != tt.count {
				t.Errorf("mempool = %d, want %d", st.Mempool, tt.count)
			}
		})
	}
}

func TestSubmitMalformed(t *testing.T) {
	tx := apitest.Transfer(alice, 0, bob.Address, 5)
	good := string(jsonTx(t, tx))
	badSig := strings.Replace(good, `"sig":"`, `"sig":"00`, 1)
	big := make([]byte, api.TestConfig().MaxBodyBytes+1)
	short := api.NewTxJSON(tx)
	short.Sig = short.Sig[:10]
	shortSig, _ := json.Marshal(short)
	tests := []struct {
		name   string
		ct     string
		body   []byte
		status int
		code   string
	}{
		{"json syntax", api.MediaJSON, []byte(`{"chain_id":`), 400, "bad_encoding"},
		{"json not an object", api.MediaJSON, []byte(`[1,2]`), 400, "bad_encoding"},
		{"json null", api.MediaJSON, []byte(`null`), 400, "bad_encoding"},
		{"json empty", api.MediaJSON, []byte(``), 400, "bad_encoding"},
		{"json unknown field", api.MediaJSON, []byte(strings.Replace(good, `{`, `{"memo":"hi",`, 1)), 400, "bad_encoding"},
		{"json unknown field in batch", api.MediaJSON, []byte(`{"txs":[` + good + `],"memo":1}`), 400, "bad_encoding"},
		{"json txs after tx fields", api.MediaJSON, []byte(strings.Replace(good, `}`, `,"txs":[]}`, 1)), 400, "bad_encoding"},
		{"json trailing data", api.MediaJSON, []byte(good + `{}`), 400, "bad_encoding"},
		{"json trailing garbage", api.MediaJSON, []byte(good + `x`), 400, "bad_encoding"},
		{"json bad address", api.MediaJSON, []byte(strings.Replace(good, `"from":"dc`, `"from":"zz`, 1)), 400, "bad_encoding"},
		{"json short sig", api.MediaJSON, shortSig, 400, "bad_encoding"},
		{"json sig too long", api.MediaJSON, []byte(badSig), 400, "bad_encoding"},
		{"json empty batch", api.MediaJSON, []byte(`{"txs":[]}`), 400, "bad_request"},
		{"json null batch", api.MediaJSON, []byte(`{"txs":null}`), 400, "bad_request"},
		{"json batch too large", api.MediaJSON, jsonBatch(t, transfers(alice, 9)...), 413, "batch_too_large"},
		{"cbor garbage", api.MediaCBOR, []byte{0xff, 0x00}, 400, "bad_encoding"},
		{"cbor empty", api.MediaCBOR, nil, 400, "bad_encoding"},
		{"cbor not an array", api.MediaCBOR, []byte{0xa0}, 400, "bad_encoding"},
		{"cbor indefinite array", api.MediaCBOR, []byte{0x9f, 0xff}, 400, "bad_encoding"},
		{"cbor truncated header", api.MediaCBOR, []byte{0x99, 0x01}, 400, "bad_encoding"},
		{"cbor truncated tx", api.MediaCBOR, tx.Encode()[:40], 400, "bad_encoding"},
		{"cbor trailing bytes", api.MediaCBOR, append(tx.Encode(), 0x00), 400, "bad_encoding"},
		{"cbor extra field", api.MediaCBOR, append([]byte{0x8a}, append(tx.Encode()[1:], 0x00)...), 400, "bad_encoding"},
		{"cbor batch trailing bytes", api.MediaCBOR, append(cborBatch(t, tx), 0x01), 400, "bad_encoding"},
		{"cbor empty batch", api.MediaCBOR, []byte{0x80}, 400, "bad_request"},
		{"cbor batch too large", api.MediaCBOR, cborBatch(t, transfers(alice, 9)...), 413, "batch_too_large"},
		{"cbor huge batch header", api.MediaCBOR, []byte{0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80}, 413, "batch_too_large"},
		{"oversized body", api.MediaJSON, big, 413, "too_large"},
		{"unsupported media", "text/plain", []byte(good), 415, "unsupported_media_type"},
		{"form media", "application/x-www-form-urlencoded", []byte(good), 415, "unsupported_media_type"},
		{"bad media syntax", "application/json; =", []byte(good), 415, "unsupported_media_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := apitest.Funded(false, 100, alice)
			r := do(t, newHandler(t, b), "POST", "/v1/transactions", tt.ct, tt.body)
			wantError(t, r, tt.status, tt.code)
			if st, _ := b.Status(context.Background()); st.Mempool != 0 {
				t.Errorf("mempool = %d after a malformed request, want 0", st.Mempool)
			}
		})
	}
}

// TestSubmitOversizedChunked sends a body with no Content-Length.
func TestSubmitOversizedChunked(t *testing.T) {
	h := newHandler(t, apitest.Funded(false, 100, alice))
	req, _ := http.NewRequest("POST", "/v1/transactions", strings.NewReader(strings.Repeat(" ", int(api.TestConfig().MaxBodyBytes)+10)))
	req.ContentLength = -1
	req.Header.Set("Content-Type", api.MediaJSON)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	wantError(t, response{rec.Code, rec.Header(), rec.Body.Bytes()}, 413, "too_large")
}

func TestSubmitRejected(t *testing.T) {
	tampered := apitest.Transfer(alice, 0, bob.Address, 5)
	tampered.Nonce = 7 // signature no longer matches
	wrongChain := apitest.Transfer(alice, 0, bob.Address, 5)
	wrongChain.ChainID = "other"
	wrongChain.Sign(alice.Private)
	invalid := apitest.Transfer(alice, 0, bob.Address, 5)
	invalid.Function = ""
	invalid.Sign(alice.Private)
	gap := apitest.Transfer(alice, 3, bob.Address, 5)
	tests := []struct {
		name     string
		txs      []*ledger.Tx
		status   int
		top      string   // top-level error code
		perItem  []string // each result's error code, "" for pending
		mempool  int
		poolSize int
	}{
		{"bad signature", []*ledger.Tx{tampered}, 400, "bad_signature", []string{"bad_signature"}, 0, 0},
		{"wrong chain", []*ledger.Tx{wrongChain}, 400, "wrong_chain_id", []string{"wrong_chain_id"}, 0, 0},
		{"invalid tx", []*ledger.Tx{invalid}, 400, "bad_tx", []string{"bad_tx"}, 0, 0},
		{"nonce gap", []*ledger.Tx{gap}, 409, "nonce_too_high", []string{"nonce_too_high"}, 0, 0},
		{"same code", []*ledger.Tx{tampered, tampered}, 400, "bad_signature", []string{"bad_signature", "bad_signature"}, 0, 0},
		{"same status, other codes", []*ledger.Tx{tampered, wrongChain}, 400, "rejected", []string{"bad_signature", "wrong_chain_id"}, 0, 0},
		{"other statuses", []*ledger.Tx{gap, tampered}, 400, "rejected", []string{"nonce_too_high", "bad_signature"}, 0, 0},
		{"partly accepted", []*ledger.Tx{apitest.Transfer(alice, 0, bob.Address, 1), gap, tampered}, 200, "", []string{"", "nonce_too_high", "bad_signature"}, 1, 0},
		{"mempool full, partly", []*ledger.Tx{apitest.Transfer(alice, 0, bob.Address, 1), apitest.Transfer(bob, 0, alice.Address, 1)}, 200, "", []string{"", "mempool_full"}, 1, 1},
		{"retry of pending tx", []*ledger.Tx{apitest.Transfer(alice, 0, bob.Address, 1), apitest.Transfer(alice, 0, bob.Address, 1)}, 200, "", []string{"", ""}, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := apitest.NewBackend(apitest.Config{ChainID: apitest.ChainID, MempoolSize: tt.poolSize,
				Alloc: []ledger.Allocation{{Address: alice.Address, Amount: 100}, {Address: bob.Address, Amount: 100}}})
			r := do(t, newHandler(t, b), "POST", "/v1/transactions", api.MediaCBOR, cborBatch(t, tt.txs...))
			if r.code != tt.status {
				t.Errorf("status = %d, want %d (%s)", r.code, tt.status, r.body)
			}
			resp := decode[api.SubmitResponse](t, r)
			checkTop(t, resp.Error, tt.top)
			checkItems(t, resp.Results, tt.txs, tt.perItem)
			if st, _ := b.Status(context.Background()); st.Mempool != tt.mempool {
				t.Errorf("mempool = %d, want %d", st.Mempool, tt.mempool)
			}
		})
	}
}

func checkTop(t *testing.T, got *api.ErrorBody, want string) {
	t.Helper()
	switch {
	case want == "" && got != nil:
		t.Errorf("top-level error = %+v, want none", got)
	case want != "" && (got == nil || got.Code != want || got.Message == ""):
		t.Errorf("top-level error = %+v, want code %q", got, want)
	}
}

func checkItems(t *testing.T, res []api.TxResult, txs []*ledger.Tx, codes []string) {
	t.Helper()
	if len(res) != len(codes) {
		t.Fatalf("%d results, want %d", len(res), len(codes))
	}
	for i, c := range codes {
		if res[i].ID != txs[i].ID() {
			t.Errorf("result %d id = %s, want %s", i, res[i].ID, txs[i].ID())
		}
		if c == "" {
			if res[i].Status != api.StatusPending || res[i].Error != nil {
				t.Errorf("result %d = %+v, want pending", i, res[i])
			}
			continue
		}
		if res[i].Status != api.StatusRejected || res[i].Error == nil || res[i].Error.Code != c {
			t.Errorf("result %d = %+v, want rejected with %q", i, res[i], c)
		}
	}
}

func TestSubmitWaitCommit(t *testing.T) {
	b := apitest.Funded(true, 100, alice)
	txs := []*ledger.Tx{apitest.Transfer(alice, 0, bob.Address, 30), apitest.Transfer(alice, 1, bob.Address, 500)}
	r := do(t, newHandler(t, b), "POST", "/v1/transactions?wait=commit", api.MediaCBOR, cborBatch(t, txs...))
	if r.code != 200 {
		t.Fatalf("status = %d, want 200 (%s)", r.code, r.body)
	}
	resp := decode[api.SubmitResponse](t, r)
	wantStatus := []ledger.Status{ledger.StatusOK, ledger.StatusInsufficientFunds}
	for i, res := range resp.Results {
		if res.Status != api.StatusCommitted || res.Receipt == nil || res.Block != 1 || res.Index != uint32(i) {
			t.Fatalf("result %d = %+v, want committed in block 1 at %d", i, res, i)
		}
		if res.Receipt.Status != wantStatus[i] || res.Receipt.TxID != txs[i].ID() {
			t.Errorf("receipt %d = %+v, want status %v", i, res.Receipt, wantStatus[i])
		}
	}
}

func TestSubmitWaitTimeout(t *testing.T) {
	cfg := api.TestConfig()
	cfg.WaitTimeout = 20 * time.Millisecond
	h := api.New(apitest.Funded(false, 100, alice), cfg).Handler()
	start := time.Now()
	r := do(t, h, "POST", "/v1/transactions?wait=commit", api.MediaCBOR, apitest.Transfer(alice, 0, bob.Address, 1).Encode())
	if r.code != 200 {
		t.Fatalf("status = %d, want 200 (%s)", r.code, r.body)
	}
	if res := decode[api.SubmitResponse](t, r).Results[0]; res.Status != api.StatusPending {
		t.Errorf("result = %+v, want pending after the wait timed out", res)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("wait took %v, want about %v", d, cfg.WaitTimeout)
	}
}

// dropping is a Backend that drops every tx it is asked to wait for.
type dropping struct{ *apitest.Backend }

func (d dropping) Wait(ctx context.Context, ids []ledger.Hash) []api.WaitResult {
	out := make([]api.WaitResult, len(ids))
	for i := range out {
		out[i].Err = apitest.Errorf("expired", "dropped from the mempool")
	}
	return out
}

func TestSubmitWaitDropped(t *testing.T) {
	h := newHandler(t, dropping{apitest.Funded(false, 100, alice)})
	r := do(t, h, "POST", "/v1/transactions?wait=commit", api.MediaCBOR, apitest.Transfer(alice, 0, bob.Address, 1).Encode())
	wantError(t, r, 400, "expired")
	res := decode[api.SubmitResponse](t, r).Results[0]
	if res.Status != api.StatusRejected || res.Error == nil || res.Error.Code != "expired" {
		t.Errorf("result = %+v, want rejected with expired", res)
	}
}

func TestSubmitBadWait(t *testing.T) {
	h := newHandler(t, apitest.Funded(false, 100, alice))
	r := do(t, h, "POST", "/v1/transactions?wait=forever", api.MediaCBOR, apitest.Transfer(alice, 0, bob.Address, 1).Encode())
	wantError(t, r, 400, "bad_request")
}

// brokenSubmit is a Backend whose Submit fails every tx with err, or
// answers one id too few if err is nil.
type brokenSubmit struct {
	*apitest.Backend
	err error
}

func (b brokenSubmit) Submit(_ context.Context, txs []*ledger.Tx) ([]ledger.Hash, []error) {
	ids, errs := make([]ledger.Hash, len(txs)), make([]error, len(txs))
	if b.err == nil {
		return ids[1:], errs[1:]
	}
	for i := range errs {
		ids[i], errs[i] = txs[i].ID(), b.err
	}
	return ids, errs
}

// TestSubmitLogsOnce checks that a batch whose backend fails every tx
// with an internal error logs it once, with the count, and hides it.
func TestSubmitLogsOnce(t *testing.T) {
	const n = 1000
	txs := transfers(alice, n)
	invalid := apitest.Transfer(alice, n, bob.Address, 1)
	invalid.Function = "" // rejected by the API before the backend: a request error, not logged
	invalid.Sign(alice.Private)
	tests := []struct {
		name   string
		err    error
		txs    []*ledger.Tx
		status int
		top    string
		logged int64
	}{
		{"internal", errors.New("redis 10.0.0.7: connection refused"), txs, 500, "internal", n},
		{"corrupt sender record", fmt.Errorf("redis 10.0.0.7: decode account: %w", ledger.ErrBadEncoding), txs, 500, "internal", n},
		{"wrong answer count", nil, txs, 500, "internal", n},
		{"with request errors", errors.New("redis 10.0.0.7: connection refused"), append(txs[:n-1:n-1], invalid), 400, "rejected", n - 1},
	}
	cfg := api.TestConfig()
	cfg.MaxBatch, cfg.MaxBodyBytes = n, 1<<20
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, logs := newLoggedHandler(t, brokenSubmit{apitest.Funded(false, 100, alice), tt.err}, cfg)
			r := do(t, h, "POST", "/v1/transactions", api.MediaCBOR, cborBatch(t, tt.txs...))
			e := wantError(t, r, tt.status, tt.top)
			if strings.Contains(string(r.body), "10.0.0.7") {
				t.Errorf("response leaks the backend's error: %s", e.Message)
			}
			rec := logs.only(t)
			if rec.Level != slog.LevelError || attr(rec, "count").Int64() != tt.logged {
				t.Errorf("logged %v %q count %v, want one error with count %d", rec.Level, rec.Message, attr(rec, "count"), tt.logged)
			}
		})
	}
}

// waitFailing is a Backend whose Wait answers err for every tx, after the
// wait's context ends if late.
type waitFailing struct {
	*apitest.Backend
	err  error
	late bool
}

func (b waitFailing) Wait(ctx context.Context, ids []ledger.Hash) []api.WaitResult {
	if b.late {
		<-ctx.Done()
	}
	out := make([]api.WaitResult, len(ids))
	for i := range out {
		out[i].Err = b.err
	}
	return out
}

// TestSubmitWaitErrors checks that an uncoded error from Wait leaves the
// tx pending (it may still commit) instead of rejecting it.
func TestSubmitWaitErrors(t *testing.T) {
	tests := []struct {
		name   string
		b      waitFailing
		status int
		result string
		logs   int
	}{
		{"dropped", waitFailing{err: apitest.Errorf("expired", "dropped")}, 400, api.StatusRejected, 0},
		{"store fault", waitFailing{err: errors.New("redis 10.0.0.7: broken pipe")}, 200, api.StatusPending, 1},
		{"corrupt record", waitFailing{err: fmt.Errorf("decode: %w", ledger.ErrBadEncoding)}, 200, api.StatusPending, 1},
		{"wait ran out", waitFailing{err: context.DeadlineExceeded, late: true}, 200, api.StatusPending, 0},
	}
	cfg := api.TestConfig()
	cfg.WaitTimeout = 20 * time.Millisecond
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.b.Backend = apitest.Funded(false, 100, alice)
			h, logs := newLoggedHandler(t, tt.b, cfg)
			r := do(t, h, "POST", "/v1/transactions?wait=commit", api.MediaCBOR, apitest.Transfer(alice, 0, bob.Address, 1).Encode())
			if r.code != tt.status {
				t.Errorf("status = %d, want %d (%s)", r.code, tt.status, r.body)
			}
			if res := decode[api.SubmitResponse](t, r).Results[0]; res.Status != tt.result {
				t.Errorf("result = %+v, want %s", res, tt.result)
			}
			if n := logs.len(); n != tt.logs {
				t.Errorf("%d log records, want %d", n, tt.logs)
			}
		})
	}
}

// TestSubmitPreallocation checks that a body announced as huge but slow
// to arrive does not cost its announced size up front.
func TestSubmitPreallocation(t *testing.T) {
	cfg := api.TestConfig()
	cfg.MaxBodyBytes = 64 << 20
	h := api.New(apitest.Funded(false, 100, alice), cfg).Handler()
	body := apitest.Transfer(alice, 0, bob.Address, 1).Encode()
	tests := []struct {
		name          string
		contentLength int64
	}{
		{"announced exactly", int64(len(body))},
		{"announced at the limit", cfg.MaxBodyBytes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/v1/transactions", bytes.NewReader(body))
			req.ContentLength = tt.contentLength
			req.Header.Set("Content-Type", api.MediaCBOR)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			h.ServeHTTP(httptest.NewRecorder(), req)
			runtime.ReadMemStats(&after)
			if n := after.TotalAlloc - before.TotalAlloc; n > 2<<20 {
				t.Errorf("request announcing %d bytes allocated %d bytes, want < 2 MB", tt.contentLength, n)
			}
		})
	}
}

// TestSubmitAccept checks which Accept headers get a CBOR answer.
func TestSubmitAccept(t *testing.T) {
	tests := []struct {
		accept string
		want   string
	}{
		{"", api.MediaJSON},
		{"application/cbor", api.MediaCBOR},
		{"application/cbor;q=0", api.MediaJSON},
		{"application/cbor; q=0.0, application/json", api.MediaJSON},
		{"application/cbor, application/json", api.MediaCBOR},
		{"application/json, application/cbor;q=0.5", api.MediaJSON},
		{"application/json;q=0.4, application/cbor;q=0.5", api.MediaCBOR},
		{"Application/CBOR", api.MediaCBOR},
		{"*/*", api.MediaJSON},
		{"application/*", api.MediaJSON},
		{"application/cbor;q=0.5, */*;q=0.1", api.MediaCBOR},
		{"application/cbor;q=0.5, application/*;q=0.9", api.MediaJSON},
		{"application/cbor;q=0.5, application/*;q=0.9, application/json;q=0.1", api.MediaCBOR},
		{"application/cbor;q=2", api.MediaJSON},
		{"application/cbor;q=x", api.MediaJSON},
		{"application/cbor-seq", api.MediaJSON},
		{"text/plain, application/cbor-x", api.MediaJSON},
		{",, application/cbor ,", api.MediaCBOR},
	}
	for _, tt := range tests {
		t.Run(tt.accept, func(t *testing.T) {
			h := newHandler(t, apitest.Funded(false, 100, alice))
			req := httptest.NewRequest("POST", "/v1/transactions", bytes.NewReader(apitest.Transfer(alice, 0, bob.Address, 1).Encode()))
			req.Header.Set("Content-Type", api.MediaCBOR)
			req.Header.Set("Accept", tt.accept)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 || rec.Header().Get("Content-Type") != tt.want {
				t.Errorf("Accept %q: status %d, Content-Type %q, want 200 %q", tt.accept, rec.Code, rec.Header().Get("Content-Type"), tt.want)
			}
		})
	}
}
