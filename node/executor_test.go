package node

import (
	"context"
	"crypto/sha256"
	"errors"
	"math"
	"testing"

	"github.com/dualchain/dualchain/contracts/registry"
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/vm"
)

// state is a test's view of hot state before a block.
type state map[string][]byte

func (s state) read(keys [][]byte) [][]byte {
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = s[string(k)]
	}
	return out
}

func (s state) fetch(keys [][]byte) ([][]byte, error) { return s.read(keys), nil }

// tokenState adds the base token's code, as genesis writes it, to s.
func tokenState(s state) state {
	for _, w := range token.Genesis(&ledger.Genesis{}) {
		if len(w.Value) > 0 {
			s[string(w.Key)] = w.Value
		}
	}
	return s
}

// testDispatcher runs calls both ways, on a VM closed at cleanup.
func testDispatcher(t testing.TB) *dispatcher {
	t.Helper()
	v, err := vm.New(context.Background(), vm.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close(context.Background()) })
	return newDispatcher(v, ExecBoth, testLogger(t))
}

// executeIn executes p from base, its known keys read in a batch and the
// rest fetched.
func executeIn(t testing.TB, d *dispatcher, head hotchain.Meta, base state, p []pendingTx) *execution {
	t.Helper()
	keys := blockKeys(p)
	ex, err := execute(context.Background(), d, blockInput{
		head: head, chainID: "test", txs: p, keys: keys, values: base.read(keys), fetch: base.fetch,
	})
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

func TestExecute(t *testing.T) {
	alice, bob := testKey(1), testKey(2)
	base := tokenState(state{string(token.BalanceKey(alice.Address)): ledger.EncodeUint64(100)})
	d := testDispatcher(t)
	tests := []struct {
		name       string
		txs        func() []pendingTx
		included   int
		dropped    error
		status     []ledger.Status
		aliceBal   uint64
		bobBal     uint64
		aliceNonce uint64
	}{
		{"one transfer", func() []pendingTx { return txs(alice, bob, 0, 40) }, 1, nil, []ledger.Status{ledger.StatusOK}, 60, 40, 1},
		{"overdraft is a failed receipt, balances unchanged", func() []pendingTx { return txs(alice, bob, 0, 101) }, 1, nil,
			[]ledger.Status{ledger.StatusInsufficientFunds}, 100, 0, 1},
		{"second spend overdraws", func() []pendingTx { return txs(alice, bob, 0, 60, 60) }, 2, nil,
			[]ledger.Status{ledger.StatusOK, ledger.StatusInsufficientFunds}, 40, 60, 2},
		{"wrong nonce is dropped", func() []pendingTx { return txs(alice, bob, 1, 10) }, 0, ErrNonceGap, nil, 100, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := executeIn(t, d, hotchain.Meta{}, base, tt.txs())
			if len(ex.included) != tt.included {
				t.Fatalf("included %d, want %d", len(ex.included), tt.included)
			}
			if tt.dropped != nil && (len(ex.dropped) != 1 || !errors.Is(ex.dropped[0].err, tt.dropped)) {
				t.Fatalf("dropped %v, want one with %v", ex.dropped, tt.dropped)
			}
			for i, want := range tt.status {
				if got := ex.block.Receipts[i].Status; got != want {
					t.Fatalf("receipt %d status = %v, want %v", i, got, want)
				}
			}
			after := applyWrites(base, ex.block.Writes)
			checkUint(t, after, token.BalanceKey(alice.Address), tt.aliceBal)
			checkUint(t, after, token.BalanceKey(bob.Address), tt.bobBal)
			checkUint(t, after, ledger.NonceKey(alice.Address), tt.aliceNonce)
			checkCommitment(t, base, after, ex)
		})
	}
}

func TestExecuteOverflow(t *testing.T) {
	alice, bob := testKey(1), testKey(2)
	base := tokenState(state{
		string(token.BalanceKey(alice.Address)): ledger.EncodeUint64(10),
		string(token.BalanceKey(bob.Address)):   ledger.EncodeUint64(math.MaxUint64 - 5),
	})
	ex := executeIn(t, testDispatcher(t), hotchain.Meta{}, base, txs(alice, bob, 0, 10))
	if got := ex.block.Receipts[0].Status; got != ledger.StatusOverflow {
		t.Fatalf("receipt status = %v, want %v", got, ledger.StatusOverflow)
	}
	after := applyWrites(base, ex.block.Writes)
	checkUint(t, after, token.BalanceKey(bob.Address), math.MaxUint64-5)
	checkUint(t, after, token.BalanceKey(alice.Address), 10)
}

func txs(from, to *ledger.Key, nonce uint64, amounts ...uint64) []pendingTx {
	var out []pendingTx
	for i, a := range amounts {
		tx, id := signedTransfer(from, nonce+uint64(i), to.Address, a)
		out = append(out, pendingTx{tx: tx, id: id})
	}
	return out
}

func applyWrites(base state, writes []ledger.Write) state {
	out := state{}
	for k, v := range base {
		out[k] = v
	}
	for _, w := range writes {
		if len(w.Value) == 0 {
			delete(out, string(w.Key))
		} else {
			out[string(w.Key)] = w.Value
		}
	}
	return out
}

func checkUint(t *testing.T, s state, key []byte, want uint64) {
	t.Helper()
	got, ok := ledger.DecodeUint64(s[string(key)])
	if !ok || got != want {
		t.Fatalf("state[%x] = %d, want %d", key, got, want)
	}
}

// checkCommitment recomputes the commitment of after from scratch and
// compares it with the incremental one the block carries.
func checkCommitment(t *testing.T, base, after state, ex *execution) {
	t.Helper()
	var start, full hotchain.Commitment
	for k, v := range base {
		start.Add([]byte(k), v)
	}
	for k, v := range after {
		full.Add([]byte(k), v)
	}
	incremental := hotchain.Apply(start, writeChanges(base, ex.block.Writes))
	if incremental.Digest() != full.Digest() {
		t.Fatalf("incremental commitment %s, from scratch %s", incremental.Digest(), full.Digest())
	}
	if ex.block.Header.Commitment != ex.commitment.Digest() {
		t.Fatalf("header commitment %s, execution's %s", ex.block.Header.Commitment, ex.commitment.Digest())
	}
}

func writeChanges(base state, writes []ledger.Write) []hotchain.Change {
	var out []hotchain.Change
	for _, w := range writes {
		out = append(out, hotchain.Change{Key: w.Key, Old: base[string(w.Key)], New: w.Value})
	}
	return out
}

// TestExecuteWritesKeysItNeverRead: a deploy of code already on chain
// writes keys the block never read; the commitment must still move from
// their committed values.
func TestExecuteWritesKeysItNeverRead(t *testing.T) {
	alice := testKey(1)
	code := registry.Wasm
	h := ledger.Hash(sha256.Sum256(code))
	base := tokenState(state{string(ledger.CodeBlobKey(h)): code})
	commitmentOf := func(s state) hotchain.Commitment {
		var c hotchain.Commitment
		for k, v := range s {
			c.Add([]byte(k), v)
		}
		return c
	}
	tx := deploy(alice, 0, code)
	ex := executeIn(t, testDispatcher(t), hotchain.Meta{Commitment: commitmentOf(base)}, base, []pendingTx{{tx: tx, id: tx.ID()}})
	if rc := ex.block.Receipts[0]; rc.Status != ledger.StatusOK {
		t.Fatalf("deploy = %v %q", rc.Status, rc.Error)
	}
	after := applyWrites(base, ex.block.Writes)
	if got, want := ex.commitment.Digest(), commitmentOf(after).Digest(); got != want {
		t.Fatalf("block commitment %s, from scratch %s", got, want)
	}
}
