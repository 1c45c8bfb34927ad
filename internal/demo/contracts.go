package demo

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/contracts/registry"
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/internal/progress"
	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/vm"
)

// callGas is the gas limit of the demo's contract calls.
const callGas = 1_000_000

// tokenSent is what alice sends bob with the token's transfer.
const tokenSent = 250

func (r *run) contractsTitle() string {
	return "Deploy the example name registry (Rust compiled to WebAssembly) and call it in the VM; call the base token, which runs natively"
}

// call is one contract call of step 3 and what its receipt must show.
type call struct {
	what     string
	tx       *ledger.Tx
	path     ledger.Path // the path it must have run on; 0 for any
	contract bool        // a deploy: its result is the new contract's address
}

// contracts deploys the registry, registers and resolves alice's name,
// and calls the token's transfer and balance_of.
func (r *run) contracts(ctx context.Context, s *Step) (string, error) {
	deploy := call{what: fmt.Sprintf("deploy registry.wasm (%s bytes)", progress.Count(int64(len(registry.Wasm)))),
		tx: &ledger.Tx{Chain: ledger.Hot, Contract: ledger.DeployAddress, Function: ledger.FuncDeploy,
			Args: registry.Wasm, GasLimit: vm.GasCall + vm.DeployGas(len(registry.Wasm))}, contract: true}
	res, err := r.call(ctx, deploy)
	if err != nil {
		return "", err
	}
	reg := ledger.Address(res.Receipt.Result)
	calls := []call{
		{"registry.register(\"alice\")", r.callTx(reg, "register", []byte("alice")), ledger.PathVM, false},
		{"registry.resolve(\"alice\")", r.callTx(reg, "resolve", []byte("alice")), ledger.PathVM, false},
		{fmt.Sprintf("token.transfer(bob, %d)", tokenSent), r.callTx(token.Address, token.FuncTransfer, token.EncodeTransfer(r.bob.addr(), tokenSent)), ledger.PathNative, false},
		{"token.balance_of(bob)", r.callTx(token.Address, token.FuncBalanceOf, r.bob.key.Address[:]), ledger.PathNative, false},
	}
	results := make([]api.TxResult, len(calls))
	for i, c := range calls {
		if results[i], err = r.call(ctx, c); err != nil {
			return "", err
		}
	}
	if err := r.checkOutputs(results[1], results[3]); err != nil {
		return "", err
	}
	s.Figures["contract"] = reg.String()
	s.Figures["gas_vm_register"] = results[0].Receipt.GasUsed
	s.Figures["gas_native_transfer"] = results[2].Receipt.GasUsed
	return fmt.Sprintf("registry at %s ran in the VM, the token natively; 5 receipts ok", shortAddr(reg)), nil
}

func (r *run) callTx(contract ledger.Address, function string, args []byte) *ledger.Tx {
	return &ledger.Tx{Chain: ledger.Hot, Contract: contract, Function: function, Args: args, GasLimit: callGas}
}

// call sends c from alice and narrates its receipt: path, gas, and
// output or events.
func (r *run) call(ctx context.Context, c call) (api.TxResult, error) {
	res, err := r.submit(ctx, 0, r.alice, c.tx)
	if err != nil {
		return res, err
	}
	if err := allOK([]api.TxResult{res}); err != nil {
		return res, fmt.Errorf("%s: %w", c.what, err)
	}
	rc := res.Receipt
	r.say.linef("%-28s path %-6s gas %8s  %s", c.what, rc.Path, progress.Count(int64(rc.GasUsed)), outcome(rc))
	switch {
	case c.path != 0 && rc.Path != c.path:
		return res, fmt.Errorf("%s ran on path %s, want %s", c.what, rc.Path, c.path)
	case c.contract && len(rc.Result) != len(ledger.Address{}):
		return res, fmt.Errorf("%s returned %d bytes, want a 32-byte contract address", c.what, len(rc.Result))
	}
	return res, nil
}

// outcome is what a receipt shows besides path and gas.
func outcome(rc *ledger.Receipt) string {
	switch {
	case len(rc.Result) == len(ledger.Address{}):
		return "→ " + shortAddr(ledger.Address(rc.Result))
	case len(rc.Result) == 8:
		return fmt.Sprintf("→ %d", binary.BigEndian.Uint64(rc.Result))
	case len(rc.Events) > 0:
		return "event " + rc.Events[0].Name
	}
	return "ok"
}

func shortAddr(a ledger.Address) string { return a.String()[:14] + "…" }

// checkOutputs checks that resolve named alice, and balance_of bob's
// funding plus what alice sent.
func (r *run) checkOutputs(resolve, balance api.TxResult) error {
	if got := ledger.Address(resolve.Receipt.Result); len(resolve.Receipt.Result) != 32 || got != r.alice.addr() {
		return fmt.Errorf("registry.resolve(\"alice\") returned %x, want alice's address %s", resolve.Receipt.Result, r.alice.addr())
	}
	want := uint64(fundAmount + tokenSent)
	if out := balance.Receipt.Result; len(out) != 8 || binary.BigEndian.Uint64(out) != want {
		return fmt.Errorf("token.balance_of(bob) returned %x, want %d", out, want)
	}
	return nil
}
