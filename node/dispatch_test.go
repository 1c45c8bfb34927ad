package node

import (
	"context"
	"strings"
	"testing"

	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/vm"
)

// TestBothModeCatchesAMismatch plants a native transfer that charges one
// gas too few: in both mode the call fails, loudly, and is counted.
func TestBothModeCatchesAMismatch(t *testing.T) {
	d := testDispatcher(t)
	key := nativeKey{token.CodeHash, token.FuncTransfer}
	honest := d.natives[key]
	d.natives[key] = func(e *vm.Env) {
		honest(e)
		e.Charge(1)
	}
	alice, bob := testKey(1), testKey(2)
	st := tokenState(state{string(token.BalanceKey(alice.Address)): ledger.EncodeUint64(100)})
	tx, _ := signedTransfer(alice, 0, bob.Address, 10)
	o := &overlay{base: st, writes: map[string][]byte{}}
	r := d.call(context.Background(), o, tx, 1)
	if r.Status != ledger.StatusAborted || !strings.Contains(r.Error, "native and VM results differ") || r.Writes != nil {
		t.Fatalf("call with a lying native function = %v %q writes %d, want aborted, no writes", r.Status, r.Error, len(r.Writes))
	}
	if got := d.mismatches.Load(); got != 1 {
		t.Fatalf("mismatches = %d, want 1", got)
	}
	d.natives[key] = honest
	if r := d.call(context.Background(), o, tx, 1); r.Status != ledger.StatusOK || r.Path != ledger.PathNative {
		t.Fatalf("honest call in both mode = %v %q path %v, want ok native", r.Status, r.Error, r.Path)
	}
}
