package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/api/apitest"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
)

// TestBridgeRoundTrip settles, transfers on the cold chain and deposits
// back through the client, checking each tx as the node recorded it and
// the balances on both chains.
func TestBridgeRoundTrip(t *testing.T) {
	ctx := context.Background()
	b := apitest.FundedCold(true, 100, alice)
	c, _ := serve(t, b)

	settle, err := c.Settle(ctx, alice, 30, true)
	wantCommitted(t, "Settle", settle, err, 1)
	wantTx(t, c, settle.ID, ledger.Hot, 0, ledger.BridgeAddress, ledger.FuncSettle, ledger.EncodeAmount(30), client.BridgeGas)
	b.Checkpoint() // cold block 1 credits the settle

	// Cold nonces are the cold account's: alice's hot nonce is 1 by now.
	cold, err := c.TransferCold(ctx, alice, bob.Address, 5, true)
	wantCommitted(t, "TransferCold", cold, err, 2)
	wantTx(t, c, cold.ID, ledger.Cold, 0, token.Address, token.FuncTransfer, token.EncodeTransfer(bob.Address, 5), token.TransferGas)

	dep, err := c.Deposit(ctx, alice, 10, true)
	wantCommitted(t, "Deposit", dep, err, 3)
	wantTx(t, c, dep.ID, ledger.Cold, 1, ledger.BridgeAddress, ledger.FuncDeposit, ledger.EncodeAmount(10), client.BridgeGas)

	wantBalance(t, "hot alice", c.Account, alice.Address, 80)
	wantBalance(t, "cold alice", c.ColdAccount, alice.Address, 15)
	wantBalance(t, "cold bob", c.ColdAccount, bob.Address, 5)
	for _, id := range []ledger.Hash{settle.ID, dep.ID} {
		tr, err := c.BridgeTransfer(ctx, id)
		if err != nil || !tr.Done() || tr.Proof == nil || tr.Owner != alice.Address {
			t.Errorf("BridgeTransfer(%s) = %+v, %v; want alice's, done with a proof", id, tr, err)
		}
	}
	a, err := c.Audit(ctx)
	if err != nil || !a.Conserved() || a.HotBalances != 80 || a.ColdBalances != 20 || a.Supply != 100 {
		t.Errorf("Audit = %+v, %v; want 80 hot + 20 cold = 100", a, err)
	}
}

func wantCommitted(t *testing.T, what string, r api.TxResult, err error, block uint64) {
	t.Helper()
	if err != nil || r.Status != api.StatusCommitted || r.Block != block || r.Receipt == nil || r.Receipt.Status != ledger.StatusOK {
		t.Fatalf("%s = %+v, %v; want committed ok in block %d", what, r, err, block)
	}
}

// wantTx checks the tx the node committed as id.
func wantTx(t *testing.T, c *client.Client, id ledger.Hash, chain ledger.Chain, nonce uint64, contract ledger.Address, function string, args []byte, gas uint64) {
	t.Helper()
	v, err := c.Tx(context.Background(), id)
	if err != nil {
		t.Fatalf("Tx(%s): %v", id, err)
	}
	if v.Chain != chain || v.Nonce != nonce || v.Contract != contract || v.Function != function ||
		string(v.Input) != string(args) || v.GasLimit != gas || v.From != alice.Address || v.ChainID != apitest.ChainID {
		t.Errorf("tx %s = %+v, want %v nonce %d %s %s(%x) gas %d from alice", id, v, chain, nonce, contract, function, args, gas)
	}
}

func wantBalance(t *testing.T, what string, get func(context.Context, ledger.Address) (ledger.Account, error), addr ledger.Address, want uint64) {
	t.Helper()
	a, err := get(context.Background(), addr)
	if err != nil || a.Balance != want || a.Address != addr {
		t.Errorf("%s = %+v, %v; want balance %d", what, a, err, want)
	}
}

func TestColdReads(t *testing.T) {
	ctx := context.Background()
	b := apitest.FundedCold(true, 100, alice)
	c, _ := serve(t, b)
	if _, err := c.ColdBlock(ctx, 0); err == nil {
		t.Fatal("ColdBlock(0) before any cold block: no error")
	}
	if _, err := c.Settle(ctx, alice, 40, true); err != nil {
		t.Fatal(err)
	}
	b.Checkpoint()
	b.Checkpoint()
	for _, tt := range []struct{ ask, want uint64 }{{0, 2}, {1, 1}, {2, 2}} {
		blk, err := c.ColdBlock(ctx, tt.ask)
		if err != nil || blk.Header.Height != tt.want {
			t.Errorf("ColdBlock(%d) = %+v, %v; want height %d", tt.ask, blk, err, tt.want)
		}
		cp, err := c.ColdProof(ctx, alice.Address, tt.ask)
		if err != nil {
			t.Fatalf("ColdProof(alice, %d): %v", tt.ask, err)
		}
		p, err := ledger.ParseProof(cp.Proof)
		if err != nil || p.Verify(cp.Root) != nil || !p.Included() || p.Account.Balance != 40 || cp.Height != tt.want {
			t.Errorf("ColdProof(alice, %d) = %+v (%s), %v; want a valid proof of 40 at height %d", tt.ask, cp, cp.Proof, err, tt.want)
		}
	}
	_, err := c.ColdBlock(ctx, 3)
	wantError(t, err, api.CodeNotFound, http.StatusNotFound)
}

func TestColdUnsupported(t *testing.T) {
	ctx := context.Background()
	c, _ := serve(t, apitest.Funded(true, 100, alice))
	calls := map[string]func() error{
		"ColdAccount":    func() error { _, err := c.ColdAccount(ctx, alice.Address); return err },
		"ColdBlock":      func() error { _, err := c.ColdBlock(ctx, 0); return err },
		"ColdProof":      func() error { _, err := c.ColdProof(ctx, alice.Address, 1); return err },
		"BridgeTransfer": func() error { _, err := c.BridgeTransfer(ctx, ledger.Hash{1}); return err },
		"Audit":          func() error { _, err := c.Audit(ctx); return err },
		"Deposit":        func() error { _, err := c.Deposit(ctx, alice, 1, false); return err },
		"TransferCold":   func() error { _, err := c.TransferCold(ctx, alice, bob.Address, 1, false); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) { wantError(t, call(), api.CodeUnsupported, http.StatusBadRequest) })
	}
}

func TestBridgeZeroAmount(t *testing.T) {
	ctx := context.Background()
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { requests.Add(1) }))
	defer srv.Close()
	c := client.New(srv.URL)
	for name, call := range map[string]func() error{
		"Settle":       func() error { _, err := c.Settle(ctx, alice, 0, false); return err },
		"Deposit":      func() error { _, err := c.Deposit(ctx, alice, 0, false); return err },
		"TransferCold": func() error { _, err := c.TransferCold(ctx, alice, bob.Address, 0, false); return err },
	} {
		if err := call(); !errors.Is(err, client.ErrZeroAmount) {
			t.Errorf("%s of 0 = %v, want ErrZeroAmount", name, err)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests sent for zero amounts, want none", n)
	}
}

// TestSettleResendsWhileNoLeader refuses the first submission with
// no_leader: Settle sends the same signed tx again.
func TestSettleResendsWhileNoLeader(t *testing.T) {
	b := apitest.FundedCold(true, 100, alice)
	h := api.New(b, api.TestConfig()).Handler()
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && posts.Add(1) == 1 {
			w.Header().Set("Content-Type", api.MediaJSON)
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"error":{"code":"no_leader","message":"election under way"}}`))
			return
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	res, err := client.New(srv.URL).Settle(context.Background(), alice, 10, true)
	wantCommitted(t, "Settle", res, err, 1)
	if n := posts.Load(); n != 2 {
		t.Errorf("%d submissions, want 2 (one refused, one resent)", n)
	}
}

// stepper runs the chain one step further each time the bridge transfer is
// asked for, so WaitBridge sees it unknown, pending, then done.
type stepper struct {
	b     *apitest.ColdBackend
	h     http.Handler
	mu    sync.Mutex
	asked int
	steps map[int]func()
}

func (s *stepper) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/v1/bridge/transfers/") {
		s.mu.Lock()
		s.asked++
		if f := s.steps[s.asked]; f != nil {
			f()
		}
		s.mu.Unlock()
	}
	s.h.ServeHTTP(w, r)
}

func TestWaitBridge(t *testing.T) {
	ctx := context.Background()
	b := apitest.FundedCold(false, 100, alice)
	s := &stepper{b: b, h: api.New(b, api.TestConfig()).Handler()}
	s.steps = map[int]func(){3: func() { b.Commit() }, 5: func() { b.Checkpoint() }}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := client.New(srv.URL)
	res, err := c.Settle(ctx, alice, 25, false)
	if err != nil || res.Status != api.StatusPending {
		t.Fatalf("Settle = %+v, %v; want pending", res, err)
	}
	tr, err := c.WaitBridge(ctx, res.ID, time.Millisecond)
	if err != nil || tr.Status != api.BridgeCheckpointed || tr.ID != res.ID || tr.Amount != 25 || tr.ColdHeight != 1 {
		t.Fatalf("WaitBridge = %+v, %v; want checkpointed at cold height 1", tr, err)
	}
	if s.asked != 5 {
		t.Errorf("asked %d times, want 5 (2 unknown, 2 pending, then done)", s.asked)
	}
}

func TestWaitBridgeEnds(t *testing.T) {
	b := apitest.FundedCold(false, 100, alice)
	c, _ := serve(t, b)
	settle := apitest.Settle(alice, 0, 5)
	if _, errs := b.Submit(context.Background(), []*ledger.Tx{settle}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	wait := func() (api.BridgeTransfer, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		return c.WaitBridge(ctx, settle.ID(), time.Millisecond)
	}
	// Never known: the node's not_found.
	_, err := wait()
	wantError(t, err, api.CodeNotFound, http.StatusNotFound)
	// Known and pending: the last status, and the deadline.
	b.Commit()
	tr, err := wait()
	if !errors.Is(err, context.DeadlineExceeded) || tr.Status != api.BridgePending || tr.ID != settle.ID() {
		t.Errorf("WaitBridge on a pending transfer = %+v, %v; want it pending and the deadline", tr, err)
	}
	// An error that waiting cannot cure ends the wait at once.
	hot, _ := serve(t, apitest.Funded(false, 1, alice))
	_, err = hot.WaitBridge(context.Background(), settle.ID(), time.Millisecond)
	wantError(t, err, api.CodeUnsupported, http.StatusBadRequest)
}

// ExampleClient_WaitBridge settles tokens from the hot chain to the cold one
// and waits until a checkpoint has credited them, then checks the proof
// that came with the transfer. (Here the node is an in-memory stand-in
// whose checkpoint is made by hand.)
func ExampleClient_WaitBridge() {
	owner := apitest.Key(1)
	b := apitest.FundedCold(true, 1000, owner)
	node := httptest.NewServer(api.New(b, api.Config{}).Handler())
	defer node.Close()

	ctx := context.Background()
	c := client.New(node.URL)
	res, err := c.Settle(ctx, owner, 300, true)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("settle", res.Status, "in hot block", res.Block)
	b.Checkpoint() // the node checkpoints about every second

	tr, err := c.WaitBridge(ctx, res.ID, 0)
	if err != nil {
		log.Fatal(err)
	}
	p, err := ledger.ParseProof(tr.Proof.Proof)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tr.Kind, tr.Amount, tr.Status, "at cold height", tr.ColdHeight)
	fmt.Println("proof verifies:", p.Verify(tr.Proof.Root) == nil, "cold balance", p.Account.Balance)
	// Output:
	// settle committed in hot block 1
	// settle 300 checkpointed at cold height 1
	// proof verifies: true cold balance 300
}
