package api_test

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/api/apitest"
	"github.com/dualchain/dualchain/ledger"
)

// traced returns a backend like committed's where every transaction has
// apitest.FakeTrace's trace but the first, alice's payment of 30.
func traced(t *testing.T) (*apitest.Backend, []*ledger.Tx) {
	t.Helper()
	b := apitest.NewBackend(apitest.Config{
		ChainID: apitest.ChainID, Alloc: []ledger.Allocation{{Address: alice.Address, Amount: 100}},
		Trace: func(rec *ledger.TxRecord) *ledger.Trace {
			if rec.Tx.Nonce == 0 {
				return nil
			}
			return apitest.FakeTrace(rec)
		},
	})
	txs := []*ledger.Tx{apitest.Transfer(alice, 0, bob.Address, 30), apitest.Transfer(alice, 1, bob.Address, 40)}
	for _, tx := range txs {
		submitOK(t, b, tx)
		b.Commit()
	}
	return b, txs
}

func wantTrace(t *testing.T, b api.TraceBackend, id ledger.Hash) *ledger.Trace {
	t.Helper()
	tr, err := b.Trace(context.Background(), id)
	if err != nil {
		t.Fatalf("Trace(%s) = %v", id, err)
	}
	return tr
}

func TestGetTxTrace(t *testing.T) {
	b, txs := traced(t)
	h := newHandler(t, b)
	withTrace := wantTrace(t, b, txs[1].ID())
	if len(withTrace.Frames) == 0 {
		t.Fatal("FakeTrace made a trace with no frames")
	}
	tests := []struct {
		tx    *ledger.Tx
		query string
		want  *ledger.Trace
	}{
		{txs[1], "?trace=true", withTrace},
		{txs[1], "?trace=1", withTrace},
		{txs[1], "", nil},
		{txs[1], "?trace=false", nil},
		{txs[0], "?trace=true", nil}, // it has none: the view has none
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("nonce %d%s", tt.tx.Nonce, tt.query), func(t *testing.T) {
			r := get(t, h, "/v1/transactions/"+tt.tx.ID().String()+tt.query)
			if r.code != http.StatusOK {
				t.Fatalf("status = %d, want 200 (%s)", r.code, r.body)
			}
			v := decode[api.TxView](t, r)
			if !reflect.DeepEqual(v.Trace, tt.want) {
				t.Errorf("trace = %+v, want %+v", v.Trace, tt.want)
			}
			if tt.want == nil && strings.Contains(string(r.body), `"trace"`) {
				t.Errorf("body %s has a trace field, want none", r.body)
			}
		})
	}
	wantError(t, get(t, h, "/v1/transactions/"+txs[1].ID().String()+"?trace=yes"), http.StatusBadRequest, api.CodeBadRequest)
	// A backend that keeps no traces answers without any.
	plain, ptxs := committed(t)
	v := decode[api.TxView](t, get(t, newHandler(t, noTraces{plain}), "/v1/transactions/"+ptxs[0].ID().String()+"?trace=true"))
	if v.Trace != nil {
		t.Errorf("trace from a backend without traces = %+v, want none", v.Trace)
	}
}

// noTraces is a backend that keeps no traces: only api.Backend's methods.
type noTraces struct{ api.Backend }

func TestGetTraceRoute(t *testing.T) {
	b, txs := traced(t)
	h := newHandler(t, b)
	r := get(t, h, "/v1/transactions/"+txs[1].ID().String()+"/trace")
	if r.code != http.StatusOK {
		t.Fatalf("status = %d, want 200 (%s)", r.code, r.body)
	}
	if got, want := decode[ledger.Trace](t, r), wantTrace(t, b, txs[1].ID()); !reflect.DeepEqual(&got, want) {
		t.Errorf("trace = %+v, want %+v", got, want)
	}
	tests := []struct {
		name, path string
		h          http.Handler
		status     int
		code, msg  string
	}{
		{"no trace", "/v1/transactions/" + txs[0].ID().String() + "/trace", h, 404, api.CodeNotFound, "has no VM trace"},
		{"unknown tx", "/v1/transactions/" + ledger.Hash{9}.String() + "/trace", h, 404, api.CodeNotFound, "not found"},
		{"bad id", "/v1/transactions/abc/trace", h, 400, api.CodeBadHash, ""},
		{"bad consistency", "/v1/transactions/" + txs[1].ID().String() + "/trace?consistency=x", h, 400, api.CodeBadRequest, ""},
		{"no traces kept", "/v1/transactions/" + txs[1].ID().String() + "/trace", newHandler(t, noTraces{b}), 404, api.CodeNotFound, "keeps no VM traces"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := wantError(t, get(t, tt.h, tt.path), tt.status, tt.code)
			if !strings.Contains(e.Message, tt.msg) {
				t.Errorf("message = %q, want it to say %q", e.Message, tt.msg)
			}
		})
	}
}

func TestGetBlocksTraces(t *testing.T) {
	b, txs := traced(t)
	h := newHandler(t, b)
	want := map[ledger.Hash]*ledger.Trace{txs[0].ID(): nil, txs[1].ID(): wantTrace(t, b, txs[1].ID())}
	for _, path := range []string{"/v1/blocks?from=0&to=2&traces=true", "/v1/blocks?from=1&traces=1"} {
		page := decode[api.BlocksPage](t, get(t, h, path))
		seen := 0
		for _, bv := range page.Blocks {
			for _, v := range bv.Txs {
				if !reflect.DeepEqual(v.Trace, want[v.ID]) {
					t.Errorf("%s: tx %s trace = %+v, want %+v", path, v.ID, v.Trace, want[v.ID])
				}
				seen++
			}
		}
		if seen != len(txs) {
			t.Errorf("%s: %d txs, want %d", path, seen, len(txs))
		}
	}
	for _, path := range []string{"/v1/blocks?from=0&to=2", "/v1/blocks?from=0&to=2&traces=false", "/v1/blocks/2"} {
		if r := get(t, h, path); strings.Contains(string(r.body), `"trace"`) {
			t.Errorf("%s = %s, want no traces", path, r.body)
		}
	}
	one := decode[api.BlockView](t, get(t, h, "/v1/blocks/2?traces=true"))
	if len(one.Txs) != 1 || !reflect.DeepEqual(one.Txs[0].Trace, want[txs[1].ID()]) {
		t.Errorf("block 2 with traces = %+v, want its tx with its trace", one.Txs)
	}
	for _, path := range []string{"/v1/blocks?from=0&traces=maybe", "/v1/blocks/1?traces=2", "/v1/blocks/latest?traces=x"} {
		wantError(t, get(t, h, path), http.StatusBadRequest, api.CodeBadRequest)
	}
}

// framedBlocks is bigBlocks whose every tx has a trace of 100 frames: a
// block's 6,000 txs hold 600,000 frames.
type framedBlocks struct{ bigBlocks }

func (framedBlocks) Traces(_ context.Context, from, to uint64) (map[uint64]*ledger.Trace, error) {
	out := make(map[uint64]*ledger.Trace)
	tr := &ledger.Trace{Frames: make([]ledger.Frame, 100)}
	for h := from; h <= to; h++ {
		for i := range uint32(6000) {
			out[ledger.TxKey(h, i)] = tr
		}
	}
	return out, nil
}

func (framedBlocks) Trace(context.Context, ledger.Hash) (*ledger.Trace, error) {
	return nil, apitest.Errorf(api.CodeNotFound, "none")
}

func TestGetBlocksCutAtFrameLimit(t *testing.T) {
	h := newHandler(t, framedBlocks{bigBlocks{apitest.Funded(false, 1)}})
	page := decode[api.BlocksPage](t, get(t, h, "/v1/blocks?from=1&to=5&traces=true"))
	if len(page.Blocks) != 1 || page.Next != 2 {
		t.Errorf("page = %d blocks, next %d; want 1 block (past %d frames), next 2", len(page.Blocks), page.Next, api.MaxRangeFrames)
	}
	page = decode[api.BlocksPage](t, get(t, h, "/v1/blocks?from=1&to=5"))
	if len(page.Blocks) != 2 || page.Next != 3 {
		t.Errorf("page without traces = %d blocks, next %d; want 2, next 3", len(page.Blocks), page.Next)
	}
}

// failingTraces is a backend whose traces cannot be read.
type failingTraces struct{ *apitest.Backend }

func (failingTraces) Trace(context.Context, ledger.Hash) (*ledger.Trace, error) {
	return nil, fmt.Errorf("disk on fire")
}

func (failingTraces) Traces(context.Context, uint64, uint64) (map[uint64]*ledger.Trace, error) {
	return nil, fmt.Errorf("disk on fire")
}

func TestTraceBackendErrors(t *testing.T) {
	b, txs := traced(t)
	h := newHandler(t, failingTraces{b})
	for _, path := range []string{
		"/v1/transactions/" + txs[1].ID().String() + "/trace",
		"/v1/transactions/" + txs[1].ID().String() + "?trace=true",
		"/v1/blocks?from=1&traces=true",
		"/v1/blocks/1?traces=true",
	} {
		e := wantError(t, get(t, h, path), http.StatusInternalServerError, api.CodeInternal)
		if strings.Contains(e.Message, "fire") {
			t.Errorf("%s: message %q shows the backend's uncoded error", path, e.Message)
		}
	}
}
