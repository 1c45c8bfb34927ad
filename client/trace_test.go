package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/api/apitest"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/ledger"
)

// tracedChain returns a backend of head blocks of one transfer each, every
// transfer traced but those with a nonce divisible by 3.
func tracedChain(t *testing.T, head int) (*apitest.Backend, []ledger.Hash) {
	t.Helper()
	b := apitest.NewBackend(apitest.Config{
		ChainID: apitest.ChainID, Alloc: []ledger.Allocation{{Address: alice.Address, Amount: 1000}},
		Trace: func(rec *ledger.TxRecord) *ledger.Trace {
			if rec.Tx.Nonce%3 == 0 {
				return nil
			}
			return apitest.FakeTrace(rec)
		},
	})
	var ids []ledger.Hash
	for i := range uint64(head) {
		ids2, errs := b.Submit(context.Background(), []*ledger.Tx{apitest.Transfer(alice, i, bob.Address, 1)})
		if errs[0] != nil {
			t.Fatal(errs[0])
		}
		b.Commit()
		ids = append(ids, ids2[0])
	}
	return b, ids
}

func TestTraces(t *testing.T) {
	ctx := context.Background()
	b, ids := tracedChain(t, 6)
	c, _ := serve(t, b)
	for i, id := range ids {
		want, err := b.Trace(ctx, id)
		if i%3 == 0 {
			_, err := c.Trace(ctx, id)
			wantError(t, err, api.CodeNotFound, http.StatusNotFound)
			v, verr := c.TxWithTrace(ctx, id)
			if verr != nil || v.Trace != nil || v.ID != id {
				t.Errorf("TxWithTrace(%d) = %+v, %v; want the tx, no trace", i, v, verr)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Trace(ctx, id)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Trace(%d) = %+v, %v; want %+v", i, got, err, want)
		}
		v, err := c.TxWithTrace(ctx, id)
		if err != nil || v.ID != id || !reflect.DeepEqual(v.Trace, want) {
			t.Errorf("TxWithTrace(%d) = %+v, %v; want the tx with %+v", i, v, err, want)
		}
	}
	_, err := c.Trace(ctx, ledger.Hash{7})
	wantError(t, err, api.CodeNotFound, http.StatusNotFound)
}

func TestBlockPage(t *testing.T) {
	ctx := context.Background()
	b, ids := tracedChain(t, 6)
	c, _ := serve(t, b)
	for _, traces := range []bool{false, true} {
		page, err := c.BlockPage(ctx, 1, 10, traces)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Blocks) != 6 || page.Next != 0 || page.Blocks[0].Height != 1 {
			t.Fatalf("BlockPage(1, 10, %v) = %d blocks, next %d; want 1..6", traces, len(page.Blocks), page.Next)
		}
		for i, bv := range page.Blocks {
			v := bv.Txs[0]
			want, _ := b.Trace(ctx, ids[i])
			if !traces {
				want = nil
			}
			if v.ID != ids[i] || !reflect.DeepEqual(v.Trace, want) {
				t.Errorf("BlockPage(traces %v) tx %d = %s with %+v, want %s with %+v", traces, i, v.ID, v.Trace, ids[i], want)
			}
		}
	}
	_, err := c.BlockPage(ctx, 5, 2, true)
	wantError(t, err, api.CodeBadRequest, http.StatusBadRequest)
}

func TestColdBlockPage(t *testing.T) {
	ctx := context.Background()
	b := apitest.FundedCold(true, 100, alice)
	c, _ := serve(t, b)
	page, err := c.ColdBlockPage(ctx, 1, 10)
	if err != nil || len(page.Blocks) != 0 || page.Next != 0 {
		t.Fatalf("ColdBlockPage before any cold block = %+v, %v; want an empty page", page, err)
	}
	if _, err := c.Settle(ctx, alice, 40, true); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		b.Checkpoint()
	}
	for _, tt := range []struct{ from, to, first, n uint64 }{{1, 10, 1, 3}, {2, 2, 2, 1}, {3, 100, 3, 1}, {4, 9, 0, 0}} {
		page, err := c.ColdBlockPage(ctx, tt.from, tt.to)
		if err != nil || uint64(len(page.Blocks)) != tt.n || page.Next != 0 {
			t.Fatalf("ColdBlockPage(%d, %d) = %+v, %v; want %d blocks", tt.from, tt.to, page, err, tt.n)
		}
		for i, blk := range page.Blocks {
			want, _ := b.ColdBlock(ctx, tt.first+uint64(i))
			if blk.Header != want.Header {
				t.Errorf("ColdBlockPage(%d, %d)[%d] = %+v, want %+v", tt.from, tt.to, i, blk.Header, want.Header)
			}
		}
	}
	_, err = c.ColdBlockPage(ctx, 0, 5)
	wantError(t, err, api.CodeBadRequest, http.StatusBadRequest)
	_, err = c.ColdBlockPage(ctx, 1, 500)
	wantError(t, err, api.CodeBadRequest, http.StatusBadRequest)
	plain, _ := serve(t, apitest.Funded(true, 100, alice))
	_, err = plain.ColdBlockPage(ctx, 1, 5)
	wantError(t, err, api.CodeUnsupported, http.StatusBadRequest)
}

// TestServerPeaks reads the server's peaks through the client, as the
// exporter's tests do.
func TestServerPeaks(t *testing.T) {
	ctx := context.Background()
	b, _ := tracedChain(t, 1)
	s := api.New(b, api.TestConfig())
	srv := newCountedServer(t, s)
	c := newClient(srv)
	for range 3 {
		if _, err := c.Status(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]float64{
		"dualchain_api_connections_peak":        1, // the client keeps its one connection alive
		"dualchain_api_requests_in_flight_peak": 1,
		"dualchain_api_requests_in_flight":      0,
	} {
		if got, err := c.Metric(ctx, name); err != nil || got != want {
			t.Errorf("Metric(%s) = %v, %v; want %v", name, got, err, want)
		}
	}
}

// newCountedServer serves s with its connections counted, as a node does.
func newCountedServer(t *testing.T, s *api.Server) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(s.Handler())
	srv.Config.ConnState = s.ConnState
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func newClient(srv *httptest.Server) *client.Client { return client.New(srv.URL) }
