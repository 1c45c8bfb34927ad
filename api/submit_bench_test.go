package api

import (
	"net/http/httptest"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

// BenchmarkWriteSubmitCBOR measures answering a batch of 1,000 committed
// transfers in CBOR, the answer a loaded node gives most.
//
//	go test ./api -run '^$' -bench '^BenchmarkWriteSubmitCBOR$' -benchmem -count 5
func BenchmarkWriteSubmitCBOR(b *testing.B) {
	s := New(nil, TestConfig())
	res := make([]TxResult, 1000)
	for i := range res {
		id := ledger.Hash{byte(i), byte(i >> 8)}
		res[i] = TxResult{ID: id, Status: StatusCommitted, Block: 1234, Index: uint32(i),
			Receipt: &ledger.Receipt{TxID: id, GasUsed: 2400, Path: ledger.PathNative}}
	}
	r := httptest.NewRequest("POST", "/v1/transactions?wait=commit", nil)
	r.Header.Set("Accept", MediaCBOR)
	for b.Loop() {
		w := httptest.NewRecorder()
		s.writeSubmit(w, r, res)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
