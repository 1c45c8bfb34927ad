package api

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

// TestTxResultWireFields keeps txResultWire in step with TxResult: the
// same field names and JSON names, in order.
func TestTxResultWireFields(t *testing.T) {
	a, b := reflect.TypeFor[TxResult](), reflect.TypeFor[txResultWire]()
	if a.NumField() != b.NumField() {
		t.Fatalf("TxResult has %d fields, txResultWire %d", a.NumField(), b.NumField())
	}
	for i := range a.NumField() {
		fa, fb := a.Field(i), b.Field(i)
		na, _, _ := strings.Cut(fa.Tag.Get("json"), ",")
		nb, _, _ := strings.Cut(fb.Tag.Get("json"), ",")
		if fa.Name != fb.Name || na != nb {
			t.Errorf("field %d: TxResult.%s %q, txResultWire.%s %q", i, fa.Name, na, fb.Name, nb)
		}
	}
}

// TestSubmitResponseCBOR holds the hand-written submit response encoder
// to ledger.Marshal, for results of every status and shape.
func TestSubmitResponseCBOR(t *testing.T) {
	receipt := &ledger.Receipt{TxID: ledger.Hash{9}, Status: ledger.StatusInsufficientFunds, GasUsed: 1 << 20, Path: ledger.PathVM,
		Error: "short", Events: []ledger.Event{{Name: "Transfer", Data: ledger.Bytes{1, 2}}}, Result: ledger.Bytes{3}}
	results := []TxResult{
		{ID: ledger.Hash{1}, Status: StatusPending},
		{ID: ledger.Hash{2}, Status: StatusCommitted, Receipt: &ledger.Receipt{TxID: ledger.Hash{2}, Path: ledger.PathNative}},
		{ID: ledger.Hash{3}, Status: StatusCommitted, Receipt: receipt, Block: 1 << 40, Index: 70000},
		{ID: ledger.Hash{4}, Status: StatusRejected, Error: &ErrorBody{Code: CodeBadRequest, Message: "no"}},
		{ID: ledger.Hash{5}, Status: StatusPending, Receipt: receipt},
	}
	tests := []struct {
		name string
		resp SubmitResponse
	}{
		{"none", SubmitResponse{}},
		{"each", SubmitResponse{Results: results}},
		{"all rejected", SubmitResponse{Results: results[3:4], Error: results[3].Error}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := ledger.Marshal(tt.resp)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tt.resp.appendCBOR(nil)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("appendCBOR = %x, %v; want %x", got, err, want)
			}
			var back SubmitResponse
			if err := ledger.Unmarshal(got, &back); err != nil || len(back.Results) != len(tt.resp.Results) {
				t.Fatalf("Unmarshal(appendCBOR) = %+v, %v", back, err)
			}
		})
	}
}
