package token

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/vm"
)

var (
	alice = ledger.Address{0xa1}
	bob   = ledger.Address{0xb0}
)

// tokenCase is one call of the token, from a given state.
type tokenCase struct {
	name     string
	path     path // the export's path, for TestInstructionGas
	state    vm.MapState
	caller   ledger.Address
	function string
	args     []byte
}

func balances(kv ...any) vm.MapState {
	m := vm.MapState{}
	for i := 0; i < len(kv); i += 2 {
		switch v := kv[i+1].(type) {
		case uint64:
			m[string(BalanceKey(kv[i].(ledger.Address)))] = ledger.EncodeUint64(v)
		case []byte:
			m[string(BalanceKey(kv[i].(ledger.Address)))] = v
		}
	}
	return m
}

func withSupply(m vm.MapState, v []byte) vm.MapState {
	m[string(ledger.StorageKey(Address, supplyKey))] = v
	return m
}

// tokenCases is the one table of token calls both paths run.
func tokenCases() []tokenCase {
	addr := func(a ledger.Address) []byte { return a[:] }
	return []tokenCase{
		{"transfer", pathOK, balances(alice, uint64(100), bob, uint64(5)), alice, FuncTransfer, EncodeTransfer(bob, 10)},
		{"transfer to a new account", pathOK, balances(alice, uint64(100)), alice, FuncTransfer, EncodeTransfer(bob, 10)},
		{"transfer everything", pathOK, balances(alice, uint64(100)), alice, FuncTransfer, EncodeTransfer(bob, 100)},
		{"transfer to oneself", pathOK, balances(alice, uint64(100)), alice, FuncTransfer, EncodeTransfer(alice, 40)},
		{"transfer the maximum", pathOK, balances(alice, uint64(math.MaxUint64)), alice, FuncTransfer, EncodeTransfer(bob, math.MaxUint64)},
		{"args too short", pathBadArgs, balances(alice, uint64(100)), alice, FuncTransfer, EncodeTransfer(bob, 10)[:39]},
		{"args too long", pathBadArgs, balances(alice, uint64(100)), alice, FuncTransfer, append(EncodeTransfer(bob, 10), 0)},
		{"no args", pathBadArgs, balances(alice, uint64(100)), alice, FuncTransfer, nil},
		{"zero amount", pathZeroAmount, balances(alice, uint64(100)), alice, FuncTransfer, EncodeTransfer(bob, 0)},
		{"insufficient", pathInsufficient, balances(alice, uint64(5)), alice, FuncTransfer, EncodeTransfer(bob, 10)},
		{"empty sender", pathInsufficient, balances(), alice, FuncTransfer, EncodeTransfer(bob, 1)},
		{"overflow", pathOverflow, balances(alice, uint64(10), bob, uint64(math.MaxUint64-5)), alice, FuncTransfer, EncodeTransfer(bob, 10)},
		{"corrupt sender", pathCorruptFrom, balances(alice, []byte{1, 2, 3}), alice, FuncTransfer, EncodeTransfer(bob, 1)},
		{"corrupt long sender", pathCorruptFrom, balances(alice, make([]byte, 9)), alice, FuncTransfer, EncodeTransfer(bob, 1)},
		{"corrupt recipient", pathCorruptTo, balances(alice, uint64(10), bob, []byte{1}), alice, FuncTransfer, EncodeTransfer(bob, 1)},
		{"balance_of", pathOK, balances(bob, uint64(77)), alice, FuncBalanceOf, addr(bob)},
		{"balance_of empty", pathOK, balances(), alice, FuncBalanceOf, addr(bob)},
		{"balance_of bad args", pathBadArgs, balances(), alice, FuncBalanceOf, []byte{1}},
		{"balance_of corrupt", pathCorruptFrom, balances(bob, []byte{1, 2}), alice, FuncBalanceOf, addr(bob)},
		{"total_supply", pathOK, withSupply(balances(), ledger.EncodeUint64(1e9)), alice, FuncTotalSupply, nil},
		{"total_supply none", pathOK, balances(), alice, FuncTotalSupply, []byte("ignored")},
		{"total_supply corrupt", pathCorruptFrom, withSupply(balances(), []byte{9}), alice, FuncTotalSupply, nil},
	}
}

// newProgram compiles token.wasm on a fresh VM.
func newProgram(t testing.TB, cfg vm.Config) *vm.Program {
	t.Helper()
	ctx := context.Background()
	v, err := vm.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close(ctx) })
	p, err := v.Compile(ctx, Wasm)
	if err != nil {
		t.Fatalf("Compile(token.wasm) = %v", err)
	}
	return p
}

func (c tokenCase) call(gas uint64) vm.Call {
	return vm.Call{Contract: Address, Caller: c.caller, Height: 9, Function: c.function, Args: c.args, GasLimit: gas}
}

func runVM(p *vm.Program, st vm.State, c vm.Call) vm.Result {
	return p.Run(context.Background(), vm.NewEnv(st, c), c.Function)
}

func runNative(st vm.State, c vm.Call) vm.Result {
	return vm.RunNative(vm.NewEnv(st, c), Natives()[c.Function])
}

// sameResult compares everything but the path.
func sameResult(native, wasm vm.Result) error {
	if !native.Same(wasm) {
		return fmt.Errorf("native %+v\n  vm %+v", native, wasm)
	}
	return nil
}

// TestInstructionGas measures the instruction gas of each path of each
// export in the VM and holds the native twins' tables to it.
func TestInstructionGas(t *testing.T) {
	p := newProgram(t, vm.DefaultConfig())
	tables := map[string]*[numPaths]uint64{FuncTransfer: &transferGas, FuncBalanceOf: &balanceOfGas, FuncTotalSupply: &totalSupplyGas}
	measured := map[string]*[numPaths]uint64{FuncTransfer: {}, FuncBalanceOf: {}, FuncTotalSupply: {}}
	for _, c := range tokenCases() {
		r := runVM(p, c.state, c.call(1<<40))
		got := r.GasUsed - r.HostGas
		if m := measured[c.function]; m[c.path] != 0 && m[c.path] != got {
			t.Errorf("%s: path %d uses %d instruction gas, another case of it %d: the path is not one path", c.name, c.path, got, m[c.path])
		}
		measured[c.function][c.path] = got
	}
	for fn, want := range measured {
		if *tables[fn] != *want {
			t.Errorf("native gas table of %s = %v, want %v (by path, see native.go; token.wat changed: update native.go)", fn, *tables[fn], *want)
		}
	}
}

// TestNativeMatchesVM runs the table through both paths, with gas to spare
// and with limits around what each call needs.
func TestNativeMatchesVM(t *testing.T) {
	p := newProgram(t, vm.DefaultConfig())
	for _, c := range tokenCases() {
		t.Run(c.name, func(t *testing.T) {
			need := runNative(c.state, c.call(1<<40)).GasUsed
			for _, gas := range []uint64{1 << 40, need, need - 1, need / 2, vm.GasCall, 0} {
				native, wasm := runNative(c.state, c.call(gas)), runVM(p, c.state, c.call(gas))
				if err := sameResult(native, wasm); err != nil {
					t.Fatalf("gas limit %d: %v", gas, err)
				}
				if gas < need && native.Status != ledger.StatusOutOfGas {
					t.Fatalf("gas limit %d < %d: status %v, want out_of_gas", gas, need, native.Status)
				}
			}
		})
	}
}

// TestTransferGasIsTheMost checks no transfer costs more than TransferGas.
func TestTransferGasIsTheMost(t *testing.T) {
	for _, c := range tokenCases() {
		if c.function != FuncTransfer {
			continue
		}
		if r := runNative(c.state, c.call(1<<40)); r.GasUsed > TransferGas {
			t.Errorf("%s uses %d gas, more than TransferGas %d", c.name, r.GasUsed, TransferGas)
		}
	}
}

// TestCallsStartClean runs the same call on one pooled instance and on
// fresh instances: a call must not see what an earlier one left in memory.
func TestCallsStartClean(t *testing.T) {
	pooled, fresh := newProgram(t, vm.DefaultConfig()), newProgram(t, freshConfig())
	c := tokenCases()[0]
	first := runVM(fresh, c.state, c.call(1<<40))
	for i := range 5 {
		corrupt := tokenCases()[12] // leaves a corrupt value's bytes in the buffer
		runVM(pooled, corrupt.state, corrupt.call(1<<40))
		if err := sameResult(first, runVM(pooled, c.state, c.call(1<<40))); err != nil {
			t.Fatalf("call %d on a reused instance: %v", i, err)
		}
	}
}

func freshConfig() vm.Config {
	cfg := vm.DefaultConfig()
	cfg.Fresh = true
	return cfg
}

// FuzzTransfers runs random transfer sequences among four accounts through
// both paths, each against its own state: every result, and the state
// after each call, must agree.
func FuzzTransfers(f *testing.F) {
	f.Add([]byte{0, 1, 10, 1, 2, 255, 3, 0, 0}, uint64(1_000))
	f.Add([]byte{0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, uint64(math.MaxUint64))
	f.Add([]byte{1, 1, 200, 2, 3, 1}, uint64(1))
	p := newProgram(f, vm.DefaultConfig())
	accounts := []ledger.Address{alice, bob, {0xc3}, {0xd4}}
	f.Fuzz(func(t *testing.T, ops []byte, start uint64) {
		native, wasm := balances(alice, start, bob, start/3), balances(alice, start, bob, start/3)
		for i := 0; i+2 < len(ops) && i < 300; i += 3 {
			from, to := accounts[ops[i]%4], accounts[ops[i+1]%4]
			amount := uint64(ops[i+2]) * (start/200 + 1)
			if ops[i+2] == 255 {
				amount = math.MaxUint64 - uint64(ops[i])
			}
			c := vm.Call{Contract: Address, Caller: from, Function: FuncTransfer, Args: EncodeTransfer(to, amount), GasLimit: TransferGas}
			if ops[i]&0x40 != 0 {
				c.GasLimit = TransferGas - uint64(ops[i+1])*20 // sometimes too little
			}
			rn, rv := runNative(native, c), runVM(p, wasm, c)
			if err := sameResult(rn, rv); err != nil {
				t.Fatalf("op %d: %v", i/3, err)
			}
			native.Apply(rn)
			wasm.Apply(rv)
			if !reflect.DeepEqual(native, wasm) {
				t.Fatalf("op %d: states differ:\nnative %v\n    vm %v", i/3, native, wasm)
			}
		}
	})
}

// TestOutputs pins what the read-only exports return.
func TestOutputs(t *testing.T) {
	p := newProgram(t, vm.DefaultConfig())
	st := withSupply(balances(bob, uint64(77)), ledger.EncodeUint64(1e9))
	for fn, want := range map[string]uint64{FuncBalanceOf: 77, FuncTotalSupply: 1e9} {
		c := vm.Call{Contract: Address, Caller: alice, Function: fn, Args: bob[:], GasLimit: 1 << 40}
		if fn == FuncTotalSupply {
			c.Args = nil
		}
		r := runVM(p, st, c)
		if r.Status != ledger.StatusOK || len(r.Output) != 8 || binary.BigEndian.Uint64(r.Output) != want {
			t.Errorf("%s = %v %q output %x, want %d", fn, r.Status, r.Error, r.Output, want)
		}
	}
	r := runVM(p, st, vm.Call{Contract: Address, Caller: alice, Function: "mint", GasLimit: 1 << 40})
	if r.Status != ledger.StatusUnknownFunction || !strings.Contains(r.Error, "mint") || r.GasUsed != vm.GasCall {
		t.Errorf("mint = %v %q gas %d, want unknown_function naming it, gas %d", r.Status, r.Error, r.GasUsed, vm.GasCall)
	}
}
