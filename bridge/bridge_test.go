package bridge

import (
	"testing"

	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/vm"
)

// state is a hot state for tests: key → value.
type state map[string][]byte

func (s state) Get(k []byte) []byte { return s[string(k)] }

func (s state) apply(ws []vm.Write) {
	for _, w := range ws {
		if len(w.Value) == 0 {
			delete(s, string(w.Key))
		} else {
			s[string(w.Key)] = w.Value
		}
	}
}

func (s state) kvs(yield func(k, v []byte) bool) {
	for k, v := range s {
		if !yield([]byte(k), v) {
			return
		}
	}
}

var alice, bob = ledger.Address{1}, ledger.Address{2}

func TestSettle(t *testing.T) {
	id := ledger.Hash{9}
	for _, tc := range []struct {
		name    string
		balance uint64
		args    []byte
		gas     uint64
		want    ledger.Status
	}{
		{"ok", 100, ledger.EncodeAmount(40), SettleGas, ledger.StatusOK},
		{"all of it", 100, ledger.EncodeAmount(100), SettleGas, ledger.StatusOK},
		{"insufficient", 100, ledger.EncodeAmount(101), SettleGas, ledger.StatusInsufficientFunds},
		{"zero", 100, ledger.EncodeAmount(0), SettleGas, ledger.StatusBadArgs},
		{"short args", 100, []byte{1}, SettleGas, ledger.StatusBadArgs},
		{"gas", 100, ledger.EncodeAmount(1), SettleGas - 1, ledger.StatusOutOfGas},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := state{string(token.BalanceKey(alice)): ledger.EncodeUint64(tc.balance)}
			r := Settle(st, alice, id, tc.args, tc.gas)
			if r.Status != tc.want || r.GasUsed != min(SettleGas, tc.gas) {
				t.Fatalf("Settle = %+v, want %v", r, tc.want)
			}
			if tc.want != ledger.StatusOK {
				if len(r.Writes) != 0 {
					t.Fatalf("a failed settle writes %v", r.Writes)
				}
				return
			}
			st.apply(r.Writes)
			amt, _ := ledger.DecodeAmount(tc.args)
			if got, _ := ledger.DecodeUint64(st.Get(token.BalanceKey(alice))); got != tc.balance-amt {
				t.Fatalf("balance %d after settling %d of %d", got, amt, tc.balance)
			}
			c := Scan(st)
			if len(c.Escrows) != 1 || c.Escrows[0].Transfer != (ledger.BridgeTransfer{ID: id, Kind: ledger.KindSettle, Owner: alice, Amount: amt}) {
				t.Fatalf("Scan = %+v", c)
			}
			// The same id again (never happens: ids are unique) is refused.
			if r := Settle(st, alice, id, ledger.EncodeAmount(1), SettleGas); r.Status == ledger.StatusOK && tc.balance > amt {
				t.Fatalf("second escrow of one id = %+v", r)
			}
		})
	}
}

func TestEffectsCreditOnceAndClean(t *testing.T) {
	st := state{string(token.BalanceKey(alice)): ledger.EncodeUint64(5)}
	d1 := ledger.BridgeTransfer{ID: ledger.Hash{1}, Kind: ledger.KindDeposit, Owner: alice, Amount: 10}
	d2 := ledger.BridgeTransfer{ID: ledger.Hash{2}, Kind: ledger.KindDeposit, Owner: alice, Amount: 7}
	d3 := ledger.BridgeTransfer{ID: ledger.Hash{3}, Kind: ledger.KindDeposit, Owner: bob, Amount: 1}
	deps := []ledger.BridgeTransfer{d1, d2, d3}
	st.apply(Effects(st, 4, deps, nil))
	if got, _ := ledger.DecodeUint64(st.Get(token.BalanceKey(alice))); got != 22 {
		t.Fatalf("alice %d, want 5+10+7", got)
	}
	if got, _ := ledger.DecodeUint64(st.Get(token.BalanceKey(bob))); got != 1 {
		t.Fatalf("bob %d, want 1", got)
	}
	// The same work again credits nothing: the markers are there.
	if w := Effects(st, 5, deps, nil); len(w) != 0 {
		t.Fatalf("second Effects = %v", w)
	}
	c := Scan(st)
	if len(c.Credits) != 3 || c.Credits[0].HotHeight != 4 {
		t.Fatalf("Scan credits = %+v", c.Credits)
	}
	sums := Sum(st.kvs, func(ledger.Hash) bool { return false })
	if sums.Balances != 23 || len(sums.Credited) != 3 || sums.BadBalances != 0 {
		t.Fatalf("Sum = %+v", sums)
	}
	// Cleaning deletes the markers present, and only those.
	clean := [][]byte{MarkerKey(d1.ID), MarkerKey(d2.ID), MarkerKey(ledger.Hash{99})}
	w := Effects(st, 6, nil, clean)
	if len(w) != 2 {
		t.Fatalf("clean = %v, want 2 deletes", w)
	}
	st.apply(w)
	after := map[string][]byte{}
	for _, x := range w {
		after[string(x.Key)] = nil
	}
	if c := Scan(after); len(c.Cleaned) != 2 {
		t.Fatalf("Scan of deletes = %+v", c)
	}
}

func TestSumCountsEscrowsUntilCredited(t *testing.T) {
	st := state{string(token.BalanceKey(alice)): ledger.EncodeUint64(100)}
	st.apply(Settle(st, alice, ledger.Hash{1}, ledger.EncodeAmount(30), SettleGas).Writes)
	st.apply(Settle(st, alice, ledger.Hash{2}, ledger.EncodeAmount(20), SettleGas).Writes)
	s := Sum(st.kvs, func(id ledger.Hash) bool { return id == ledger.Hash{1} })
	if s.Balances != 50 || s.Escrowed != 20 || s.Accounts != 1 {
		t.Fatalf("Sum = %+v, want balances 50 and 20 escrowed (30 credited)", s)
	}
	st[string(token.BalanceKey(bob))] = []byte{1, 2, 3}
	if s := Sum(st.kvs, func(ledger.Hash) bool { return false }); s.BadBalances != 1 {
		t.Fatalf("a corrupt balance: %+v", s)
	}
}
