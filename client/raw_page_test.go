package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/api/apitest"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/ledger"
)

// TestRawBlockPageMatchesBlockPage is the differential test of the two
// forms of a range page: from the same node, RawBlockPage's views are
// BlockPage's blocks, and its next BlockPage's, with traces and without,
// whole or cut short by MaxRangeTxs or MaxRangeFrames.
func TestRawBlockPageMatchesBlockPage(t *testing.T) {
	ctx := context.Background()
	chain, _ := tracedChain(t, 7)
	tests := []struct {
		name     string
		b        api.Backend
		from, to uint64
		traces   bool
		blocks   int
		next     uint64
	}{
		{"traces", chain, 0, 10, true, 8, 0},
		{"no traces", chain, 0, 10, false, 8, 0},
		{"one block", chain, 5, 5, true, 1, 0},
		{"past the head", chain, 8, 20, true, 0, 0},
		{"cut by txs", wideBlocks{chain}, 1, 6, false, 2, 3},
		{"cut by frames", wideBlocks{chain}, 1, 6, true, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, tt.b)
			want, err := c.BlockPage(ctx, tt.from, tt.to, tt.traces)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := c.RawBlockPage(ctx, tt.from, tt.to, tt.traces)
			if err != nil {
				t.Fatalf("RawBlockPage(%d, %d, %v) = %v", tt.from, tt.to, tt.traces, err)
			}
			got, err := raw.Views()
			if err != nil {
				t.Fatalf("Views() = %v", err)
			}
			if !reflect.DeepEqual(got, want.Blocks) {
				t.Errorf("RawBlockPage(%d, %d, %v).Views() = %+v, want BlockPage's %+v", tt.from, tt.to, tt.traces, got, want.Blocks)
			}
			if len(got) != tt.blocks || raw.Next != tt.next || want.Next != tt.next {
				t.Errorf("RawBlockPage(%d, %d, %v) = %d blocks, next %d (BlockPage's next %d); want %d blocks, next %d",
					tt.from, tt.to, tt.traces, len(got), raw.Next, want.Next, tt.blocks, tt.next)
			}
			if traced := countTraced(got); (traced > 0) != (tt.traces && tt.blocks > 0) || len(raw.Traces) != traced {
				t.Errorf("RawBlockPage(traces %v): %d traced txs, %d traces; want traces exactly with traces=true", tt.traces, traced, len(raw.Traces))
			}
		})
	}
}

func countTraced(views []api.BlockView) int {
	n := 0
	for _, v := range views {
		for _, tx := range v.Txs {
			if tx.Trace != nil {
				n++
			}
		}
	}
	return n
}

// wideBlocks serves 6 blocks of 6,000 transactions each, every one traced
// with 20 frames: a page holds two blocks (past MaxRangeTxs), one with
// traces (past MaxRangeFrames).
type wideBlocks struct{ *apitest.Backend }

func (wideBlocks) Status(context.Context) (api.Status, error) {
	return api.Status{ChainID: apitest.ChainID, Height: 6}, nil
}

func (wideBlocks) Block(_ context.Context, h uint64) (*ledger.Block, error) {
	b := &ledger.Block{Header: ledger.Header{ChainID: apitest.ChainID, Height: h, Time: int64(h) * 1e9}}
	for i := range 6000 {
		tx := apitest.Transfer(alice, h*6000+uint64(i), bob.Address, uint64(i))
		b.Txs = append(b.Txs, *tx)
		b.Receipts = append(b.Receipts, ledger.Receipt{TxID: tx.ID(), GasUsed: 7, Path: ledger.PathVM})
	}
	return b, nil
}

func (wideBlocks) Traces(_ context.Context, from, to uint64) (map[uint64]*ledger.Trace, error) {
	out := map[uint64]*ledger.Trace{}
	for h := from; h <= to; h++ {
		for i := range uint32(6000) {
			out[ledger.TxKey(h, i)] = &ledger.Trace{Frames: make([]ledger.Frame, 20), Dropped: uint64(i)}
		}
	}
	return out, nil
}

// TestRawBlockPageErrors: the node's refusals are *Error as for
// BlockPage; a node that answers JSON (older than the CBOR page) is
// ErrNotCBOR; a body cut short does not decode.
func TestRawBlockPageErrors(t *testing.T) {
	ctx := context.Background()
	chain, _ := tracedChain(t, 3)
	c, _ := serve(t, chain)
	_, err := c.RawBlockPage(ctx, 5, 2, true)
	wantError(t, err, api.CodeBadRequest, http.StatusBadRequest)
	_, err = c.RawBlockPage(ctx, 1, 500, true)
	wantError(t, err, api.CodeBadRequest, http.StatusBadRequest)

	real := api.New(chain, api.TestConfig()).Handler()
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("Accept", api.MediaJSON) // an old node answers JSON whatever is asked
		real.ServeHTTP(w, r)
	}))
	t.Cleanup(old.Close)
	if _, err := client.New(old.URL).RawBlockPage(ctx, 1, 3, true); !errors.Is(err, client.ErrNotCBOR) {
		t.Errorf("RawBlockPage from a node answering JSON = %v, want ErrNotCBOR", err)
	}

	cut := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		real.ServeHTTP(rec, r)
		w.Header().Set("Content-Type", rec.Header().Get("Content-Type"))
		w.Write(rec.Body.Bytes()[:rec.Body.Len()/2])
	}))
	t.Cleanup(cut.Close)
	_, err = client.New(cut.URL).RawBlockPage(ctx, 1, 3, true)
	var ce *client.Error
	if !errors.Is(err, ledger.ErrBadEncoding) || errors.As(err, &ce) {
		t.Errorf("RawBlockPage of half a page = %v, want a decoding error, not the node's", err)
	}
}
