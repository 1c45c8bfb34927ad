package client_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/api/apitest"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/ledger"
)

var (
	alice = apitest.Key(1)
	bob   = apitest.Key(2)
)

// serve runs the API over b and returns a client for it.
func serve(t *testing.T, b api.Backend) (*client.Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(api.New(b, api.TestConfig()).Handler())
	t.Cleanup(srv.Close)
	return client.New(srv.URL + "/"), srv
}

func wantError(t *testing.T, err error, code string, status int) {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v (%T), want *client.Error", err, err)
	}
	if ce.Code != code || ce.HTTPStatus != status || ce.Message == "" {
		t.Errorf("error = %+v, want code %q, HTTP %d and a message", ce, code, status)
	}
}

func TestSubmit(t *testing.T) {
	ctx := context.Background()
	b := apitest.Funded(false, 100, alice)
	c, _ := serve(t, b)
	tests := []struct {
		name string
		txs  []*ledger.Tx
	}{
		{"one", []*ledger.Tx{apitest.Transfer(alice, 0, bob.Address, 1)}},
		{"batch", []*ledger.Tx{apitest.Transfer(alice, 1, bob.Address, 1), apitest.Transfer(alice, 2, bob.Address, 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Submit(ctx, tt.txs...)
			if err != nil {
				t.Fatalf("Submit: %v", err)
			}
			for i, r := range res {
				if r.ID != tt.txs[i].ID() || r.Status != api.StatusPending || client.ResultError(r) != nil {
					t.Errorf("result %d = %+v, want pending %s", i, r, tt.txs[i].ID())
				}
			}
		})
	}
	if st, _ := b.Status(ctx); st.Mempool != 3 {
		t.Errorf("mempool = %d, want 3", st.Mempool)
	}
	if _, err := c.Submit(ctx); err == nil {
		t.Error("Submit() with no txs: no error")
	}
}

func TestSubmitRejected(t *testing.T) {
	ctx := context.Background()
	c, _ := serve(t, apitest.Funded(false, 100, alice))
	gap := apitest.Transfer(alice, 5, bob.Address, 1)
	res, err := c.Submit(ctx, gap)
	wantError(t, err, "nonce_too_high", http.StatusConflict)
	if len(res) != 1 || res[0].ID != gap.ID() || res[0].Status != api.StatusRejected {
		t.Errorf("results = %+v, want the rejected tx", res)
	}

	res, err = c.Submit(ctx, apitest.Transfer(alice, 0, bob.Address, 1), gap)
	if err != nil {
		t.Fatalf("Submit partly rejected: %v, want no error", err)
	}
	if client.ResultError(res[0]) != nil {
		t.Errorf("ResultError(%+v) = %v, want nil", res[0], client.ResultError(res[0]))
	}
	wantError(t, client.ResultError(res[1]), "nonce_too_high", http.StatusConflict)
}

func TestSubmitWait(t *testing.T) {
	ctx := context.Background()
	c, _ := serve(t, apitest.Funded(true, 100, alice))
	tx := apitest.Transfer(alice, 0, bob.Address, 40)
	res, err := c.SubmitWait(ctx, tx)
	if err != nil {
		t.Fatalf("SubmitWait: %v", err)
	}
	if res[0].Status != api.StatusCommitted || res[0].Block != 1 || res[0].Receipt.Status != ledger.StatusOK {
		t.Fatalf("result = %+v, want committed ok in block 1", res[0])
	}
	v, err := c.Tx(ctx, tx.ID())
	if err != nil {
		t.Fatalf("Tx: %v", err)
	}
	if v.ID != tx.ID() || v.Amount == nil || *v.Amount != 40 || v.Block != 1 {
		t.Errorf("Tx = %+v, want amount 40 in block 1", v)
	}
	a, err := c.Account(ctx, bob.Address)
	if err != nil || a.Balance != 40 || a.Address != bob.Address {
		t.Errorf("Account(bob) = %+v, %v; want balance 40", a, err)
	}
}

func TestReadErrors(t *testing.T) {
	ctx := context.Background()
	c, _ := serve(t, apitest.Funded(false, 100, alice))
	_, err := c.Tx(ctx, ledger.Hash{7})
	wantError(t, err, "not_found", http.StatusNotFound)
	_, err = c.Block(ctx, 9)
	wantError(t, err, "not_found", http.StatusNotFound)
}

func TestBlocks(t *testing.T) {
	ctx := context.Background()
	b := apitest.Funded(false, 1000, alice)
	const head = 120
	for i := range uint64(head) {
		b.Submit(ctx, []*ledger.Tx{apitest.Transfer(alice, i, bob.Address, 1)})
		b.Commit()
	}
	c, _ := serve(t, b)
	tests := []struct {
		from, to uint64
		want     int
	}{
		{0, head, head + 1},
		{5, 5, 1},
		{0, 1000, head + 1},
		{110, 1 << 62, head - 110 + 1},
		{head + 1, head + 5, 0},
	}
	for _, tt := range tests {
		bs, err := c.Blocks(ctx, tt.from, tt.to)
		if err != nil {
			t.Fatalf("Blocks(%d, %d): %v", tt.from, tt.to, err)
		}
		if len(bs) != tt.want {
			t.Fatalf("Blocks(%d, %d) = %d blocks, want %d", tt.from, tt.to, len(bs), tt.want)
		}
		for i, blk := range bs {
			if blk.Height != tt.from+uint64(i) {
				t.Fatalf("Blocks(%d, %d)[%d] height = %d, want %d", tt.from, tt.to, i, blk.Height, tt.from+uint64(i))
			}
		}
	}
	if _, err := c.Blocks(ctx, 3, 2); err == nil {
		t.Error("Blocks(3, 2): no error")
	}
	latest, err := c.LatestBlock(ctx)
	if err != nil || latest.Height != head {
		t.Errorf("LatestBlock = %v, %v; want height %d", latest, err, head)
	}
	one, err := c.Block(ctx, 7)
	if err != nil || one.Height != 7 || one.TxCount != 1 {
		t.Errorf("Block(7) = %v, %v; want height 7 with 1 tx", one, err)
	}
}

func TestStatus(t *testing.T) {
	c, _ := serve(t, apitest.Funded(false, 100, alice))
	st, err := c.Status(context.Background())
	if err != nil || st.ChainID != apitest.ChainID || st.Store != "memory" {
		t.Errorf("Status = %+v, %v; want chain %q on memory", st, err, apitest.ChainID)
	}
}

func TestUnexpectedResponse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream down", http.StatusBadGateway)
	}))
	defer srv.Close()
	_, err := client.New(srv.URL).Status(context.Background())
	wantError(t, err, client.CodeUnexpectedResponse, http.StatusBadGateway)
}

func TestTransportErrors(t *testing.T) {
	c, srv := serve(t, apitest.Funded(false, 100, alice))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Status(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Status(canceled ctx) = %v, want context.Canceled", err)
	}
	srv.Close()
	_, err := c.Status(context.Background())
	var ce *client.Error
	if err == nil || errors.As(err, &ce) {
		t.Errorf("Status(closed server) = %v, want a transport error", err)
	}
}

// TestKeepAlive checks that sequential requests reuse one connection.
func TestKeepAlive(t *testing.T) {
	var dials atomic.Int32
	srv := httptest.NewUnstartedServer(api.New(apitest.Funded(false, 100, alice), api.TestConfig()).Handler())
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dials.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := client.New(srv.URL, client.WithMaxConns(4))
	ctx := context.Background()
	for range 20 {
		if _, err := c.Status(ctx); err != nil {
			t.Fatal(err)
		}
		c.Tx(ctx, ledger.Hash{1}) // an error response must not cost a connection
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("%d connections for 40 sequential requests, want 1", n)
	}
}

// noGenesis is a Backend that keeps no block at height 0, as the node.
type noGenesis struct{ *apitest.Backend }

func (n noGenesis) Block(ctx context.Context, h uint64) (*ledger.Block, error) {
	if h == 0 {
		return nil, apitest.Errorf("not_found", "no block 0")
	}
	return n.Backend.Block(ctx, h)
}

func TestLatestBlockAtGenesis(t *testing.T) {
	tests := []struct {
		name string
		b    api.Backend
		code string // "" for the genesis block
	}{
		{"genesis served", apitest.Funded(false, 100, alice), ""},
		{"genesis not served", noGenesis{apitest.Funded(false, 100, alice)}, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := serve(t, tt.b)
			v, err := c.LatestBlock(context.Background())
			if tt.code != "" {
				wantError(t, err, tt.code, http.StatusNotFound)
				return
			}
			if err != nil || v.Height != 0 {
				t.Errorf("LatestBlock = %+v, %v; want the genesis block", v, err)
			}
		})
	}
}

// While the cluster has no leader, Submit sends the same transactions
// again until one answers; other refusals are returned at once.
func TestSubmitRetriesWhileNoLeader(t *testing.T) {
	tx := apitest.Transfer(alice, 0, bob.Address, 1)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", api.MediaJSON)
		switch calls.Add(1) {
		case 1: // the whole request refused
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"error":{"code":"no_leader","message":"election under way"}}`))
		case 2: // the old leader stepped down with the tx in its pool
			w.Write([]byte(`{"results":[{"id":"` + tx.ID().String() + `","status":"rejected","error":{"code":"not_leader","message":"resubmit"}}]}`))
		default:
			w.Write([]byte(`{"results":[{"id":"` + tx.ID().String() + `","status":"pending"}]}`))
		}
	}))
	defer srv.Close()
	res, err := client.New(srv.URL).Submit(context.Background(), tx)
	if err != nil || len(res) != 1 || res[0].Status != api.StatusPending || calls.Load() != 3 {
		t.Fatalf("Submit = %+v, %v after %d calls; want pending after 3", res, err, calls.Load())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	always := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", api.MediaJSON)
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"error":{"code":"no_leader","message":"no quorum"}}`))
	}))
	defer always.Close()
	_, err = client.New(always.URL).Submit(ctx, tx)
	wantError(t, err, "no_leader", http.StatusServiceUnavailable)
}
