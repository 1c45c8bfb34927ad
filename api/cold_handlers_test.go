package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/api/apitest"
	"github.com/dualchain/dualchain/ledger"
)

// bridged returns a cold backend where alice (100 hot) settled 30 and then
// moved 10 of it to bob on the cold chain: hot block 1 holds the settle,
// cold block 1 credits it, cold block 2 holds the cold transfer.
func bridged(t *testing.T) (*apitest.ColdBackend, *ledger.Tx) {
	t.Helper()
	b := apitest.FundedCold(false, 100, alice)
	settle := apitest.Settle(alice, 0, 30)
	submitOK(t, b, settle)
	b.Commit()
	b.Checkpoint()
	submitOK(t, b, apitest.ColdTransfer(alice, 0, bob.Address, 10))
	b.Checkpoint()
	return b, settle
}

func submitOK(t *testing.T, b api.Backend, txs ...*ledger.Tx) {
	t.Helper()
	if _, errs := b.Submit(context.Background(), txs); errors.Join(errs...) != nil {
		t.Fatalf("Submit: %v", errs)
	}
}

func TestColdUnsupported(t *testing.T) {
	h := newHandler(t, apitest.Funded(false, 100, alice))
	for _, path := range []string{
		"/v1/cold/accounts/" + alice.Address.String(),
		"/v1/cold/blocks/latest",
		"/v1/cold/blocks/1",
		"/v1/cold/proofs/" + alice.Address.String(),
		"/v1/bridge/transfers/" + ledger.Hash{1}.String(),
		"/v1/audit",
	} {
		t.Run(path, func(t *testing.T) {
			wantError(t, get(t, h, path), http.StatusBadRequest, api.CodeUnsupported)
		})
	}
}

func TestColdBadRequests(t *testing.T) {
	b, _ := bridged(t)
	h := newHandler(t, b)
	a := alice.Address.String()
	tests := []struct {
		name, path string
		code       string
	}{
		{"account short address", "/v1/cold/accounts/dc1234", api.CodeBadAddress},
		{"account not hex", "/v1/cold/accounts/dc" + ledger.Hash{}.String()[:62] + "zz", api.CodeBadAddress},
		{"block not a number", "/v1/cold/blocks/one", api.CodeBadRequest},
		{"block negative", "/v1/cold/blocks/-1", api.CodeBadRequest},
		{"block zero", "/v1/cold/blocks/0", api.CodeBadRequest},
		{"proof bad address", "/v1/cold/proofs/alice", api.CodeBadAddress},
		{"proof height not a number", "/v1/cold/proofs/" + a + "?height=x", api.CodeBadRequest},
		{"proof height zero", "/v1/cold/proofs/" + a + "?height=0", api.CodeBadRequest},
		{"proof height empty", "/v1/cold/proofs/" + a + "?height=", api.CodeBadRequest},
		{"transfer short id", "/v1/bridge/transfers/abcd", api.CodeBadHash},
		{"transfer id is an address", "/v1/bridge/transfers/" + a, api.CodeBadHash},
		{"bad consistency", "/v1/audit?consistency=eventual", api.CodeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, get(t, h, tt.path), http.StatusBadRequest, tt.code)
		})
	}
}

func TestColdNotFound(t *testing.T) {
	empty := newHandler(t, apitest.FundedCold(false, 100, alice))
	b, _ := bridged(t)
	h := newHandler(t, b)
	tests := []struct {
		name string
		h    http.Handler
		path string
	}{
		{"latest before any cold block", empty, "/v1/cold/blocks/latest"},
		{"proof before any cold block", empty, "/v1/cold/proofs/" + alice.Address.String()},
		{"block past the latest", h, "/v1/cold/blocks/3"},
		{"proof past the latest", h, "/v1/cold/proofs/" + alice.Address.String() + "?height=3"},
		{"unknown transfer", h, "/v1/bridge/transfers/" + ledger.Hash{7}.String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, get(t, tt.h, tt.path), http.StatusNotFound, api.CodeNotFound)
		})
	}
}

func TestGetColdAccount(t *testing.T) {
	b, _ := bridged(t)
	h := newHandler(t, b)
	tests := []struct {
		who  *ledger.Key
		want ledger.Account
	}{
		{alice, ledger.Account{Address: alice.Address, Balance: 20, Nonce: 1, PendingNonce: 1}},
		{bob, ledger.Account{Address: bob.Address, Balance: 10}},
		{carol, ledger.Account{Address: carol.Address}},
	}
	for _, tt := range tests {
		r := get(t, h, "/v1/cold/accounts/"+tt.who.Address.String())
		if got := decode[ledger.Account](t, r); got != tt.want {
			t.Errorf("cold account = %+v, want %+v", got, tt.want)
		}
	}
	// The pending nonce counts pending cold txs.
	submitOK(t, b, apitest.ColdTransfer(alice, 1, bob.Address, 1))
	got := decode[ledger.Account](t, get(t, h, "/v1/cold/accounts/"+alice.Address.String()))
	if got.Nonce != 1 || got.PendingNonce != 2 {
		t.Errorf("cold account with a pending tx = %+v, want nonce 1, pending nonce 2", got)
	}
}

func TestGetColdBlock(t *testing.T) {
	b, settle := bridged(t)
	h := newHandler(t, b)
	one := decode[ledger.ColdBlock](t, get(t, h, "/v1/cold/blocks/1"))
	if one.Header.Height != 1 || len(one.Settlements) != 1 || one.Settlements[0].ID != settle.ID() ||
		one.Settlements[0].Amount != 30 || one.Header.Checkpoint.HotHeight != 1 {
		t.Errorf("cold block 1 = %+v, want the settle of 30 checkpointed at hot height 1", one)
	}
	latest := decode[ledger.ColdBlock](t, get(t, h, "/v1/cold/blocks/latest"))
	two := decode[ledger.ColdBlock](t, get(t, h, "/v1/cold/blocks/2"))
	if latest.Header != two.Header || two.Header.Height != 2 || len(two.Txs) != 1 || len(two.Receipts) != 1 {
		t.Fatalf("latest = %+v, block 2 = %+v; want block 2 with one tx", latest.Header, two.Header)
	}
	if two.Header.Parent != one.Header.Hash() {
		t.Errorf("block 2 parent = %s, want block 1's hash %s", two.Header.Parent, one.Header.Hash())
	}
	// The JSON carries the block exactly: resealing it gives the same roots.
	sealed := two
	sealed.Seal()
	if sealed.Header != two.Header || two.Txs[0].ID() != two.Receipts[0].TxID {
		t.Errorf("block 2 does not survive JSON: resealed header %+v, served %+v", sealed.Header, two.Header)
	}
}

func TestGetColdProof(t *testing.T) {
	b, _ := bridged(t)
	h := newHandler(t, b)
	blocks := map[uint64]ledger.ColdHeader{}
	for _, height := range []uint64{1, 2} {
		blk, err := b.ColdBlock(context.Background(), height)
		if err != nil {
			t.Fatal(err)
		}
		blocks[height] = blk.Header
	}
	tests := []struct {
		name     string
		who      *ledger.Key
		query    string
		height   uint64
		included bool
		acct     ledger.ProofAccount
	}{
		{"alice latest", alice, "", 2, true, ledger.ProofAccount{Balance: 20, Nonce: 1}},
		{"alice at 1", alice, "?height=1", 1, true, ledger.ProofAccount{Balance: 30}},
		{"bob at 2", bob, "?height=2", 2, true, ledger.ProofAccount{Balance: 10}},
		{"bob at 1 is absent", bob, "?height=1", 1, false, ledger.ProofAccount{}},
		{"carol is absent", carol, "", 2, false, ledger.ProofAccount{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cp := decode[api.ColdProof](t, get(t, h, "/v1/cold/proofs/"+tt.who.Address.String()+tt.query))
			if cp.Height != tt.height || cp.Root != blocks[tt.height].StateRoot {
				t.Fatalf("proof at %d root %s, want height %d root %s", cp.Height, cp.Root, tt.height, blocks[tt.height].StateRoot)
			}
			p := verifiedProof(t, cp)
			if p.Address != tt.who.Address || p.Included() != tt.included {
				t.Fatalf("proof of %s included %v, want %s included %v", p.Address, p.Included(), tt.who.Address, tt.included)
			}
			if tt.included && *p.Account != tt.acct {
				t.Errorf("proved account = %+v, want %+v", *p.Account, tt.acct)
			}
		})
	}
}

// verifiedProof parses cp's proof and checks it against cp's root.
func verifiedProof(t *testing.T, cp api.ColdProof) *ledger.Proof {
	t.Helper()
	p, err := ledger.ParseProof(cp.Proof)
	if err != nil {
		t.Fatalf("ParseProof(%s) = %v", cp.Proof, err)
	}
	if err := p.Verify(cp.Root); err != nil {
		t.Fatalf("Verify(%s) = %v", cp.Root, err)
	}
	return p
}

func TestGetBridgeTransfer(t *testing.T) {
	b := apitest.FundedCold(false, 100, alice)
	h := newHandler(t, b)
	settle := apitest.Settle(alice, 0, 30)
	path := "/v1/bridge/transfers/" + settle.ID().String()
	submitOK(t, b, settle)
	wantError(t, get(t, h, path), http.StatusNotFound, api.CodeNotFound) // not committed yet

	b.Commit()
	pending := decode[api.BridgeTransfer](t, get(t, h, path))
	want := api.BridgeTransfer{ID: settle.ID(), Kind: ledger.KindSettle, Owner: alice.Address, Amount: 30,
		Status: api.BridgePending, HotHeight: 1}
	if pending != want || pending.Done() {
		t.Errorf("after the hot commit: %+v, want %+v", pending, want)
	}

	b.Checkpoint()
	done := decode[api.BridgeTransfer](t, get(t, h, path))
	if done.Status != api.BridgeCheckpointed || done.ColdHeight != 1 || done.HotHeight != 1 || done.Proof == nil {
		t.Fatalf("after the checkpoint: %+v, want checkpointed at cold height 1 with a proof", done)
	}
	p := verifiedProof(t, *done.Proof)
	if p.Address != alice.Address || !p.Included() || p.Account.Balance != 30 || done.Proof.Height != 1 {
		t.Errorf("proof = %+v at %d, want alice's 30 at cold height 1", p, done.Proof.Height)
	}
}

func TestGetAudit(t *testing.T) {
	b := apitest.FundedCold(false, 100, alice)
	h := newHandler(t, b)
	submitOK(t, b, apitest.Settle(alice, 0, 30), apitest.Transfer(alice, 1, bob.Address, 5))
	b.Commit()
	a := decode[api.Audit](t, get(t, h, "/v1/audit"))
	if a.Supply != 100 || a.HotBalances != 70 || a.InFlightSettles != 30 || a.ColdBalances != 0 || !a.Conserved() {
		t.Errorf("audit with a settle in flight = %+v, want 70 hot + 30 settling = 100", a)
	}
	b.Checkpoint()
	a = decode[api.Audit](t, get(t, h, "/v1/audit"))
	if a.HotBalances != 70 || a.ColdBalances != 30 || a.InFlightSettles != 0 || a.ColdHeight != 1 || a.HotHeight != 1 || !a.Conserved() {
		t.Errorf("audit after the checkpoint = %+v, want 70 hot + 30 cold at heights 1, 1", a)
	}
}

// brokenCold is a cold backend whose every answer is bad.
type brokenCold struct {
	*apitest.ColdBackend
	err   error
	proof json.RawMessage
}

func (b brokenCold) ColdAccount(context.Context, ledger.Address) (ledger.Account, error) {
	return ledger.Account{}, b.err
}

func (b brokenCold) ColdProof(context.Context, ledger.Address, uint64) (api.ColdProof, error) {
	return api.ColdProof{Height: 1, Proof: b.proof}, b.err
}

func (b brokenCold) BridgeTransfer(_ context.Context, id ledger.Hash) (api.BridgeTransfer, error) {
	return api.BridgeTransfer{ID: id, Status: api.BridgeCheckpointed, Proof: &api.ColdProof{Proof: b.proof}}, b.err
}

func (b brokenCold) Audit(context.Context) (api.Audit, error) { return api.Audit{}, b.err }

func TestColdBackendErrors(t *testing.T) {
	a := alice.Address.String()
	all := []string{"/v1/cold/accounts/" + a, "/v1/cold/proofs/" + a, "/v1/bridge/transfers/" + ledger.Hash{1}.String(), "/v1/audit"}
	proofs := all[1:3]
	tests := []struct {
		name   string
		b      brokenCold
		paths  []string
		status int
		code   string
	}{
		{"coded", brokenCold{err: apitest.Errorf("unavailable", "store closed"), proof: json.RawMessage(`{}`)}, all, 503, "unavailable"},
		{"uncoded", brokenCold{err: errors.New("disk on fire"), proof: json.RawMessage(`{}`)}, all, 500, api.CodeInternal},
		{"proof not JSON", brokenCold{proof: json.RawMessage(`{"version":`)}, proofs, 500, api.CodeInternal},
		{"no proof", brokenCold{}, proofs, 500, api.CodeInternal},
	}
	for _, tt := range tests {
		tt.b.ColdBackend = apitest.FundedCold(false, 1, alice)
		h := newHandler(t, tt.b)
		for _, p := range tt.paths {
			t.Run(tt.name+" "+p, func(t *testing.T) {
				e := wantError(t, get(t, h, p), tt.status, tt.code)
				if tt.code == api.CodeInternal && e.Message != "internal error" {
					t.Errorf("message = %q, want the fixed internal message", e.Message)
				}
			})
		}
	}
}

// leadingCold is a cold backend that leads a cluster: strong reads
// linearize first.
type leadingCold struct {
	*apitest.ColdBackend
	linearized *int
	err        error
}

func (l leadingCold) Leader(context.Context) (string, bool, error) { return "", true, nil }
func (l leadingCold) Linearize(context.Context) error {
	*l.linearized++
	return l.err
}
func (l leadingCold) WaitHeight(context.Context, uint64) error         { return nil }
func (l leadingCold) Members(context.Context) ([]api.Member, error)    { return nil, nil }
func (l leadingCold) AddMember(context.Context, api.Member) error      { return nil }
func (l leadingCold) RemoveMember(context.Context, string) error       { return nil }
func (l leadingCold) TransferLeadership(context.Context, string) error { return nil }

func TestColdStrongReads(t *testing.T) {
	b, settle := bridged(t)
	paths := []string{
		"/v1/cold/accounts/" + alice.Address.String(), "/v1/cold/blocks/latest", "/v1/cold/blocks/1",
		"/v1/cold/proofs/" + alice.Address.String() + "?height=1", "/v1/bridge/transfers/" + settle.ID().String(), "/v1/audit",
	}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			var n int
			h := newHandler(t, leadingCold{ColdBackend: b, linearized: &n})
			sep := "?"
			if strings.Contains(p, "?") {
				sep = "&"
			}
			if r := get(t, h, p+sep+"consistency=strong"); r.code != http.StatusOK || n != 1 {
				t.Errorf("strong read: status %d, %d Linearize calls; want 200 after one (%s)", r.code, n, r.body)
			}
			if r := get(t, h, p); r.code != http.StatusOK || n != 1 {
				t.Errorf("local read: status %d, %d Linearize calls in all; want 200 and none more", r.code, n)
			}
			failing := newHandler(t, leadingCold{ColdBackend: b, linearized: &n, err: apitest.Errorf(api.CodeNotLeader, "lost leadership")})
			wantError(t, get(t, failing, p+sep+"consistency=strong"), http.StatusServiceUnavailable, api.CodeNotLeader)
		})
	}
}
