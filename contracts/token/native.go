package token

import (
	"encoding/binary"
	"math/bits"

	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/vm"
)

// Natives returns the token's optimistic native functions by export name:
// Go twins of token.wat's exports. Each makes the same host calls in the
// same order as its export and charges the instructions the export runs on
// the same path, so both give the same result, writes and gas.
func Natives() map[string]vm.NativeFunc {
	return map[string]vm.NativeFunc{
		FuncTransfer:    transfer,
		FuncBalanceOf:   balanceOf,
		FuncTotalSupply: totalSupply,
	}
}

// path is one way through an export: its outcome.
type path uint8

const (
	pathOK path = iota
	pathBadArgs
	pathZeroAmount
	pathInsufficient
	pathOverflow
	pathCorruptFrom // also the one balance balance_of and total_supply read
	pathCorruptTo
	numPaths
)

// Instruction gas token.wasm's exports use on each path, as the
// instrumented module charges it. TestInstructionGas measures these from
// the module and fails, printing the right table, when token.wat changes.
var (
	transferGas    = [numPaths]uint64{pathOK: 253, pathBadArgs: 20, pathZeroAmount: 49, pathInsufficient: 107, pathOverflow: 211, pathCorruptFrom: 77, pathCorruptTo: 181}
	balanceOfGas   = [numPaths]uint64{pathOK: 64, pathBadArgs: 18, pathCorruptFrom: 38}
	totalSupplyGas = [numPaths]uint64{pathOK: 55, pathCorruptFrom: 29}
)

func transfer(e *vm.Env) {
	args := input(e, TransferArgsSize, &transferGas)
	amount := binary.BigEndian.Uint64(args[32:])
	if amount == 0 {
		fail(e, transferGas[pathZeroAmount], ledger.StatusBadArgs, "zero amount")
	}
	from := balanceKey(e.Caller())
	bal := readBalance(e, from, transferGas[pathCorruptFrom])
	if bal < amount {
		fail(e, transferGas[pathInsufficient], ledger.StatusInsufficientFunds, "insufficient funds")
	}
	e.Write(from, ledger.EncodeUint64(bal-amount))
	to := balanceKey(ledger.Address(args[:32]))
	bal = readBalance(e, to, transferGas[pathCorruptTo])
	sum, carry := bits.Add64(bal, amount, 0)
	if carry != 0 {
		fail(e, transferGas[pathOverflow], ledger.StatusOverflow, "overflow")
	}
	e.Write(to, ledger.EncodeUint64(sum))
	e.Charge(transferGas[pathOK])
}

func balanceOf(e *vm.Env) {
	args := input(e, len(ledger.Address{}), &balanceOfGas)
	bal := readBalance(e, balanceKey(ledger.Address(args)), balanceOfGas[pathCorruptFrom])
	e.Output(binary.BigEndian.AppendUint64(nil, bal))
	e.Charge(balanceOfGas[pathOK])
}

func totalSupply(e *vm.Env) {
	supply := readBalance(e, supplyKey, totalSupplyGas[pathCorruptFrom])
	e.Output(binary.BigEndian.AppendUint64(nil, supply))
	e.Charge(totalSupplyGas[pathOK])
}

// input returns the call's arguments, which must be n bytes.
func input(e *vm.Env, n int, gas *[numPaths]uint64) []byte {
	if e.InputLen() != n {
		fail(e, gas[pathBadArgs], ledger.StatusBadArgs, "bad args")
	}
	return e.Input()
}

// readBalance reads an amount stored under the token's key; a value that
// is neither empty nor 8 bytes fails the call.
func readBalance(e *vm.Env, key []byte, corruptGas uint64) uint64 {
	v, n := e.Read(key, 8)
	if n != 0 && n != 8 {
		fail(e, corruptGas, ledger.StatusAborted, "corrupt balance")
	}
	bal, _ := ledger.DecodeUint64(v)
	return bal
}

// fail charges the instructions of the path that ends here and aborts.
func fail(e *vm.Env, gas uint64, status ledger.Status, msg string) {
	e.Charge(gas)
	e.Abort(status, msg)
}

// Transfer runs a transfer of the token at Address natively against st:
// for fakes and tests that need the token without a node.
func Transfer(st vm.State, from ledger.Address, args []byte, gasLimit uint64) vm.Result {
	return vm.RunNative(vm.NewEnv(st, vm.Call{
		Contract: Address, Caller: from, Function: FuncTransfer, Args: args, GasLimit: gasLimit,
	}), transfer)
}

// TransferGas is the most a transfer can use (both balances present and
// rewritten); clients use it as a transfer's gas limit.
var TransferGas = func() uint64 {
	from, to := ledger.Address{1}, ledger.Address{2}
	st := vm.MapState{string(BalanceKey(from)): ledger.EncodeUint64(2), string(BalanceKey(to)): ledger.EncodeUint64(1)}
	return Transfer(st, from, EncodeTransfer(to, 1), 1<<40).GasUsed
}()
