package api_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"testing"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/api/apitest"
	"github.com/dualchain/dualchain/ledger"
)

// getCBOR is get with Accept: application/cbor.
func getCBOR(t *testing.T, h http.Handler, target string) response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Header.Set("Accept", api.MediaCBOR)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// decodeRaw decodes a CBOR range page.
func decodeRaw(t *testing.T, r response) *api.RawBlocksPage {
	t.Helper()
	if r.code != http.StatusOK || r.header.Get("Content-Type") != api.MediaCBOR {
		t.Fatalf("status %d, Content-Type %q, want 200 %s (%.300s)", r.code, r.header.Get("Content-Type"), api.MediaCBOR, r.body)
	}
	var page api.RawBlocksPage
	if err := ledger.Unmarshal(r.body, &page); err != nil {
		t.Fatalf("decode RawBlocksPage: %v", err)
	}
	return &page
}

// TestGetBlocksCBORMatchesJSON is a differential test of the two forms
// of a range page: for the same backend and query, the CBOR page's views
// are the JSON page's blocks, and its next the JSON page's, with traces
// and without, for pages cut at the head, by MaxRangeTxs and by
// MaxRangeFrames, and without a genesis block.
func TestGetBlocksCBORMatchesJSON(t *testing.T) {
	tracedB, _ := traced(t)
	plain, _ := committed(t)
	big := bigBlocks{apitest.Funded(false, 1)}
	tests := []struct {
		name    string
		b       api.Backend
		query   string
		blocks  int
		next    uint64
		traces  int // traces in the CBOR page
		minTxs  int // transactions in the page, at least
		noTrace bool
	}{
		{"traces", tracedB, "from=0&to=2&traces=true", 3, 0, 1, 2, false},
		{"traces, to the head", tracedB, "from=1&traces=1", 2, 0, 1, 2, false},
		{"no traces", tracedB, "from=0&to=2", 3, 0, 0, 2, true},
		{"traces=false", tracedB, "from=0&to=2&traces=false", 3, 0, 0, 2, true},
		{"past the head", tracedB, "from=3&to=9&traces=true", 0, 0, 0, 0, true},
		{"no trace backend", noTraces{plain}, "from=0&to=2&traces=true", 3, 0, 0, 2, true},
		{"no genesis", noGenesis{plain}, "from=0&to=2", 2, 0, 0, 2, true},
		{"cut by txs", big, "from=1&to=5", 2, 3, 0, api.MaxRangeTxs, true},
		{"cut by frames", framedBlocks{big}, "from=1&to=5&traces=true", 1, 2, 6000, 6000, false},
		{"frames without traces", framedBlocks{big}, "from=1&to=5", 2, 3, 0, api.MaxRangeTxs, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(t, tt.b)
			path := "/v1/blocks?" + tt.query
			want := decode[api.BlocksPage](t, get(t, h, path))
			r := getCBOR(t, h, path)
			raw := decodeRaw(t, r)
			got, err := raw.Views()
			if err != nil {
				t.Fatalf("Views() = %v", err)
			}
			if !reflect.DeepEqual(got, want.Blocks) {
				t.Errorf("Views() differ from the JSON page:\n got %+v\nwant %+v", got, want.Blocks)
			}
			if raw.Next != want.Next || len(got) != tt.blocks || raw.Next != tt.next || len(raw.Traces) != tt.traces {
				t.Errorf("CBOR page = %d blocks, %d traces, next %d; JSON next %d; want %d blocks, %d traces, next %d",
					len(got), len(raw.Traces), raw.Next, want.Next, tt.blocks, tt.traces, tt.next)
			}
			txs, traced := 0, 0
			for _, v := range got {
				for _, tx := range v.Txs {
					txs++
					if tx.Trace != nil {
						traced++
					}
				}
			}
			if txs < tt.minTxs || (traced == 0) != tt.noTrace {
				t.Errorf("CBOR page: %d txs, %d traced; want at least %d txs, traced %v", txs, traced, tt.minTxs, !tt.noTrace)
			}
			if v := r.header.Values("Vary"); len(v) != 1 || v[0] != "Accept" {
				t.Errorf("Vary = %q, want Accept", v)
			}
		})
	}
}

// TestGetBlocksCBORBlocksAreCanonical: each block of the CBOR page is the
// block as GET /v1/blocks/{height}/raw serves it, write set included, so
// ?writes=true changes nothing.
func TestGetBlocksCBORBlocksAreCanonical(t *testing.T) {
	b, _ := traced(t)
	h := newHandler(t, b)
	r := getCBOR(t, h, "/v1/blocks?from=0&to=2&traces=true")
	raw := decodeRaw(t, r)
	if w := getCBOR(t, h, "/v1/blocks?from=0&to=2&traces=true&writes=true"); string(w.body) != string(r.body) {
		t.Errorf("the CBOR page with writes=true differs from the page without")
	}
	for _, blk := range raw.Blocks {
		one := get(t, h, "/v1/blocks/"+strconv.FormatUint(blk.Header.Height, 10)+"/raw")
		if enc := blk.Encode(); string(enc) != string(one.body) {
			t.Errorf("block %d = %x, /raw serves %x", blk.Header.Height, enc, one.body)
		}
	}
	if len(raw.Blocks) != 3 || len(raw.Blocks[2].Writes) == 0 {
		t.Errorf("blocks = %d, block 2 with %d writes; want 3, and block 2's write set", len(raw.Blocks), len(raw.Blocks[len(raw.Blocks)-1].Writes))
	}
}

// TestGetBlocksCBORErrors: a CBOR range request fails as a JSON one does,
// with a JSON error; an Accept header that does not prefer CBOR gets JSON.
func TestGetBlocksCBORErrors(t *testing.T) {
	b, _ := traced(t)
	h := newHandler(t, b)
	for _, q := range []string{"", "to=2", "from=x", "from=2&to=1", "from=0&to=100", "from=0&writes=2", "from=0&traces=maybe"} {
		t.Run(q, func(t *testing.T) { wantError(t, getCBOR(t, h, "/v1/blocks?"+q), 400, api.CodeBadRequest) })
	}
	e := wantError(t, getCBOR(t, newHandler(t, failingTraces{b}), "/v1/blocks?from=1&traces=true"), 500, api.CodeInternal)
	if e.Message != "internal error" {
		t.Errorf("message = %q, want the backend's error hidden", e.Message)
	}
	for _, accept := range []string{"*/*", "application/cbor;q=0.5, application/json", "application/cbor;q=0"} {
		req := httptest.NewRequest(http.MethodGet, "/v1/blocks?from=0&to=2", nil)
		req.Header.Set("Accept", accept)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if ct := rec.Header().Get("Content-Type"); ct != api.MediaJSON {
			t.Errorf("Accept %q: Content-Type %q, want %s", accept, ct, api.MediaJSON)
		}
	}
}

// TestRawBlocksPageViewsErrors: traces out of order, or naming a
// transaction the page does not hold, are refused.
func TestRawBlocksPageViewsErrors(t *testing.T) {
	b, _ := committed(t)
	blk2, _ := b.Block(t.Context(), 2)
	blk1, _ := b.Block(t.Context(), 1)
	tr := ledger.Trace{Frames: []ledger.Frame{{Function: "f"}}}
	blocks := []ledger.Block{*blk1, *blk2}
	tests := []struct {
		name   string
		traces []api.BlockTxTrace
		ok     bool
	}{
		{"in order", []api.BlockTxTrace{{Height: 1, Index: 0, Trace: tr}, {Height: 2, Index: 0, Trace: tr}}, true},
		{"none", nil, true},
		{"index past the block", []api.BlockTxTrace{{Height: 1, Index: 1, Trace: tr}}, false},
		{"height not in the page", []api.BlockTxTrace{{Height: 3, Index: 0, Trace: tr}}, false},
		{"heights out of order", []api.BlockTxTrace{{Height: 2, Index: 0, Trace: tr}, {Height: 1, Index: 0, Trace: tr}}, false},
		{"twice", []api.BlockTxTrace{{Height: 1, Index: 0, Trace: tr}, {Height: 1, Index: 0, Trace: tr}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &api.RawBlocksPage{Blocks: blocks, Traces: tt.traces}
			views, err := p.Views()
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, api.ErrBadPageTraces)) {
				t.Fatalf("Views() = %v, want ok %v", err, tt.ok)
			}
			if tt.ok && len(views) != 2 {
				t.Errorf("Views() = %d views, want 2", len(views))
			}
		})
	}
}
