package node

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dualchain/dualchain/contracts/registry"
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/vm"
)

// call signs a contract call on the dev chain.
func call(from *ledger.Key, nonce uint64, contract ledger.Address, function string, args []byte, gas uint64) *ledger.Tx {
	tx := &ledger.Tx{
		ChainID: DefaultConfig().ChainID, Chain: ledger.Hot, Nonce: nonce, From: from.Address,
		Contract: contract, Function: function, Args: args, GasLimit: gas,
	}
	tx.Sign(from.Private)
	return tx
}

func deploy(from *ledger.Key, nonce uint64, code []byte) *ledger.Tx {
	return call(from, nonce, ledger.DeployAddress, ledger.FuncDeploy, code, vm.GasCall+vm.DeployGas(len(code)))
}

// TestDeployAndCall deploys the registry and uses it through the node.
func TestDeployAndCall(t *testing.T) {
	cfg := TestConfig(t.TempDir())
	n := startNode(t, cfg)
	f := faucet(t, cfg)
	b := n.Backend()
	rec := submitWait(t, b, deploy(f, 0, registry.Wasm))[0]
	addr := ledger.DeployedAddress(f.Address, 0)
	if rec.Receipt.Status != ledger.StatusOK || string(rec.Receipt.Result) != string(addr[:]) {
		t.Fatalf("deploy receipt = %+v, want ok with the address %s", rec.Receipt, addr)
	}
	recs := submitWait(t, b,
		call(f, 1, addr, "register", []byte("alice"), 1e6),
		call(f, 2, addr, "resolve", []byte("alice"), 1e6),
		call(f, 3, addr, "count", nil, 1e6),
		call(f, 4, addr, "register", []byte("alice"), 1e6),
		call(f, 5, addr, "nope", nil, 1e6),
	)
	want := []struct {
		status ledger.Status
		result []byte
	}{
		{ledger.StatusOK, nil},
		{ledger.StatusOK, f.Address[:]},
		{ledger.StatusOK, binary.BigEndian.AppendUint64(nil, 1)},
		{ledger.StatusAborted, nil},
		{ledger.StatusUnknownFunction, nil},
	}
	for i, r := range recs {
		rc := r.Receipt
		if rc.Status != want[i].status || string(rc.Result) != string(want[i].result) || rc.Path != ledger.PathVM || rc.GasUsed == 0 {
			t.Errorf("call %d receipt = %+v, want %v result %x on the vm path", i, rc, want[i].status, want[i].result)
		}
	}
	if ev := recs[0].Receipt.Events; len(ev) != 1 || ev[0].Name != "registered" {
		t.Errorf("register events = %v, want registered", ev)
	}
	if acct := balance(t, b, f.Address); acct.Nonce != 6 {
		t.Errorf("faucet nonce = %d, want 6: every included call consumes one", acct.Nonce)
	}
}

// TestExecModes runs the same token traffic on a node in each mode: the
// receipts agree on everything but the path.
func TestExecModes(t *testing.T) {
	var gas [][]uint64
	for _, mode := range []string{ExecNative, ExecVM, ExecBoth} {
		t.Run(mode, func(t *testing.T) {
			cfg := TestConfig(t.TempDir())
			cfg.Exec = mode
			n := startNode(t, cfg)
			f := faucet(t, cfg)
			bob := testKey(7)
			recs := submitWait(t, n.Backend(),
				transfer(f, 0, bob.Address, 500),
				transfer(f, 1, f.Address, 10),
				call(f, 2, token.Address, token.FuncBalanceOf, bob.Address[:], 1e6),
				call(f, 3, token.Address, token.FuncTotalSupply, nil, 1e6),
				call(f, 4, token.Address, token.FuncBalanceOf, []byte("short"), 1e6),
			)
			wantPath := map[string]ledger.Path{ExecNative: ledger.PathNative, ExecVM: ledger.PathVM, ExecBoth: ledger.PathNative}[mode]
			var used []uint64
			for i, r := range recs {
				if r.Receipt.Path != wantPath {
					t.Errorf("tx %d path = %v, want %v", i, r.Receipt.Path, wantPath)
				}
				used = append(used, r.Receipt.GasUsed)
			}
			if got := binary.BigEndian.Uint64(recs[2].Receipt.Result); got != 500 {
				t.Errorf("balance_of(bob) = %d, want 500", got)
			}
			if got := binary.BigEndian.Uint64(recs[3].Receipt.Result); got != DevSupply {
				t.Errorf("total_supply = %d, want %d", got, DevSupply)
			}
			if rc := recs[4].Receipt; rc.Status != ledger.StatusBadArgs {
				t.Errorf("balance_of with short args = %v %q, want bad_args", rc.Status, rc.Error)
			}
			gas = append(gas, used)
		})
	}
	for i := 1; i < len(gas); i++ {
		if len(gas[i]) != len(gas[0]) || !equalUints(gas[i], gas[0]) {
			t.Errorf("gas used differs between modes: %v", gas)
		}
	}
}

func equalUints(a, b []uint64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestHostileContract: calls that loop, recurse, grow memory or trap fail
// with clear receipts, and the node keeps producing blocks.
func TestHostileContract(t *testing.T) {
	cfg := TestConfig(t.TempDir())
	n := startNode(t, cfg)
	f := faucet(t, cfg)
	b := n.Backend()
	code, err := os.ReadFile("../vm/testdata/hostile.wasm")
	if err != nil {
		t.Fatal(err)
	}
	submitWait(t, b, deploy(f, 0, code))
	addr := ledger.DeployedAddress(f.Address, 0)
	calls := map[string]ledger.Status{
		"loop": ledger.StatusOutOfGas, "recurse": ledger.StatusAborted, "grow_huge": ledger.StatusOutOfGas,
		"grow_all": ledger.StatusOK, "trap": ledger.StatusAborted, "emit_many": ledger.StatusAborted,
	}
	nonce := uint64(1)
	for fn, want := range calls {
		start := time.Now()
		rec := submitWait(t, b, call(f, nonce, addr, fn, nil, 1_000_000))[0]
		nonce++
		if rec.Receipt.Status != want {
			t.Errorf("%s = %v %q, want %v", fn, rec.Receipt.Status, rec.Receipt.Error, want)
		}
		t.Logf("%s: %v %q, %d gas, %v", fn, rec.Receipt.Status, rec.Receipt.Error, rec.Receipt.GasUsed, time.Since(start))
	}
	bob := testKey(9)
	submitWait(t, b, transfer(f, nonce, bob.Address, 1))
	if got := balance(t, b, bob.Address).Balance; got != 1 {
		t.Fatalf("after the hostile calls, a transfer left bob %d, want 1", got)
	}
}

// TestAdmissionRefuses checks calls refused before they take a nonce.
func TestAdmissionRefuses(t *testing.T) {
	cfg := TestConfig(t.TempDir())
	n := startNode(t, cfg)
	f := faucet(t, cfg)
	float, err := os.ReadFile("../vm/testdata/refused/float.wasm")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		tx   *ledger.Tx
		want error
		msg  string
	}{
		{"float module", deploy(f, 0, float), ErrBadModule, "float"},
		{"garbage module", deploy(f, 0, []byte("garbage")), ErrBadModule, "invalid module"},
		{"deploy gas", call(f, 0, ledger.DeployAddress, ledger.FuncDeploy, registry.Wasm, 1000), ErrGasLimit, "deploying"},
		{"deploy function", call(f, 0, ledger.DeployAddress, "upgrade", registry.Wasm, 1e7), ErrUnknownContract, "deploy"},
		{"call gas", call(f, 0, ledger.Address{1}, "x", nil, 10), ErrGasLimit, "base cost"},
		{"huge gas", call(f, 0, ledger.Address{1}, "x", nil, MaxGasLimit+1), ErrGasLimit, "at most"},
		{"no contract", call(f, 0, ledger.Address{1}, "x", nil, 1e6), ErrUnknownContract, "no contract at"},
	}
	for _, tt := range tests {
		_, errs := n.Backend().Submit(context.Background(), []*ledger.Tx{tt.tx})
		if !errors.Is(errs[0], tt.want) || !strings.Contains(errs[0].Error(), tt.msg) {
			t.Errorf("%s: Submit = %v, want %v mentioning %q", tt.name, errs[0], tt.want, tt.msg)
		}
	}
	if acct := balance(t, n.Backend(), f.Address); acct.PendingNonce != 0 {
		t.Errorf("pending nonce = %d after refused txs, want 0", acct.PendingNonce)
	}
}
