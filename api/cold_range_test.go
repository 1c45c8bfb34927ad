package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/api/apitest"
	"github.com/dualchain/dualchain/ledger"
)

// withColdHead is a ColdBackend that tells the cold head itself
// (api.ColdHeadBackend), and counts how often it is asked.
type withColdHead struct {
	*apitest.ColdBackend
	asked *int
}

func (w withColdHead) ColdHeight(ctx context.Context) (uint64, error) {
	*w.asked++
	b, err := w.ColdBlock(ctx, 0)
	if err != nil {
		return 0, nil
	}
	return b.Header.Height, nil
}

func TestGetColdBlocks(t *testing.T) {
	b, _ := bridged(t) // cold blocks 1 and 2
	asked := 0
	for _, tt := range []struct {
		name string
		b    api.Backend
	}{{"latest block read", b}, {"ColdHeadBackend", withColdHead{b, &asked}}} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(t, tt.b)
			tests := []struct {
				query   string
				heights []uint64
			}{
				{"from=1", []uint64{1, 2}},
				{"from=1&to=1", []uint64{1}},
				{"from=2&to=2", []uint64{2}},
				{"from=1&to=100", []uint64{1, 2}},
				{"from=3", nil},
				{"from=18446744073709551615", nil},
				{"from=2&to=50&consistency=strong", []uint64{2}},
			}
			for _, q := range tests {
				r := get(t, h, "/v1/cold/blocks?"+q.query)
				if r.code != http.StatusOK {
					t.Fatalf("%s: status %d, want 200 (%s)", q.query, r.code, r.body)
				}
				page := decode[api.ColdBlocksPage](t, r)
				if page.Blocks == nil || len(page.Blocks) != len(q.heights) || page.Next != 0 {
					t.Fatalf("%s: page = %d blocks, next %d; want %v", q.query, len(page.Blocks), page.Next, q.heights)
				}
				for i, want := range q.heights {
					blk, _ := b.ColdBlock(context.Background(), want)
					if page.Blocks[i].Header != blk.Header {
						t.Errorf("%s: block %d = %+v, want %+v", q.query, i, page.Blocks[i].Header, blk.Header)
					}
				}
			}
		})
	}
	if asked == 0 {
		t.Error("the server never asked a ColdHeadBackend for the cold head")
	}
	empty := decode[api.ColdBlocksPage](t, get(t, newHandler(t, apitest.FundedCold(false, 1, alice)), "/v1/cold/blocks?from=1"))
	if empty.Blocks == nil || len(empty.Blocks) != 0 {
		t.Errorf("range before any cold block = %+v, want an empty page", empty)
	}
}

func TestGetColdBlocksErrors(t *testing.T) {
	b, _ := bridged(t)
	h := newHandler(t, b)
	for _, q := range []string{"", "to=2", "from=x", "from=0", "from=0&to=5", "from=2&to=1", "from=1&to=101", "from=1&to=y", "from=-1"} {
		t.Run(q, func(t *testing.T) { wantError(t, get(t, h, "/v1/cold/blocks?"+q), 400, api.CodeBadRequest) })
	}
	wantError(t, get(t, newHandler(t, apitest.Funded(false, 1, alice)), "/v1/cold/blocks?from=1"), 400, api.CodeUnsupported)
}

// bigCold is a cold backend whose 500 cold blocks each hold 3,000 txs.
type bigCold struct{ *apitest.ColdBackend }

func (bigCold) ColdBlock(_ context.Context, h uint64) (*ledger.ColdBlock, error) {
	if h == 0 {
		h = 500
	}
	if h > 500 {
		return nil, apitest.Errorf(api.CodeNotFound, "cold block %d", h)
	}
	b := &ledger.ColdBlock{Header: ledger.ColdHeader{Height: h}, Txs: make([]ledger.Tx, 3000)}
	for i := range b.Txs {
		b.Txs[i] = ledger.Tx{ChainID: "big", Chain: ledger.Cold, Nonce: uint64(i), Function: "f"}
	}
	return b, nil
}

func TestGetColdBlocksCutAtTxLimit(t *testing.T) {
	h := newHandler(t, bigCold{apitest.FundedCold(false, 1)})
	tests := []struct {
		query      string
		blocks     int
		first      uint64
		next       uint64
		wantStatus int
	}{
		{"from=1&to=10", 4, 1, 5, 200}, // 4 × 3,000 txs ≥ 10,000
		{"from=5", 4, 5, 9, 200},
		{"from=499&to=598", 2, 499, 0, 200}, // cut at the head, 500
	}
	for _, tt := range tests {
		page := decode[api.ColdBlocksPage](t, get(t, h, "/v1/cold/blocks?"+tt.query))
		if len(page.Blocks) != tt.blocks || page.Next != tt.next || page.Blocks[0].Header.Height != tt.first {
			t.Errorf("%s: page = %d blocks from %d, next %d; want %d from %d, next %d",
				tt.query, len(page.Blocks), page.Blocks[0].Header.Height, page.Next, tt.blocks, tt.first, tt.next)
		}
	}
}
