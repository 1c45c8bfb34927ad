package node

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/dualchain/dualchain/bridge"
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/vm"
)

// Execution modes: which path runs a call that has a native function.
const (
	ExecNative = "native" // the native function (the default)
	ExecVM     = "vm"     // the VM, always
	ExecBoth   = "both"   // both, comparing results; a difference fails the call
)

// nativeKey names an optimistic native function: code, then export.
type nativeKey struct {
	code     ledger.Hash
	function string
}

// dispatcher runs a transaction's call on the path the mode picks.
type dispatcher struct {
	vm      *vm.VM
	mode    string
	natives map[nativeKey]vm.NativeFunc
	logger  *slog.Logger

	// mismatches counts calls whose native and VM results differed in
	// ExecBoth mode; each is a bug. Exported as a metric; tests require 0.
	mismatches atomic.Uint64
}

func newDispatcher(v *vm.VM, mode string, logger *slog.Logger) *dispatcher {
	d := &dispatcher{vm: v, mode: mode, natives: make(map[nativeKey]vm.NativeFunc), logger: logger}
	for name, fn := range token.Natives() {
		d.natives[nativeKey{token.CodeHash, name}] = fn
	}
	return d
}

// call runs tx against st, which the call reads through; it writes nothing:
// the result carries the writes.
func (d *dispatcher) call(ctx context.Context, st vm.State, tx *ledger.Tx, height uint64) vm.Result {
	c := vm.Call{
		Contract: tx.Contract, Caller: tx.From, Nonce: tx.Nonce, Height: height,
		Function: tx.Function, Args: tx.Args, GasLimit: tx.GasLimit,
	}
	if tx.Contract == ledger.BridgeAddress {
		if tx.Chain == ledger.Hot && tx.Function == ledger.FuncSettle {
			return bridge.Settle(st, tx.From, tx.ID(), tx.Args, tx.GasLimit)
		}
		return vm.Result{Status: ledger.StatusUnknownFunction, Error: "the bridge's hot function is settle",
			GasUsed: min(vm.GasCall, tx.GasLimit), Path: ledger.PathNative}
	}
	if tx.Contract == ledger.DeployAddress && tx.Function == ledger.FuncDeploy {
		return d.vm.Deploy(ctx, vm.NewEnv(st, c))
	}
	code := st.Get(ledger.CodeKey(tx.Contract))
	if len(code) != len(ledger.Hash{}) {
		return vm.Result{
			Status: ledger.StatusUnknownFunction, Error: fmt.Sprintf("no contract at %s", tx.Contract),
			GasUsed: min(vm.GasCall, tx.GasLimit), Path: ledger.PathVM,
		}
	}
	hash := ledger.Hash(code)
	native := d.natives[nativeKey{hash, tx.Function}]
	switch {
	case native == nil || d.mode == ExecVM:
		return d.runVM(ctx, st, hash, c)
	case d.mode == ExecBoth:
		return d.compare(ctx, st, hash, c, native)
	}
	return vm.RunNative(vm.NewEnv(st, c), native)
}

// runVM runs the call in the VM, compiling the contract's code on first use.
func (d *dispatcher) runVM(ctx context.Context, st vm.State, hash ledger.Hash, c vm.Call) vm.Result {
	p := d.vm.Lookup(hash)
	if p == nil {
		var err error
		if p, err = d.vm.Compile(ctx, st.Get(ledger.CodeBlobKey(hash))); err != nil {
			// Deploy compiled this code once; failing now is the node's fault.
			d.logger.Error("contract code does not compile", "contract", c.Contract, "code", hash, "err", err)
			return vm.Result{Status: ledger.StatusAborted, Error: "contract code does not compile on this node: " + err.Error(), Path: ledger.PathVM}
		}
	}
	return p.Run(ctx, vm.NewEnv(st, c), c.Function)
}

// compare runs the call both ways. Any difference is a bug in a native
// function or the VM: the call fails, and both results are logged.
func (d *dispatcher) compare(ctx context.Context, st vm.State, hash ledger.Hash, c vm.Call, native vm.NativeFunc) vm.Result {
	nr := vm.RunNative(vm.NewEnv(st, c), native)
	vr := d.runVM(ctx, st, hash, c)
	if nr.Same(vr) {
		nr.Trace = vr.Trace // the VM run's: the native run has none
		return nr
	}
	d.mismatches.Add(1)
	d.logger.Error("NATIVE AND VM DISAGREE: failing the call",
		"contract", c.Contract, "function", c.Function, "caller", c.Caller, "args", fmt.Sprintf("%x", c.Args),
		"native", fmt.Sprintf("%+v", nr), "vm", fmt.Sprintf("%+v", vr))
	return vm.Result{
		Status: ledger.StatusAborted, GasUsed: vr.GasUsed, Path: ledger.PathVM, Trace: vr.Trace,
		Error: fmt.Sprintf("native and VM results differ (native: %v, %d gas; vm: %v, %d gas)", nr.Status, nr.GasUsed, vr.Status, vr.GasUsed),
	}
}
