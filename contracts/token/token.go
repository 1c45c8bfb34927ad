package token

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/dualchain/dualchain/ledger"
)

// Address is the base token's contract address.
var Address = ledger.ContractAddress("token")

// Functions the token exports.
const (
	FuncTransfer = "transfer"
)

// TransferGas is the gas a transfer uses, on either path.
const TransferGas uint64 = 2_000

// State is the view of hot state a call runs against.
type State interface {
	Get(key []byte) []byte
	Set(key, value []byte)
}

// TransferArgs are the arguments of transfer, CBOR-encoded as [to, amount].
type TransferArgs struct {
	_      struct{} `cbor:",toarray"`
	To     ledger.Address
	Amount uint64
}

// EncodeTransfer encodes transfer's arguments.
func EncodeTransfer(to ledger.Address, amount uint64) []byte {
	b, err := ledger.Marshal(TransferArgs{To: to, Amount: amount})
	if err != nil {
		panic(err) // fixed-shape struct: cannot fail
	}
	return b
}

// Errors for malformed arguments.
var (
	ErrBadArgs    = errors.New("token: transfer args must be the canonical CBOR array [to (32-byte string), amount (uint)]")
	ErrZeroAmount = errors.New("token: transfer amount must be positive")
)

// argsPrefix starts every canonical transfer argument encoding: a
// two-element array, then a 32-byte byte string.
var argsPrefix = []byte{0x82, 0x58, 0x20}

// DecodeTransfer decodes transfer's arguments, which must be exactly the
// canonical encoding EncodeTransfer makes; the amount must be positive.
// It is hand-written because it runs several times per transfer on the hot
// path; token_test.go holds it to the generic decoder.
func DecodeTransfer(b []byte) (TransferArgs, error) {
	var a TransferArgs
	if len(b) < len(argsPrefix)+32+1 || string(b[:len(argsPrefix)]) != string(argsPrefix) {
		return a, ErrBadArgs
	}
	copy(a.To[:], b[len(argsPrefix):])
	amount, ok := canonicalUint(b[len(argsPrefix)+32:])
	if !ok {
		return a, ErrBadArgs
	}
	if amount == 0 {
		return a, ErrZeroAmount
	}
	a.Amount = amount
	return a, nil
}

// canonicalUint reads a CBOR unsigned integer in its shortest form that
// fills b exactly.
func canonicalUint(b []byte) (uint64, bool) {
	if len(b) == 0 || b[0]>>5 != 0 {
		return 0, false
	}
	info := b[0] & 0x1f
	if info < 24 {
		return uint64(info), len(b) == 1
	}
	if info > 27 {
		return 0, false
	}
	size := 1 << (info - 24) // 1, 2, 4 or 8 bytes
	if len(b) != 1+size {
		return 0, false
	}
	var v uint64
	for _, c := range b[1:] {
		v = v<<8 | uint64(c)
	}
	minimum := [...]uint64{24, 1 << 8, 1 << 16, 1 << 32}[info-24]
	return v, v >= minimum
}

// BalanceKey is the state key of an account's token balance.
func BalanceKey(a ledger.Address) []byte {
	k := make([]byte, 1+len(a))
	k[0] = 'b'
	copy(k[1:], a[:])
	return ledger.StorageKey(Address, k)
}

// Balance reads an account's balance from st.
func Balance(st State, a ledger.Address) uint64 {
	v, _ := ledger.DecodeUint64(st.Get(BalanceKey(a)))
	return v
}

// Keys returns the state keys a call to function with args reads and writes,
// so a block's reads can be batched before execution. A call the token does
// not know returns nil keys and ok false.
func Keys(function string, from ledger.Address, args []byte) (keys [][]byte, ok bool) {
	if function != FuncTransfer {
		return nil, false
	}
	a, err := DecodeTransfer(args)
	if err != nil {
		return [][]byte{BalanceKey(from)}, true
	}
	return [][]byte{BalanceKey(from), BalanceKey(a.To)}, true
}

// Transfer moves amount from the caller to args.To. On failure it changes
// nothing and returns the status and a message.
func Transfer(st State, from ledger.Address, args []byte) (ledger.Status, string) {
	a, err := DecodeTransfer(args)
	if err != nil {
		return ledger.StatusBadArgs, err.Error()
	}
	fromBal := Balance(st, from)
	if fromBal < a.Amount {
		return ledger.StatusInsufficientFunds, fmt.Sprintf("balance %d < amount %d", fromBal, a.Amount)
	}
	if a.To == from {
		return ledger.StatusOK, ""
	}
	toBal := Balance(st, a.To)
	sum, carry := bits.Add64(toBal, a.Amount, 0)
	if carry != 0 {
		return ledger.StatusOverflow, fmt.Sprintf("recipient balance %d + %d overflows", toBal, a.Amount)
	}
	st.Set(BalanceKey(from), ledger.EncodeUint64(fromBal-a.Amount))
	st.Set(BalanceKey(a.To), ledger.EncodeUint64(sum))
	return ledger.StatusOK, ""
}
