package bench

import (
	"fmt"

	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
)

// Amounts the workloads move: small, so that funded balances last any run.
const (
	hotFunds  = 1 << 24 // each account's hot balance
	coldFunds = 1 << 20 // each account's cold balance (cold and mixed workloads)
	maxAmount = 7       // a workload transaction moves 1 to maxAmount
)

// registerGas is the gas limit of a registry call: register costs a few
// thousand in the VM.
const registerGas = 1_000_000

// mixedEvery is the mixed workload's cycle: one settle and one deposit in
// every mixedEvery transactions, the rest hot transfers.
const mixedEvery = 20

// txSpec is one unsigned transaction a workload wants from a sender.
type txSpec struct {
	chain    ledger.Chain
	contract ledger.Address
	function string
	args     []byte
	gas      uint64
}

// generator returns the workload's i-th transaction from sender a to the
// recipient to. registry is the deployed registry for Contract.
func generator(workload string, registry ledger.Address) func(i int, a *account, to ledger.Address) txSpec {
	amount := func(i int) uint64 { return uint64(1 + i%maxAmount) }
	transfer := func(chain ledger.Chain, i int, to ledger.Address) txSpec {
		return txSpec{chain, token.Address, token.FuncTransfer, token.EncodeTransfer(to, amount(i)), token.TransferGas}
	}
	switch workload {
	case Contract:
		return func(i int, a *account, _ ledger.Address) txSpec {
			// A name of its own per call: the sender's address prefix and nonce.
			name := fmt.Sprintf("b%x-%d", a.key.Address[:6], a.hot)
			return txSpec{ledger.Hot, registry, "register", []byte(name), registerGas}
		}
	case Cold:
		return func(i int, _ *account, to ledger.Address) txSpec { return transfer(ledger.Cold, i, to) }
	case Mixed:
		return func(i int, _ *account, to ledger.Address) txSpec {
			switch i % mixedEvery {
			case 0:
				return txSpec{ledger.Hot, ledger.BridgeAddress, ledger.FuncSettle, ledger.EncodeAmount(amount(i)), client.BridgeGas}
			case mixedEvery / 2:
				return txSpec{ledger.Cold, ledger.BridgeAddress, ledger.FuncDeposit, ledger.EncodeAmount(amount(i)), client.BridgeGas}
			}
			return transfer(ledger.Hot, i, to)
		}
	}
	return func(i int, _ *account, to ledger.Address) txSpec { return transfer(ledger.Hot, i, to) }
}

// presign signs n transactions of gen round-robin over accts, on every
// core: transaction i is sent by account i%len(accts) to the next
// account (or to a fresh address with fresh), so that consecutive batches
// keep every sender's nonces close together. It advances the accounts'
// nonces.
func presign(chainID string, accts []*account, n int, fresh bool, gen func(int, *account, ledger.Address) txSpec) []*ledger.Tx {
	txs := make([]*ledger.Tx, n)
	for i := range txs { // nonces in order, before the parallel signing
		a := accts[i%len(accts)]
		to := accts[(i+1)%len(accts)].key.Address
		if fresh {
			to = freshAddress()
		}
		s := gen(i, a, to)
		txs[i] = &ledger.Tx{ChainID: chainID, Chain: s.chain, Nonce: a.next(s.chain), From: a.key.Address,
			Contract: s.contract, Function: s.function, Args: s.args, GasLimit: s.gas}
	}
	parallel(n, func(i int) { txs[i].Sign(accts[i%len(accts)].key.Private) })
	return txs
}

// batches cuts txs into batches of size.
func batches(txs []*ledger.Tx, size int) [][]*ledger.Tx {
	out := make([][]*ledger.Tx, 0, (len(txs)+size-1)/size)
	for lo := 0; lo < len(txs); lo += size {
		out = append(out, txs[lo:min(lo+size, len(txs))])
	}
	return out
}
