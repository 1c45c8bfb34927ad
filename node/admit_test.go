package node

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

// TestAdmissionRefusesOverdrafts: a settle, a cold transfer or a deposit
// its sender's committed balance cannot cover is refused at the door with
// insufficient_funds, as a hot transfer is; it takes no nonce and moves
// nothing. (Cold ones used to be admitted, then failed in their block and
// used up a cold nonce.)
func TestAdmissionRefusesOverdrafts(t *testing.T) {
	cfg := TestConfig(t.TempDir())
	n := startNode(t, cfg)
	b := n.Backend()
	f := faucet(t, cfg)
	bob := testKey(7)
	hot, err := b.Account(context.Background(), f.Address)
	if err != nil {
		t.Fatal(err)
	}
	coldBefore := coldBalance(t, backend{n.Node}, f.Address)
	tests := []struct {
		name string
		tx   *ledger.Tx
	}{
		{"settle past the hot balance", bridgeTx(f, ledger.Hot, 0, hot.Balance+1)},
		{"settle of 2^64-1", bridgeTx(f, ledger.Hot, 0, math.MaxUint64)},
		{"cold transfer of 2^64-1", coldTransfer(f, coldBefore.Nonce, bob.Address, math.MaxUint64)},
		{"cold transfer past the cold balance", coldTransfer(f, coldBefore.Nonce, bob.Address, coldBefore.Balance+1)},
		{"deposit from an empty cold account", bridgeTx(bob, ledger.Cold, 0, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := b.Submit(context.Background(), []*ledger.Tx{tt.tx})
			if !errors.Is(errs[0], ErrInsufficientFunds) {
				t.Fatalf("Submit = %v, want %v", errs[0], ErrInsufficientFunds)
			}
		})
	}
	after, err := b.Account(context.Background(), f.Address)
	if err != nil {
		t.Fatal(err)
	}
	coldAfter := coldBalance(t, backend{n.Node}, f.Address)
	if after.Balance != hot.Balance || after.PendingNonce != hot.PendingNonce || coldAfter != coldBefore {
		t.Fatalf("faucet after = hot %+v cold %+v, want hot %+v cold %+v", after, coldAfter, hot, coldBefore)
	}
	// A settle it can cover is still admitted.
	if _, errs := b.Submit(context.Background(), []*ledger.Tx{bridgeTx(f, ledger.Hot, 0, 1)}); errs[0] != nil {
		t.Fatalf("settle of 1 = %v, want admitted", errs[0])
	}
}
