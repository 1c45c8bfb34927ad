package ledger_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

func TestStatusText(t *testing.T) {
	for s := ledger.StatusOK; s <= ledger.StatusAborted; s++ {
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var got ledger.Status
		if err := got.UnmarshalText(b); err != nil || got != s {
			t.Errorf("Status.UnmarshalText(%q) = %v, %v, want %v", b, got, err, s)
		}
	}
	var s ledger.Status
	if err := s.UnmarshalText([]byte("status(99)")); !errors.Is(err, ledger.ErrBadEncoding) {
		t.Errorf("Status.UnmarshalText(status(99)) = %v, want ErrBadEncoding", err)
	}
	if got := ledger.Status(99).String(); got != "status(99)" {
		t.Errorf("Status(99).String() = %q, want %q", got, "status(99)")
	}
}

func TestPathText(t *testing.T) {
	for _, p := range []ledger.Path{ledger.PathNative, ledger.PathVM} {
		b, _ := p.MarshalText()
		var got ledger.Path
		if err := got.UnmarshalText(b); err != nil || got != p {
			t.Errorf("Path.UnmarshalText(%q) = %v, %v, want %v", b, got, err, p)
		}
	}
	var p ledger.Path
	if err := p.UnmarshalText([]byte("wasm")); !errors.Is(err, ledger.ErrBadEncoding) {
		t.Errorf("Path.UnmarshalText(wasm) = %v, want ErrBadEncoding", err)
	}
}

func TestTxRecordRoundTrip(t *testing.T) {
	tx := signedTx(testKey(1), 3)
	rec := ledger.TxRecord{
		Tx: *tx,
		Receipt: ledger.Receipt{
			TxID: tx.ID(), Status: ledger.StatusAborted, GasUsed: 77, Path: ledger.PathVM,
			Error: "abort: no", Events: []ledger.Event{{Name: "e", Data: ledger.Bytes{1}}},
		},
		Height: 9,
		Index:  2,
	}
	enc, err := ledger.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	var got ledger.TxRecord
	if err := ledger.Unmarshal(enc, &got); err != nil || !reflect.DeepEqual(got, rec) {
		t.Errorf("Unmarshal(Marshal(%+v)) = %+v, %v", rec, got, err)
	}
	data, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	var fromJSON ledger.TxRecord
	if err := json.Unmarshal(data, &fromJSON); err != nil || !reflect.DeepEqual(fromJSON, rec) {
		t.Errorf("json round trip of %s = %+v, %v, want %+v", data, fromJSON, err, rec)
	}
}
