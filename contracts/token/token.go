package token

import (
	"crypto/sha256"
	_ "embed" // token.wasm
	"encoding/binary"
	"errors"

	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/vm"
)

// Wasm is the token's WebAssembly module, built from token.wat by
// `make contracts`.
//
//go:embed token.wasm
var Wasm []byte

// CodeHash is the hash of Wasm: the key, with a function name, of the
// token's optimistic native functions.
var CodeHash = ledger.Hash(sha256.Sum256(Wasm))

// Address is the base token's contract address.
var Address = ledger.ContractAddress("token")

// Functions the token exports.
const (
	FuncTransfer    = "transfer"
	FuncBalanceOf   = "balance_of"
	FuncTotalSupply = "total_supply"
)

// TransferArgsSize is the size of transfer's arguments: the recipient's
// address and the amount, 8 bytes big-endian.
const TransferArgsSize = 32 + 8

// TransferArgs are the arguments of transfer.
type TransferArgs struct {
	To     ledger.Address
	Amount uint64
}

// EncodeTransfer encodes transfer's arguments.
func EncodeTransfer(to ledger.Address, amount uint64) []byte {
	return binary.BigEndian.AppendUint64(append(make([]byte, 0, TransferArgsSize), to[:]...), amount)
}

// Errors for malformed arguments.
var (
	ErrBadArgs    = errors.New("token: transfer args must be 40 bytes: the recipient's address, then the amount as 8 bytes big-endian")
	ErrZeroAmount = errors.New("token: transfer amount must be positive")
)

// DecodeTransfer decodes transfer's arguments; the amount must be positive.
func DecodeTransfer(b []byte) (TransferArgs, error) {
	var a TransferArgs
	if len(b) != TransferArgsSize {
		return a, ErrBadArgs
	}
	copy(a.To[:], b)
	a.Amount = binary.BigEndian.Uint64(b[32:])
	if a.Amount == 0 {
		return a, ErrZeroAmount
	}
	return a, nil
}

// balanceKey is the token's own storage key of an account's balance.
func balanceKey(a ledger.Address) []byte {
	k := make([]byte, 1+len(a))
	k[0] = 'b'
	copy(k[1:], a[:])
	return k
}

// supplyKey is the token's own storage key of the total supply.
var supplyKey = []byte("t")

// BalanceKey is the state key of an account's balance of the base token.
func BalanceKey(a ledger.Address) []byte { return balanceKeyAt(Address, a) }

// balanceKeyAt is the state key of an account's balance in the token
// contract at contract (the token's code can be deployed more than once).
func balanceKeyAt(contract, a ledger.Address) []byte {
	return ledger.StorageKey(contract, balanceKey(a))
}

// Balance reads an account's balance of the base token from st.
func Balance(st vm.State, a ledger.Address) uint64 {
	v, _ := ledger.DecodeUint64(st.Get(BalanceKey(a)))
	return v
}

// Keys returns the state keys a call to the token contract at contract
// reads and writes, so a block's reads can be batched before execution. A
// call the token does not know returns nil keys and ok false.
func Keys(contract ledger.Address, function string, from ledger.Address, args []byte) (keys [][]byte, ok bool) {
	switch function {
	case FuncTransfer:
		a, err := DecodeTransfer(args)
		if err != nil {
			return [][]byte{balanceKeyAt(contract, from)}, true
		}
		return [][]byte{balanceKeyAt(contract, from), balanceKeyAt(contract, a.To)}, true
	case FuncBalanceOf:
		if len(args) == len(ledger.Address{}) {
			return [][]byte{balanceKeyAt(contract, ledger.Address(args))}, true
		}
		return nil, true
	case FuncTotalSupply:
		return [][]byte{ledger.StorageKey(contract, supplyKey)}, true
	}
	return nil, false
}

// Genesis returns the state writes that create the base token: its code,
// the total supply and the allocations.
func Genesis(g *ledger.Genesis) []ledger.Write {
	writes := []ledger.Write{
		{Key: ledger.CodeKey(Address), Value: CodeHash[:]},
		{Key: ledger.CodeBlobKey(CodeHash), Value: Wasm},
		{Key: ledger.StorageKey(Address, supplyKey), Value: ledger.EncodeUint64(g.Supply())},
	}
	for _, a := range g.Alloc {
		if a.Amount > 0 {
			writes = append(writes, ledger.Write{Key: BalanceKey(a.Address), Value: ledger.EncodeUint64(a.Amount)})
		}
	}
	return writes
}
