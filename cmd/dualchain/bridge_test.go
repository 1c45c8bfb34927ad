package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/api/apitest"
	"github.com/dualchain/dualchain/ledger"
)

// TestSettleStatus follows a settle from its submission to its checkpoint,
// and checks the proof it comes with offline.
func TestSettleStatus(t *testing.T) {
	n, b := newColdNode(t, false)
	r := n.run(t, "settle", "--key", n.faucetKey, "--amount", "40").ok(t)
	res := parseJSON[api.TxResult](t, n.run(t, "settle", "--key", n.bobKey(), "--amount", "1", "--json").ok(t))
	var id string
	for _, l := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "id" {
			id = f[1]
		}
	}
	wantLines(t, r.stdout, "transfer settle of 40: hot → cold", "chain hot", "status pending",
		"follow dualchain bridge status "+id+" --wait")
	if id == "" || res.Status != api.StatusPending {
		t.Fatalf("settle printed id %q, --json %+v; want an id and pending", id, res)
	}

	// Not committed yet: the node does not know the transfer.
	n.run(t, "bridge", "status", id).fails(t, exitFailure, "not_found")
	b.Commit()
	pending := n.run(t, "bridge", "status", id).ok(t)
	wantLines(t, pending.stdout, "checkpointed not yet: escrowed in hot block 1; the next checkpoint credits the cold account",
		"kind settle (hot → cold)", "amount 40", "status pending", "hot height 1", "cold height -")
	proofFile := filepath.Join(n.dir, "proof.json")
	n.run(t, "bridge", "status", id, "--proof-out", proofFile).fails(t, exitFailure, "pending")

	b.Checkpoint()
	done := n.run(t, "bridge", "status", id).ok(t)
	tr, err := b.BridgeTransfer(t.Context(), mustHash(t, id))
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, done.stdout, "checkpointed yes, in cold block 1: the tokens are on the cold chain", "status checkpointed",
		"hot height 1", "cold height 1", "state root "+tr.Proof.Root.String()+" (cold block 1)",
		"proof attached and valid: the owner's cold balance 40, nonce 0 at that root (save it with --proof-out FILE)")

	got := parseJSON[api.BridgeTransfer](t, n.run(t, "bridge", "status", id, "--proof-out", proofFile, "--json").ok(t))
	if got.Status != api.BridgeCheckpointed || got.Proof == nil || got.Proof.Root != tr.Proof.Root {
		t.Fatalf("bridge status --json = %+v, want checkpointed with the proof", got)
	}
	data, err := os.ReadFile(proofFile)
	if err != nil || !bytes.Equal(data, tr.Proof.Proof) {
		t.Fatalf("--proof-out wrote %q, %v; want the node's proof %q", data, err, tr.Proof.Proof)
	}
	v := n.run(t, "proof", "verify", proofFile, "--root", tr.Proof.Root.String(), "--address", n.faucetKey).ok(t)
	wantLines(t, v.stdout, "proves inclusion: the account is in that state", "balance 40", "nonce 0")
}

func mustHash(t *testing.T, s string) ledger.Hash {
	t.Helper()
	h, err := ledger.ParseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestDepositStatus(t *testing.T) {
	n, b := newColdNode(t, true)
	n.run(t, "settle", "--key", n.faucetKey, "--amount", "50", "--wait").ok(t)
	b.Checkpoint()
	res := parseJSON[api.TxResult](t, n.run(t, "deposit", "--key", n.faucetKey, "--amount", "20", "--wait", "--json").ok(t))
	if res.Status != api.StatusCommitted || res.Block != 2 {
		t.Fatalf("deposit --wait = %+v, want committed in cold block 2", res)
	}
	r := n.run(t, "bridge", "status", res.ID.String(), "--wait").ok(t)
	wantLines(t, r.stdout, "credited yes, in hot block 2: the tokens are on the hot chain", "kind deposit (cold → hot)",
		"amount 20", "status credited", "hot height 2", "cold height 2",
		"proof attached and valid: the owner's cold balance 30, nonce 1 at that root (save it with --proof-out FILE)")
	wantLines(t, n.run(t, "balance", n.faucetKey).ok(t).stdout, "balance 970", "cold balance 30")
}

// TestBridgeStatusWait waits while the node checkpoints on the third ask;
// a wait that runs out exits 1 with the transfer still pending.
func TestBridgeStatusWait(t *testing.T) {
	b := apitest.FundedCold(true, 1000, faucet, bob)
	h := api.New(b, api.TestConfig()).Handler()
	var asked, checkpointAt atomic.Int32
	n := serveCold(t, b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/bridge/transfers/") && asked.Add(1) == checkpointAt.Load() {
			b.Checkpoint()
		}
		h.ServeHTTP(w, r)
	}))
	checkpointAt.Store(3)
	res := parseJSON[api.TxResult](t, n.run(t, "settle", "--key", n.faucetKey, "--amount", "7", "--wait", "--json").ok(t))
	r := n.run(t, "bridge", "status", res.ID.String(), "--wait").ok(t)
	wantLines(t, r.stdout, "status checkpointed", "cold height 1")
	if asked.Load() != 3 {
		t.Errorf("the node was asked %d times, want 3 (pending, pending, done)", asked.Load())
	}

	res = parseJSON[api.TxResult](t, n.run(t, "settle", "--key", n.faucetKey, "--amount", "8", "--wait", "--json").ok(t))
	late := n.run(t, "bridge", "status", res.ID.String(), "--wait", "--timeout", "100ms")
	late.fails(t, exitFailure, "pending")
	wantLines(t, late.stdout, "status pending", "amount 8")
	if !strings.Contains(late.stderr, "still pending after 100ms") {
		t.Errorf("stderr = %q, want it to say the transfer is still pending", late.stderr)
	}
}

// TestBridgeStatusBadProof checks that a node's proof that does not hold
// up fails the command.
func TestBridgeStatusBadProof(t *testing.T) {
	n, b := newColdNode(t, true)
	res := parseJSON[api.TxResult](t, n.run(t, "settle", "--key", n.faucetKey, "--amount", "9", "--wait", "--json").ok(t))
	b.Checkpoint()
	tr, err := b.BridgeTransfer(t.Context(), res.ID)
	if err != nil {
		t.Fatal(err)
	}
	wrongOwner := tr
	wrongOwner.Owner = bob.Address
	wrongRoot := tr
	wrongRoot.Proof = &api.ColdProof{Height: 1, Root: ledger.Hash{1}, Proof: tr.Proof.Proof}
	for name, served := range map[string]api.BridgeTransfer{"another owner": wrongOwner, "another root": wrongRoot} {
		t.Run(name, func(t *testing.T) {
			body, err := json.Marshal(served)
			if err != nil {
				t.Fatal(err)
			}
			bad := serveCold(t, b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", api.MediaJSON)
				w.Write(body)
			}))
			r := bad.run(t, "bridge", "status", res.ID.String())
			r.fails(t, exitFailure, "bad_proof")
			if !strings.Contains(r.stdout, "INVALID") {
				t.Errorf("stdout = %q, want the proof shown INVALID", r.stdout)
			}
		})
	}
}

func TestBridgeErrors(t *testing.T) {
	cold, _ := newColdNode(t, true)
	hot := newTestNode(t, true, api.TestConfig())
	key := cold.faucetKey
	tests := []struct {
		name string
		n    *testNode
		args []string
		exit int
		code string
	}{
		{"settle without key", cold, []string{"settle", "--amount", "1"}, exitUsage, "usage"},
		{"settle without amount", cold, []string{"settle", "--key", key}, exitUsage, "usage"},
		{"settle zero", cold, []string{"settle", "--key", key, "--amount", "0"}, exitUsage, "usage"},
		{"settle negative", cold, []string{"settle", "--key", key, "--amount", "-1"}, exitUsage, "usage"},
		{"settle stray argument", cold, []string{"settle", "--key", key, "--amount", "1", "now"}, exitUsage, "usage"},
		{"settle missing key file", cold, []string{"settle", "--key", filepath.Join(cold.dir, "none.key"), "--amount", "1"}, exitFailure, "no_key_file"},
		{"settle more than the balance", cold, []string{"settle", "--key", key, "--amount", "5000", "--wait"}, exitFailure, "insufficient_funds"},
		{"deposit without a cold balance", cold, []string{"deposit", "--key", key, "--amount", "1", "--wait"}, exitFailure, "insufficient_funds"},
		{"deposit on a hot-only node", hot, []string{"deposit", "--key", hot.faucetKey, "--amount", "1"}, exitFailure, "not_supported"},
		{"status without id", cold, []string{"bridge", "status"}, exitUsage, "usage"},
		{"status bad id", cold, []string{"bridge", "status", "abc"}, exitFailure, "bad_hash"},
		{"status unknown id", cold, []string{"bridge", "status", ledger.Hash{3}.String()}, exitFailure, "not_found"},
		{"status on a hot-only node", hot, []string{"bridge", "status", ledger.Hash{3}.String()}, exitFailure, "not_supported"},
		{"bridge unknown command", cold, []string{"bridge", "stats"}, exitUsage, "usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.n.run(t, tt.args...).fails(t, tt.exit, tt.code)
		})
	}
}
