package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
