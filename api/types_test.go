package api_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/api/apitest"
	"github.com/dualchain/dualchain/ledger"
)

// TestTxResultEncoding checks that block and index are sent exactly when a
// result is committed (index 0 included), in JSON and in CBOR.
func TestTxResultEncoding(t *testing.T) {
	id := ledger.Hash{7}
	rc := &ledger.Receipt{TxID: id, Status: ledger.StatusOK, Path: ledger.PathNative,
		Events: []ledger.Event{{Name: "transfer", Data: ledger.Bytes{1}}}}
	tests := []struct {
		name    string
		res     api.TxResult
		present bool
	}{
		{"committed at index 0", api.TxResult{ID: id, Status: api.StatusCommitted, Receipt: rc, Block: 1, Index: 0}, true},
		{"committed at index 3", api.TxResult{ID: id, Status: api.StatusCommitted, Receipt: rc, Block: 12, Index: 3}, true},
		{"pending", api.TxResult{ID: id, Status: api.StatusPending}, false},
		{"rejected", api.TxResult{ID: id, Status: api.StatusRejected, Error: &api.ErrorBody{Code: "bad_tx", Message: "no"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js, err := json.Marshal(tt.res)
			if err != nil {
				t.Fatal(err)
			}
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(js, &fields); err != nil {
				t.Fatal(err)
			}
			_, hasBlock := fields["block"]
			_, hasIndex := fields["index"]
			if hasBlock != tt.present || hasIndex != tt.present {
				t.Errorf("json.Marshal(%+v) = %s, want block and index present: %v", tt.res, js, tt.present)
			}
			var fromJSON api.TxResult
			if err := json.Unmarshal(js, &fromJSON); err != nil || !reflect.DeepEqual(fromJSON, tt.res) {
				t.Errorf("JSON round trip = %+v, %v, want %+v", fromJSON, err, tt.res)
			}
			cb, err := ledger.Marshal(api.SubmitResponse{Results: []api.TxResult{tt.res}})
			if err != nil {
				t.Fatal(err)
			}
			var items struct {
				Results []map[string]any `json:"results"`
			}
			if err := ledger.Unmarshal(cb, &items); err != nil {
				t.Fatal(err)
			}
			_, hasBlock = items.Results[0]["block"]
			_, hasIndex = items.Results[0]["index"]
			if hasBlock != tt.present || hasIndex != tt.present {
				t.Errorf("CBOR of %+v has keys %v, want block and index present: %v", tt.res, items.Results[0], tt.present)
			}
			var fromCBOR api.SubmitResponse
			if err := ledger.Unmarshal(cb, &fromCBOR); err != nil || !reflect.DeepEqual(fromCBOR.Results[0], tt.res) {
				t.Errorf("CBOR round trip = %+v, %v, want %+v", fromCBOR.Results, err, tt.res)
			}
		})
	}
}

// TestSubmitWaitIndexZero checks the committed result at index 0 on the
// wire, as a client reading JSON sees it.
func TestSubmitWaitIndexZero(t *testing.T) {
	b := apitest.Funded(true, 100, alice)
	r := do(t, newHandler(t, b), "POST", "/v1/transactions?wait=commit", api.MediaCBOR, apitest.Transfer(alice, 0, bob.Address, 1).Encode())
	if r.code != 200 || !strings.Contains(string(r.body), `"block":1,"index":0`) {
		t.Errorf("response = %d %s, want 200 with \"block\":1,\"index\":0", r.code, r.body)
	}
}

func TestNewTxViewID(t *testing.T) {
	tx := apitest.Transfer(alice, 0, bob.Address, 5)
	stored := ledger.Hash{9, 9} // the receipt's id is the one the chain stored; the view must not rehash
	tests := []struct {
		name string
		txID ledger.Hash
		want ledger.Hash
	}{
		{"receipt id", stored, stored},
		{"receipt without an id", ledger.Hash{}, tx.ID()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &ledger.TxRecord{Tx: *tx, Receipt: ledger.Receipt{TxID: tt.txID}, Height: 4, Index: 2}
			if v := api.NewTxView(rec); v.ID != tt.want || v.Block != 4 || v.Index != 2 {
				t.Errorf("NewTxView(receipt id %s) = id %s block %d index %d, want %s 4 2", tt.txID, v.ID, v.Block, v.Index, tt.want)
			}
		})
	}
}
