package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/api/apitest"
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
)

// committed returns a backend with genesis and two blocks: alice pays bob
// 30, then 40.
func committed(t *testing.T) (*apitest.Backend, []*ledger.Tx) {
	t.Helper()
	b := apitest.Funded(false, 100, alice)
	txs := []*ledger.Tx{apitest.Transfer(alice, 0, bob.Address, 30), apitest.Transfer(alice, 1, bob.Address, 40)}
	for _, tx := range txs {
		if _, errs := b.Submit(context.Background(), []*ledger.Tx{tx}); errs[0] != nil {
			t.Fatal(errs[0])
		}
		b.Commit()
	}
	return b, txs
}

func TestGetTx(t *testing.T) {
	b, txs := committed(t)
	h := newHandler(t, b)
	r := get(t, h, "/v1/transactions/"+txs[1].ID().String())
	if r.code != 200 {
		t.Fatalf("status = %d, want 200 (%s)", r.code, r.body)
	}
	v := decode[api.TxView](t, r)
	if v.ID != txs[1].ID() || v.Block != 2 || v.Index != 0 || v.Nonce != 1 || v.From != alice.Address {
		t.Errorf("view = %+v, want tx %s nonce 1 in block 2", v, txs[1].ID())
	}
	if v.To == nil || *v.To != bob.Address || v.Amount == nil || *v.Amount != 40 {
		t.Errorf("to, amount = %v, %v, want %s, 40", v.To, v.Amount, bob.Address)
	}
	if v.Contract != token.Address || v.Function != token.FuncTransfer || string(v.Input) != string(txs[1].Args) {
		t.Errorf("call = %s %s %x, want the token transfer", v.Contract, v.Function, v.Input)
	}
	if v.Status != ledger.StatusOK || v.GasUsed != token.TransferGas || v.Path != ledger.PathNative || v.GasLimit != token.TransferGas {
		t.Errorf("receipt fields = %v gas %d path %v, want ok %d native", v.Status, v.GasUsed, v.Path, token.TransferGas)
	}
	if v.Events == nil || v.ChainID != apitest.ChainID || v.Chain != ledger.Hot {
		t.Errorf("events, chain = %v, %q %v", v.Events, v.ChainID, v.Chain)
	}
}

func TestGetTxErrors(t *testing.T) {
	b, _ := committed(t)
	h := newHandler(t, b)
	pending := apitest.Transfer(alice, 2, bob.Address, 1)
	b.Submit(context.Background(), []*ledger.Tx{pending})
	tests := []struct {
		name, id string
		status   int
		code     string
	}{
		{"unknown", ledger.Hash{1}.String(), 404, "not_found"},
		{"pending is not found yet", pending.ID().String(), 404, "not_found"},
		{"short", "abcd", 400, "bad_hash"},
		{"not hex", "zz" + ledger.Hash{}.String()[2:], 400, "bad_hash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, get(t, h, "/v1/transactions/"+tt.id), tt.status, tt.code)
		})
	}
}

func TestGetBlock(t *testing.T) {
	b, txs := committed(t)
	h := newHandler(t, b)
	tests := []struct {
		target string
		height uint64
		txs    int
		writes bool
	}{
		{"/v1/blocks/0", 0, 0, false},
		{"/v1/blocks/1", 1, 1, false},
		{"/v1/blocks/2?writes=true", 2, 1, true},
		{"/v1/blocks/latest", 2, 1, false},
		{"/v1/blocks/latest?writes=1", 2, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			r := get(t, h, tt.target)
			if r.code != 200 {
				t.Fatalf("status = %d, want 200 (%s)", r.code, r.body)
			}
			v := decode[api.BlockView](t, r)
			want, _ := b.Block(context.Background(), tt.height)
			if v.Height != tt.height || v.Hash != want.Header.Hash() || v.TxCount != tt.txs || len(v.Txs) != tt.txs {
				t.Errorf("block = height %d hash %s, %d txs, want %d %s %d", v.Height, v.Hash, len(v.Txs), tt.height, want.Header.Hash(), tt.txs)
			}
			if tt.height > 0 && v.Txs[0].ID != txs[tt.height-1].ID() {
				t.Errorf("tx = %s, want %s", v.Txs[0].ID, txs[tt.height-1].ID())
			}
			if (len(v.Writes) > 0) != tt.writes {
				t.Errorf("%d writes, want writes %v", len(v.Writes), tt.writes)
			}
		})
	}
}

func TestGetBlockErrors(t *testing.T) {
	b, _ := committed(t)
	h := newHandler(t, b)
	tests := []struct {
		target string
		status int
		code   string
	}{
		{"/v1/blocks/3", 404, "not_found"},
		{"/v1/blocks/abc", 400, "bad_request"},
		{"/v1/blocks/-1", 400, "bad_request"},
		{"/v1/blocks/1?writes=maybe", 400, "bad_request"},
		{"/v1/blocks/99999999999999999999", 400, "bad_request"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) { wantError(t, get(t, h, tt.target), tt.status, tt.code) })
	}
}

func TestGetBlocks(t *testing.T) {
	b, _ := committed(t)
	h := newHandler(t, b)
	tests := []struct {
		query   string
		heights []uint64
	}{
		{"from=0&to=2", []uint64{0, 1, 2}},
		{"from=1&to=1", []uint64{1}},
		{"from=1", []uint64{1, 2}},
		{"from=0&to=50", []uint64{0, 1, 2}},
		{"from=3", nil},
		{"from=18446744073709551615", nil},
		{"from=1&to=100", []uint64{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := get(t, h, "/v1/blocks?"+tt.query)
			if r.code != 200 {
				t.Fatalf("status = %d, want 200 (%s)", r.code, r.body)
			}
			page := decode[api.BlocksPage](t, r)
			if page.Blocks == nil || len(page.Blocks) != len(tt.heights) || page.Next != 0 {
				t.Fatalf("page = %d blocks, next %d; want %v", len(page.Blocks), page.Next, tt.heights)
			}
			for i, want := range tt.heights {
				if page.Blocks[i].Height != want {
					t.Errorf("block %d height = %d, want %d", i, page.Blocks[i].Height, want)
				}
			}
		})
	}
}

func TestGetBlocksErrors(t *testing.T) {
	b, _ := committed(t)
	h := newHandler(t, b)
	for _, q := range []string{"", "to=2", "from=x", "from=2&to=1", "from=0&to=100", "from=0&to=y", "from=0&writes=2"} {
		t.Run(q, func(t *testing.T) { wantError(t, get(t, h, "/v1/blocks?"+q), 400, "bad_request") })
	}
}

// bigBlocks is a Backend whose every block holds 6,000 unsigned txs.
type bigBlocks struct{ *apitest.Backend }

func (bigBlocks) Status(context.Context) (api.Status, error) { return api.Status{Height: 5}, nil }

func (bigBlocks) Block(_ context.Context, h uint64) (*ledger.Block, error) {
	b := &ledger.Block{Header: ledger.Header{Height: h}, Txs: make([]ledger.Tx, 6000), Receipts: make([]ledger.Receipt, 6000)}
	for i := range b.Txs {
		b.Txs[i] = ledger.Tx{ChainID: "big", Chain: ledger.Hot, Nonce: uint64(i), Function: "f"}
		b.Receipts[i] = ledger.Receipt{Path: ledger.PathNative}
	}
	return b, nil
}

func TestGetBlocksCutAtTxLimit(t *testing.T) {
	h := newHandler(t, bigBlocks{apitest.Funded(false, 1)})
	page := decode[api.BlocksPage](t, get(t, h, "/v1/blocks?from=1&to=5"))
	if len(page.Blocks) != 2 || page.Next != 3 {
		t.Errorf("page = %d blocks, next %d; want 2 blocks, next 3", len(page.Blocks), page.Next)
	}
}

func TestGetAccount(t *testing.T) {
	b, _ := committed(t)
	h := newHandler(t, b)
	tests := []struct {
		addr           string
		balance, nonce uint64
	}{
		{alice.Address.String(), 30, 2},
		{bob.Address.String(), 70, 0},
		{carol.Address.String()[2:], 0, 0}, // without the prefix
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			a := decode[ledger.Account](t, get(t, h, "/v1/accounts/"+tt.addr))
			if a.Balance != tt.balance || a.Nonce != tt.nonce {
				t.Errorf("account = %+v, want balance %d nonce %d", a, tt.balance, tt.nonce)
			}
		})
	}
	wantError(t, get(t, h, "/v1/accounts/dc1234"), 400, "bad_address")
}

func TestGetStatus(t *testing.T) {
	b, _ := committed(t)
	r := get(t, newHandler(t, b), "/v1/status")
	if r.code != http.StatusOK {
		t.Fatalf("status = %d (%s)", r.code, r.body)
	}
	st := decode[api.Status](t, r)
	want, _ := b.Status(context.Background())
	if st != want {
		t.Errorf("status = %+v, want %+v", st, want)
	}
	if st.Height != 2 || st.ChainID != apitest.ChainID {
		t.Errorf("status height %d chain %q, want 2 %q", st.Height, st.ChainID, apitest.ChainID)
	}
}

// noGenesis is a Backend that keeps no block at height 0.
type noGenesis struct{ *apitest.Backend }

func (n noGenesis) Block(ctx context.Context, h uint64) (*ledger.Block, error) {
	if h == 0 {
		return nil, apitest.Errorf("not_found", "no block 0")
	}
	return n.Backend.Block(ctx, h)
}

func TestGetBlocksWithoutGenesis(t *testing.T) {
	b, _ := committed(t)
	h := newHandler(t, noGenesis{b})
	page := decode[api.BlocksPage](t, get(t, h, "/v1/blocks?from=0&to=2"))
	if len(page.Blocks) != 2 || page.Blocks[0].Height != 1 {
		t.Errorf("page = %d blocks, want blocks 1 and 2", len(page.Blocks))
	}
	wantError(t, get(t, h, "/v1/blocks/0"), 404, "not_found")
}

// TestGetLatestBlockAtGenesis checks /v1/blocks/latest before any block:
// the genesis block if the backend serves it, else a 404 that says so.
func TestGetLatestBlockAtGenesis(t *testing.T) {
	fresh := apitest.Funded(false, 100, alice)
	withBlocks, _ := committed(t)
	tests := []struct {
		name   string
		b      api.Backend
		status int
		height uint64
		msg    string
	}{
		{"genesis served", fresh, 200, 0, ""},
		{"genesis not served", noGenesis{apitest.Funded(false, 100, alice)}, 404, 0, "no block has been produced yet"},
		{"genesis not served, later blocks", noGenesis{withBlocks}, 200, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, newHandler(t, tt.b), "/v1/blocks/latest")
			if tt.status != 200 {
				if e := wantError(t, r, tt.status, "not_found"); !strings.Contains(e.Message, tt.msg) {
					t.Errorf("message = %q, want it to say %q", e.Message, tt.msg)
				}
				return
			}
			if r.code != 200 {
				t.Fatalf("status = %d, want 200 (%s)", r.code, r.body)
			}
			if v := decode[api.BlockView](t, r); v.Height != tt.height {
				t.Errorf("latest height = %d, want %d", v.Height, tt.height)
			}
		})
	}
}
