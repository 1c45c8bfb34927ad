package node

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
)

// signedTransfer makes a signed transfer from k with the given nonce.
func signedTransfer(k *ledger.Key, nonce uint64, to ledger.Address, amount uint64) (*ledger.Tx, ledger.Hash) {
	tx := &ledger.Tx{
		ChainID: "test", Chain: ledger.Hot, Nonce: nonce, From: k.Address,
		Contract: token.Address, Function: token.FuncTransfer,
		Args: token.EncodeTransfer(to, amount), GasLimit: token.TransferGas,
	}
	tx.Sign(k.Private)
	return tx, tx.ID()
}

func testKey(i byte) *ledger.Key {
	seed := make([]byte, 32)
	seed[0] = i
	return ledger.KeyFromSeed(seed)
}

func TestMempoolAdmission(t *testing.T) {
	alice, bob := testKey(1), testKey(2)
	tests := []struct {
		name       string
		nonce      uint64
		stateNonce uint64
		want       error
	}{
		{"next nonce", 5, 5, nil},
		{"future within window", 8, 5, nil},
		{"replayed nonce", 4, 5, ErrNonceTooLow},
		{"past the window", 5 + 4, 5, ErrNonceTooHigh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMempool(10, 4)
			tx, id := signedTransfer(alice, tt.nonce, bob.Address, 1)
			if err := addTx(m, tx, id, tt.stateNonce, 0); !errors.Is(err, tt.want) {
				t.Fatalf("add(nonce %d, state %d) = %v, want %v", tt.nonce, tt.stateNonce, err, tt.want)
			}
		})
	}
}

func TestMempoolDedupFullAndTaken(t *testing.T) {
	alice, bob := testKey(1), testKey(2)
	m := newMempool(2, 16)
	tx0, id0 := signedTransfer(alice, 0, bob.Address, 1)
	if err := addTx(m, tx0, id0, 0, 0); err != nil {
		t.Fatalf("add = %v, want nil", err)
	}
	if err := addTx(m, tx0, id0, 0, 0); err != nil {
		t.Fatalf("add(same tx again) = %v, want nil (a retry)", err)
	}
	if m.len() != 1 {
		t.Fatalf("len() = %d after a duplicate, want 1", m.len())
	}
	other, otherID := signedTransfer(alice, 0, bob.Address, 2)
	if err := addTx(m, other, otherID, 0, 0); !errors.Is(err, ErrNonceTaken) {
		t.Fatalf("add(other tx, same nonce) = %v, want %v", err, ErrNonceTaken)
	}
	tx1, id1 := signedTransfer(alice, 1, bob.Address, 1)
	tx2, id2 := signedTransfer(alice, 2, bob.Address, 1)
	if err := addTx(m, tx1, id1, 0, 0); err != nil {
		t.Fatalf("add(nonce 1) = %v", err)
	}
	if err := addTx(m, tx2, id2, 0, 0); !errors.Is(err, ErrMempoolFull) {
		t.Fatalf("add(third tx, limit 2) = %v, want %v", err, ErrMempoolFull)
	}
}

func TestMempoolTakeOrder(t *testing.T) {
	alice, bob, carol := testKey(1), testKey(2), testKey(3)
	m := newMempool(100, 16)
	// Alice's nonces arrive out of order; nonce 3 leaves a gap.
	for _, n := range []uint64{1, 0, 3, 2} {
		tx, id := signedTransfer(alice, n, bob.Address, 1)
		if err := addTx(m, tx, id, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	tx, id := signedTransfer(carol, 0, bob.Address, 1)
	if err := addTx(m, tx, id, 0, 0); err != nil {
		t.Fatal(err)
	}
	got := m.take(100, math.MaxUint64)
	if len(got) != 5 {
		t.Fatalf("take(100) returned %d txs, want 5", len(got))
	}
	var aliceNonces []uint64
	for _, p := range got {
		if p.tx.From == alice.Address {
			aliceNonces = append(aliceNonces, p.tx.Nonce)
		}
	}
	for i, n := range aliceNonces {
		if n != uint64(i) {
			t.Fatalf("alice's nonces taken in order %v, want 0,1,2,3", aliceNonces)
		}
	}
	if !m.has(got[0].id) {
		t.Fatalf("has(taken id) = false, want true until done")
	}
	m.done(got, map[ledger.Address]uint64{alice.Address: 4, carol.Address: 1})
	if m.has(got[0].id) || len(m.senders) != 0 {
		t.Fatalf("after done: has = %v, senders = %d, want false, 0", m.has(got[0].id), len(m.senders))
	}
}

func TestMempoolGapWaits(t *testing.T) {
	alice, bob := testKey(1), testKey(2)
	m := newMempool(100, 16)
	tx, id := signedTransfer(alice, 1, bob.Address, 1)
	if err := addTx(m, tx, id, 0, 0); err != nil {
		t.Fatal(err)
	}
	if got := m.take(10, math.MaxUint64); len(got) != 0 {
		t.Fatalf("take with nonce 0 missing returned %d txs, want 0", len(got))
	}
	tx0, id0 := signedTransfer(alice, 0, bob.Address, 1)
	if err := addTx(m, tx0, id0, 0, 0); err != nil {
		t.Fatal(err)
	}
	if got := m.take(10, math.MaxUint64); len(got) != 2 {
		t.Fatalf("take after the gap filled returned %d txs, want 2", len(got))
	}
}

func TestMempoolDoneDropsStale(t *testing.T) {
	alice, bob := testKey(1), testKey(2)
	m := newMempool(100, 16)
	tx0, id0 := signedTransfer(alice, 0, bob.Address, 1)
	tx1, id1 := signedTransfer(alice, 1, bob.Address, 1)
	addTx(m, tx0, id0, 0, 0)
	taken := m.take(1, math.MaxUint64)
	addTx(m, tx1, id1, 0, 0)
	// The chain says alice's next nonce is 2: nonce 1 went in elsewhere.
	dropped := m.done(taken, map[ledger.Address]uint64{alice.Address: 2})
	if len(dropped) != 1 || dropped[0].id != id1 || !errors.Is(dropped[0].err, ErrNonceTooLow) {
		t.Fatalf("done dropped %v, want tx %s with %v", dropped, id1, ErrNonceTooLow)
	}
	if m.len() != 0 {
		t.Fatalf("len() = %d, want 0", m.len())
	}
}

// A sender's committed nonce read before a block finished is stale; if the
// pool has no entry for the sender it must not trust it, or the sender's
// next transaction would wait forever behind a nonce already used.
func TestMempoolStaleStateRead(t *testing.T) {
	alice, bob := testKey(1), testKey(2)
	m := newMempool(100, 16)
	tx0, id0 := signedTransfer(alice, 0, bob.Address, 1)
	addTx(m, tx0, id0, 0, m.snapshot())
	epoch := m.snapshot() // a submission reads alice's nonce now: 0
	taken := m.take(10, math.MaxUint64)
	m.done(taken, map[ledger.Address]uint64{alice.Address: 1}) // block with nonce 0 commits
	tx1, id1 := signedTransfer(alice, 1, bob.Address, 1)
	if err := addTx(m, tx1, id1, 0, epoch); !errors.Is(err, errStaleState) {
		t.Fatalf("add(stale read) = %v, want %v", err, errStaleState)
	}
	if err := addTx(m, tx1, id1, 1, m.snapshot()); err != nil {
		t.Fatalf("add(fresh read) = %v, want nil", err)
	}
	if got := m.take(10, math.MaxUint64); len(got) != 1 || got[0].id != id1 {
		t.Fatalf("take after fresh admission = %v, want tx %s", got, id1)
	}
}

// addTx admits a transaction at time zero.
func addTx(m *mempool, tx *ledger.Tx, id ledger.Hash, stateNonce, epoch uint64) error {
	_, err := m.add(tx, id, stateNonce, epoch, time.Time{})
	return err
}

func TestMempoolExpiresGappedSenders(t *testing.T) {
	alice, bob := testKey(1), testKey(2)
	m := newMempool(100, 16)
	start := time.Unix(1000, 0)
	tx, id := signedTransfer(alice, 3, bob.Address, 1) // nonces 0..2 never come
	if _, err := m.add(tx, id, 0, 0, start); err != nil {
		t.Fatal(err)
	}
	if got := m.expire(start); len(got) != 0 {
		t.Fatalf("expire(at admission) dropped %d, want 0", len(got))
	}
	got := m.expire(start.Add(time.Second))
	if len(got) != 1 || got[0].id != id || !errors.Is(got[0].err, ErrNonceGap) {
		t.Fatalf("expire(later) = %v, want tx %s with %v", got, id, ErrNonceGap)
	}
	if m.len() != 0 || len(m.senders) != 0 || m.has(id) {
		t.Fatalf("after expiry: len %d, senders %d, has %v; want 0, 0, false", m.len(), len(m.senders), m.has(id))
	}
}

// A read of committed state newer than the pool's view moves the sender
// forward, so a sender never waits behind a nonce that is already used.
func TestMempoolAdvancesOnFresherRead(t *testing.T) {
	alice, bob := testKey(1), testKey(2)
	m := newMempool(100, 16)
	tx5, id5 := signedTransfer(alice, 5, bob.Address, 1)
	addTx(m, tx5, id5, 3, 0) // believes alice is at nonce 3: 5 waits
	tx6, id6 := signedTransfer(alice, 6, bob.Address, 1)
	if err := addTx(m, tx6, id6, 5, 0); err != nil { // alice is really at 5
		t.Fatal(err)
	}
	if got := m.take(10, math.MaxUint64); len(got) != 2 || got[0].id != id5 || got[1].id != id6 {
		t.Fatalf("take after a fresher read = %v, want txs 5 and 6", got)
	}
}

// TestMempoolRetryAdvancesOnFresherRead is TestColdPoolMovesPastAStaleRead
// for the hot pool: the only thing a stuck client sends is a retry of the
// same transaction, and it must move the sender past the stale read.
func TestMempoolRetryAdvancesOnFresherRead(t *testing.T) {
	alice, bob := testKey(1), testKey(2)
	m := newMempool(100, 16)
	tx5, id5 := signedTransfer(alice, 5, bob.Address, 1)
	addTx(m, tx5, id5, 3, 0) // believes alice is at nonce 3: 5 waits
	if got := m.take(10, math.MaxUint64); len(got) != 0 {
		t.Fatalf("took %v across the gap", got)
	}
	if err := addTx(m, tx5, id5, 5, 0); err != nil { // the retry: alice is really at 5
		t.Fatal(err)
	}
	if got := m.take(10, math.MaxUint64); len(got) != 1 || got[0].id != id5 {
		t.Fatalf("take after the retry = %v, want tx 5", got)
	}
}

func TestMempoolNonceTakenBeforeFull(t *testing.T) {
	alice, bob := testKey(1), testKey(2)
	m := newMempool(1, 16)
	tx, id := signedTransfer(alice, 0, bob.Address, 1)
	addTx(m, tx, id, 0, 0)
	other, otherID := signedTransfer(alice, 0, bob.Address, 2)
	if err := addTx(m, other, otherID, 0, 0); !errors.Is(err, ErrNonceTaken) {
		t.Fatalf("add(same nonce, full pool) = %v, want %v", err, ErrNonceTaken)
	}
}

func TestMempoolPendingNonce(t *testing.T) {
	alice, bob := testKey(1), testKey(2)
	m := newMempool(100, 16)
	if got := m.pendingNonce(alice.Address, 4); got != 4 {
		t.Fatalf("pendingNonce(unknown sender, 4) = %d, want 4", got)
	}
	for _, n := range []uint64{4, 5, 7} { // 6 missing
		tx, id := signedTransfer(alice, n, bob.Address, 1)
		addTx(m, tx, id, 4, 0)
	}
	if got := m.pendingNonce(alice.Address, 4); got != 6 {
		t.Fatalf("pendingNonce(4, 5 pending, 7 after a gap) = %d, want 6", got)
	}
	m.take(1, math.MaxUint64) // nonce 4 in flight
	if got := m.pendingNonce(alice.Address, 4); got != 6 {
		t.Fatalf("pendingNonce with 4 taken = %d, want 6", got)
	}
}

// TestTakeStopsAtBlockGas: take stops before the transaction that would
// pass the block's gas, but always takes one, and leaves the rest ready.
func TestTakeStopsAtBlockGas(t *testing.T) {
	m := newMempool(100, 16)
	alice, bob := testKey(1), testKey(2)
	for n := range uint64(4) {
		tx, id := signedTransfer(alice, n, bob.Address, 1)
		if err := addTx(m, tx, id, 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	per := token.TransferGas
	if got := m.take(10, 2*per+per/2); len(got) != 2 || got[0].tx.Nonce != 0 || got[1].tx.Nonce != 1 {
		t.Fatalf("take with gas for 2.5 transfers = %d txs, want nonces 0 and 1", len(got))
	}
	if got := m.take(10, 1); len(got) != 1 || got[0].tx.Nonce != 2 {
		t.Fatalf("take with gas for none = %d txs, want the next one (nonce 2) anyway", len(got))
	}
	if got := m.take(10, math.MaxUint64); len(got) != 1 || got[0].tx.Nonce != 3 {
		t.Fatalf("take of the rest = %d txs, want nonce 3", len(got))
	}
}
