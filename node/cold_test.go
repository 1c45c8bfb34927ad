package node

import (
	"errors"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

func TestColdPoolTakesEachSenderInNonceOrder(t *testing.T) {
	p := newColdPool(100, 8)
	a, b := testKey(1), testKey(2)
	tx := func(k *ledger.Key, nonce uint64) (*ledger.Tx, ledger.Hash) {
		x := coldTransfer(k, nonce, b.Address, 1)
		return x, x.ID()
	}
	for _, n := range []uint64{2, 0, 1} { // out of order: 2 waits for 0 and 1
		x, id := tx(a, n)
		if err := p.add(x, id, 0); err != nil {
			t.Fatalf("add nonce %d: %v", n, err)
		}
	}
	if x, id := tx(a, 1); p.add(x, id, 0) != nil {
		t.Fatal("resubmitting a pending tx is not an error")
	}
	x3, id3 := tx(b, 5)
	if err := p.add(x3, id3, 5); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		from         *ledger.Key
		nonce, state uint64
		want         error
	}{{testKey(3), 0, 1, ErrNonceTooLow}, {a, 9, 0, ErrNonceTooHigh}} {
		x, id := coldTransfer(c.from, c.nonce, b.Address, 2), ledger.Hash{byte(c.nonce)}
		if err := p.add(x, id, c.state); !errors.Is(err, c.want) {
			t.Errorf("add nonce %d (state %d) = %v, want %v", c.nonce, c.state, err, c.want)
		}
	}
	if got := p.pendingNonce(a.Address, 0); got != 3 {
		t.Fatalf("pending nonce %d, want 3", got)
	}
	got := p.take(2)
	if len(got) != 2 || got[0].tx.Nonce != 0 || got[1].tx.Nonce != 1 {
		t.Fatalf("take(2) = %v", got)
	}
	rest := p.take(-1)
	if len(rest) != 2 || rest[0].tx.Nonce != 2 || rest[1].tx.From != b.Address {
		t.Fatalf("take(-1) = %v", rest)
	}
	p.done(append(got, rest...))
	if p.has(id3) || len(p.senders) != 0 || p.size != 0 {
		t.Fatalf("pool not empty after done: %+v", p)
	}
	// A gap holds a sender back; drain returns what is left.
	x, id := tx(a, 4)
	if err := p.add(x, id, 3); err != nil {
		t.Fatal(err)
	}
	if got := p.take(-1); len(got) != 0 {
		t.Fatalf("took %v across a gap", got)
	}
	if got := p.drain(); len(got) != 1 || p.has(id) {
		t.Fatalf("drain = %v", got)
	}
}

// TestColdPoolMovesPastAStaleRead admits a sender's transaction after a
// stale read of its cold nonce (a restarted leader still replaying its
// log): the transaction waits behind a gap that nothing will fill. The
// client's retry, admitted with the committed nonce, must move the sender
// forward so that the transaction is taken, and must forget what the
// committed nonce shows was already used. (Found by the robustness suite:
// cold transfers in flight at a whole-cluster kill never committed.)
func TestColdPoolMovesPastAStaleRead(t *testing.T) {
	p := newColdPool(100, 8)
	a, b := testKey(1), testKey(2)
	used := coldTransfer(a, 4, b.Address, 1)  // committed meanwhile: nonce 4 is used
	stuck := coldTransfer(a, 5, b.Address, 1) // the client's in-flight transaction
	for _, x := range []*ledger.Tx{used, stuck} {
		if err := p.add(x, x.ID(), 3); err != nil { // stale: the account's next cold nonce is really 5
			t.Fatal(err)
		}
	}
	if got := p.take(-1); len(got) != 0 {
		t.Fatalf("took %v across the gap at nonce 3", got)
	}
	if err := p.add(stuck, stuck.ID(), 5); err != nil { // the retry, with the committed nonce
		t.Fatalf("retry: %v", err)
	}
	got := p.take(-1)
	if len(got) != 1 || got[0].id != stuck.ID() {
		t.Fatalf("take(-1) = %v, want the retried transaction (nonce 5)", got)
	}
	if p.has(used.ID()) || p.size != 0 {
		t.Errorf("nonce 4, already used, is still pending (size %d)", p.size)
	}
	p.done(got)
	if len(p.senders) != 0 || len(p.byID) != 0 {
		t.Errorf("pool not empty after done: %+v", p)
	}
}
