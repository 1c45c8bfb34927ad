package api_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/api/apitest"
	"github.com/dualchain/dualchain/ledger"
)

// FuzzDecodeSubmit checks that the body decoder never panics, and that
// whatever it accepts re-encodes to CBOR that decodes to the same tx.
func FuzzDecodeSubmit(f *testing.F) {
	tx0, tx1 := apitest.Transfer(alice, 0, bob.Address, 5), apitest.Transfer(bob, 9, alice.Address, 1)
	batch, _ := ledger.Marshal([]*ledger.Tx{tx0, tx1})
	single, _ := json.Marshal(api.NewTxJSON(tx0))
	jbatch, _ := json.Marshal(api.SubmitRequest{Txs: []api.TxJSON{api.NewTxJSON(tx0), api.NewTxJSON(tx1)}})
	for _, seed := range [][]byte{tx0.Encode(), batch, {0x80}, {0x9b, 0xff}, {}} {
		f.Add(true, seed)
	}
	for _, seed := range [][]byte{single, jbatch, []byte(`{"txs":[]}`), []byte(`{}`), []byte(`null`)} {
		f.Add(false, seed)
	}
	f.Fuzz(func(t *testing.T, cbor bool, body []byte) {
		ct := api.MediaJSON
		if cbor {
			ct = api.MediaCBOR
		}
		txs, err := api.DecodeSubmit(ct, body, 16)
		if err != nil {
			return
		}
		if len(txs) == 0 || len(txs) > 16 {
			t.Fatalf("DecodeSubmit accepted %d txs, want 1 to 16", len(txs))
		}
		for _, tx := range txs {
			checkRoundTrip(t, tx)
		}
	})
}

func checkRoundTrip(t *testing.T, tx *ledger.Tx) {
	t.Helper()
	tx.ID()
	enc := tx.Encode()
	again, err := api.DecodeSubmit(api.MediaCBOR, enc, 1)
	if err != nil {
		if len(enc) > ledger.MaxTxSize {
			return
		}
		t.Fatalf("re-decode %x: %v", enc, err)
	}
	if !bytes.Equal(again[0].Encode(), enc) {
		t.Fatalf("round trip changed the tx: %x -> %x", enc, again[0].Encode())
	}
}
