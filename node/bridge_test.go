package node

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/bridge"
	"github.com/dualchain/dualchain/ledger"
)

// bridgeTx signs a call of the bridge: a settle (hot) or a deposit (cold).
func bridgeTx(from *ledger.Key, chain ledger.Chain, nonce, amount uint64) *ledger.Tx {
	fn := ledger.FuncSettle
	if chain == ledger.Cold {
		fn = ledger.FuncDeposit
	}
	tx := &ledger.Tx{
		ChainID: DefaultConfig().ChainID, Chain: chain, Nonce: nonce, From: from.Address,
		Contract: ledger.BridgeAddress, Function: fn, Args: ledger.EncodeAmount(amount), GasLimit: bridge.SettleGas,
	}
	tx.Sign(from.Private)
	return tx
}

// coldTransfer signs a transfer between cold accounts.
func coldTransfer(from *ledger.Key, nonce uint64, to ledger.Address, amount uint64) *ledger.Tx {
	tx := transfer(from, nonce, to, amount)
	tx.Chain = ledger.Cold
	tx.Sign(from.Private)
	return tx
}

// waitTransfer waits until the bridge transfer id is done.
func waitTransfer(t *testing.T, b backend, id ledger.Hash) api.BridgeTransfer {
	t.Helper()
	var last api.BridgeTransfer
	var err error
	waitFor(t, "bridge transfer "+id.String()+" done", func() bool {
		last, err = b.BridgeTransfer(context.Background(), id)
		return err == nil && last.Done()
	})
	return last
}

func coldBalance(t *testing.T, b backend, a ledger.Address) ledger.Account {
	t.Helper()
	acct, err := b.ColdAccount(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	return acct
}

func checkAudit(t *testing.T, b backend) api.Audit {
	t.Helper()
	a, err := b.Audit(context.Background())
	if err != nil {
		t.Fatalf("Audit = %v", err)
	}
	if !a.Conserved() || a.MirrorMismatches != 0 || a.BadBalances != 0 {
		t.Fatalf("audit fails: %+v", a)
	}
	return a
}

func TestBridgeSettleTransferDepositAndRestart(t *testing.T) {
	cfg := TestConfig(t.TempDir())
	n := startNode(t, cfg)
	b := backend{n.Node}
	f := faucet(t, cfg)
	alice, bob := ledger.KeyFromSeed(make([]byte, 32)), ledger.KeyFromSeed(append(make([]byte, 31), 1))
	submitWait(t, b, transfer(f, 0, alice.Address, 1000))

	// Settle 300 hot → cold: pending, then checkpointed with a proof.
	settle := bridgeTx(alice, ledger.Hot, 0, 300)
	rec := submitWait(t, b, settle)[0]
	if rec.Receipt.Status != ledger.StatusOK {
		t.Fatalf("settle receipt %+v", rec.Receipt)
	}
	st := waitTransfer(t, b, settle.ID())
	if st.Status != api.BridgeCheckpointed || st.Amount != 300 || st.Owner != alice.Address || st.ColdHeight == 0 || st.HotHeight != rec.Height {
		t.Fatalf("settle status %+v", st)
	}
	var proof ledger.Proof
	if err := json.Unmarshal(st.Proof.Proof, &proof); err != nil {
		t.Fatal(err)
	}
	if err := proof.Verify(st.Proof.Root); err != nil || !proof.Included() || proof.Account.Balance != 300 {
		t.Fatalf("settle proof: %v, %+v", err, proof.Account)
	}
	blk, err := b.ColdBlock(context.Background(), st.ColdHeight)
	if err != nil || blk.Header.StateRoot != st.Proof.Root || len(blk.Settlements) != 1 {
		t.Fatalf("cold block %d = %+v, %v; want the proof's root and the settlement", st.ColdHeight, blk, err)
	}
	if got := balance(t, b, alice.Address).Balance; got != 700 {
		t.Fatalf("alice hot balance %d after settling 300 of 1000", got)
	}

	// A cold transfer, then a deposit cold → hot.
	submitWait(t, b, coldTransfer(alice, 0, bob.Address, 100))
	dep := bridgeTx(alice, ledger.Cold, 1, 50)
	submitWait(t, b, dep)
	dt := waitTransfer(t, b, dep.ID())
	if dt.Status != api.BridgeCredited || dt.HotHeight == 0 || dt.Kind != ledger.KindDeposit {
		t.Fatalf("deposit status %+v", dt)
	}
	if got := balance(t, b, alice.Address).Balance; got != 750 {
		t.Fatalf("alice hot balance %d, want 750", got)
	}
	if a, bb := coldBalance(t, b, alice.Address), coldBalance(t, b, bob.Address); a.Balance != 150 || a.Nonce != 2 || bb.Balance != 100 {
		t.Fatalf("cold balances alice %+v bob %+v", a, bb)
	}
	// A replayed cold transaction changes nothing.
	if _, errs := b.Submit(context.Background(), []*ledger.Tx{coldTransfer(alice, 0, bob.Address, 7)}); !errors.Is(errs[0], ErrNonceTooLow) {
		t.Fatalf("replayed cold nonce: %v, want nonce_too_low", errs[0])
	}
	// The hot chain cleans its bridge records once the cold chain is done.
	waitFor(t, "bridge records cleaned up", func() bool {
		vals, err := n.store.Get(context.Background(), [][]byte{bridge.EscrowKey(settle.ID()), bridge.MarkerKey(dep.ID())})
		return err == nil && vals[0] == nil && vals[1] == nil
	})
	before := checkAudit(t, b)
	if before.ColdBalances != 250 || before.InFlightSettles != 0 || before.InFlightDeposits != 0 {
		t.Fatalf("audit %+v", before)
	}

	n.stop()
	n = startNode(t, cfg)
	b = backend{n.Node}
	after := checkAudit(t, b)
	if after.ColdRoot != before.ColdRoot || after.ColdHeight < before.ColdHeight || coldBalance(t, b, alice.Address).Balance != 150 {
		t.Fatalf("after restart %+v, before %+v", after, before)
	}
}
