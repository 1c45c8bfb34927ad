package apitest

import (
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
)

// ChainID is the chain id tests use.
const ChainID = "apitest"

// Key returns a deterministic key, different for each n.
func Key(n byte) *ledger.Key {
	seed := make([]byte, 32)
	seed[0], seed[31] = n, 0xa5
	return ledger.KeyFromSeed(seed)
}

// Transfer returns a signed hot-chain token transfer on ChainID.
func Transfer(from *ledger.Key, nonce uint64, to ledger.Address, amount uint64) *ledger.Tx {
	tx := &ledger.Tx{
		ChainID: ChainID, Chain: ledger.Hot, Nonce: nonce, From: from.Address,
		Contract: token.Address, Function: token.FuncTransfer,
		Args: token.EncodeTransfer(to, amount), GasLimit: token.TransferGas,
	}
	tx.Sign(from.Private)
	return tx
}

// Funded returns a Backend on ChainID where each of keys holds amount.
func Funded(autoCommit bool, amount uint64, keys ...*ledger.Key) *Backend {
	alloc := make([]ledger.Allocation, len(keys))
	for i, k := range keys {
		alloc[i] = ledger.Allocation{Address: k.Address, Amount: amount}
	}
	return NewBackend(Config{ChainID: ChainID, Alloc: alloc, AutoCommit: autoCommit})
}
