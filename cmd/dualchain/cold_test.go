package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/api/apitest"
	"github.com/dualchain/dualchain/ledger"
)

var carol = apitest.Key(3)

// newColdNode serves the API over an apitest cold backend where the faucet
// and bob each hold 1,000 hot tokens, and writes the faucet's and bob's
// key files.
func newColdNode(t *testing.T, autoCommit bool) (*testNode, *apitest.ColdBackend) {
	t.Helper()
	b := apitest.FundedCold(autoCommit, 1000, faucet, bob)
	return serveCold(t, b, api.New(b, api.TestConfig()).Handler()), b
}

// serveCold serves h as the node of b's chain.
func serveCold(t *testing.T, b *apitest.ColdBackend, h http.Handler) *testNode {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	n := &testNode{url: srv.URL, dir: dir, faucetKey: filepath.Join(dir, "faucet.key"), env: map[string]string{}}
	for path, k := range map[string]*ledger.Key{n.faucetKey: faucet, n.bobKey(): bob} {
		if err := ledger.WriteKeyFile(path, k); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

func (n *testNode) bobKey() string { return filepath.Join(n.dir, "bob.key") }

func TestTransferCold(t *testing.T) {
	n, b := newColdNode(t, true)
	n.run(t, "settle", "--key", n.faucetKey, "--amount", "100", "--wait").ok(t)
	b.Checkpoint()

	r := n.run(t, "transfer", "--key", n.faucetKey, "--to", carol.Address.String(), "--amount", "30", "--chain", "cold", "--wait", "--json").ok(t)
	res := parseJSON[api.TxResult](t, r)
	if res.Status != api.StatusCommitted || res.Block != 2 || res.Receipt == nil || res.Receipt.Status != ledger.StatusOK {
		t.Fatalf("cold transfer = %+v, want committed ok in cold block 2", res)
	}
	// The cold nonce is the cold account's (0), not the hot one (1).
	human := n.run(t, "transfer", "--key", n.faucetKey, "--to", carol.Address.String(), "--amount", "5", "--chain", "cold", "--wait").ok(t)
	wantLines(t, human.stdout, "chain cold", "status committed", "block 3", "result ok")

	v := parseJSON[balanceView](t, n.run(t, "balance", n.faucetKey, "--json").ok(t))
	want := balanceView{
		Account: ledger.Account{Address: faucet.Address, Balance: 900, Nonce: 1, PendingNonce: 1},
		Cold:    &ledger.Account{Address: faucet.Address, Balance: 65, Nonce: 2, PendingNonce: 2},
	}
	if v.Account != want.Account || v.Cold == nil || *v.Cold != *want.Cold {
		t.Errorf("balance --json = %+v cold %+v, want %+v cold %+v", v.Account, v.Cold, want.Account, *want.Cold)
	}
	wantLines(t, n.run(t, "balance", carol.Address.String()).ok(t).stdout, "balance 0", "cold balance 35", "cold nonce 0")
	wantLines(t, n.run(t, "balance", n.faucetKey).ok(t).stdout, "balance 900", "nonce 1", "cold balance 65", "cold nonce 2")

	// A cold transfer of more than the cold balance fails in its block.
	n.run(t, "transfer", "--key", n.bobKey(), "--to", carol.Address.String(), "--amount", "1", "--chain", "cold", "--wait").
		fails(t, exitFailure, "insufficient_funds")
	// A stale cold nonce is refused by the node.
	n.run(t, "transfer", "--key", n.faucetKey, "--to", carol.Address.String(), "--amount", "1", "--chain", "cold", "--nonce", "0").
		fails(t, exitFailure, "nonce_too_low")
}

func TestBalanceWithoutColdChain(t *testing.T) {
	n := newTestNode(t, true, api.TestConfig())
	r := n.run(t, "balance", faucet.Address.String()).ok(t)
	wantLines(t, r.stdout, "balance 1000", "cold the node has no cold chain")
	// The JSON is the hot account alone, as before the cold chain.
	if acct := parseJSON[ledger.Account](t, n.run(t, "balance", faucet.Address.String(), "--json").ok(t)); acct.Balance != 1000 {
		t.Errorf("balance --json = %+v, want 1000", acct)
	}
}

func TestColdBlock(t *testing.T) {
	n, b := newColdNode(t, true)
	n.run(t, "cold", "block").fails(t, exitFailure, "not_found")
	n.run(t, "settle", "--key", n.faucetKey, "--amount", "100", "--wait").ok(t)
	n.run(t, "settle", "--key", n.bobKey(), "--amount", "20", "--wait").ok(t)
	b.Checkpoint()
	n.run(t, "deposit", "--key", n.bobKey(), "--amount", "5", "--wait").ok(t)

	blk, err := b.ColdBlock(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	one := n.run(t, "cold", "block", "1").ok(t)
	wantLines(t, one.stdout, "height 1", "hash "+blk.Header.Hash().String(), "state root "+blk.Header.StateRoot.String(),
		"txs 0 (0 failed)", "settlements 2, 120 tokens credited to cold accounts", "deposits 0, 0 tokens debited from cold accounts",
		"checkpoint hot height 2, hot block "+blk.Header.Checkpoint.HotHash.String())
	latest := n.run(t, "cold", "block").ok(t)
	wantLines(t, latest.stdout, "height 2", "parent "+blk.Header.Hash().String(), "txs 1 (0 failed)",
		"deposits 1, 5 tokens debited from cold accounts")
	got := parseJSON[ledger.ColdBlock](t, n.run(t, "cold", "block", "2", "--json").ok(t))
	if got.Header.Height != 2 || len(got.Deposits) != 1 || got.Deposits[0].Owner != bob.Address || got.Header.Parent != blk.Header.Hash() {
		t.Errorf("cold block 2 --json = %+v, want bob's deposit after block 1", got)
	}
}

func TestColdErrors(t *testing.T) {
	cold, _ := newColdNode(t, true)
	hot := newTestNode(t, true, api.TestConfig())
	tests := []struct {
		name string
		n    *testNode
		args []string
		exit int
		code string
	}{
		{"cold block 0", cold, []string{"cold", "block", "0"}, exitUsage, "usage"},
		{"cold block not a number", cold, []string{"cold", "block", "top"}, exitUsage, "usage"},
		{"cold block two heights", cold, []string{"cold", "block", "1", "2"}, exitUsage, "usage"},
		{"cold block past the latest", cold, []string{"cold", "block", "9"}, exitFailure, "not_found"},
		{"cold block on a hot-only node", hot, []string{"cold", "block"}, exitFailure, "not_supported"},
		{"cold transfer on a hot-only node", hot, []string{"transfer", "--key", hot.faucetKey, "--to", bob.Address.String(), "--amount", "1", "--chain", "cold"}, exitFailure, "not_supported"},
		{"cold stray command", cold, []string{"cold", "blocks"}, exitUsage, "usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.n.run(t, tt.args...).fails(t, tt.exit, tt.code)
		})
	}
}
