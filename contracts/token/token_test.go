package token

import (
	"errors"
	"math"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

func TestDecodeTransferRoundTrip(t *testing.T) {
	to := ledger.Address{1, 2, 3}
	for _, amount := range []uint64{1, 255, 256, 1<<32 - 1, 1 << 32, math.MaxUint64} {
		got, err := DecodeTransfer(EncodeTransfer(to, amount))
		if err != nil || got.To != to || got.Amount != amount {
			t.Fatalf("DecodeTransfer(EncodeTransfer(%d)) = %+v, %v", amount, got, err)
		}
	}
}

func TestDecodeTransferRejects(t *testing.T) {
	good := EncodeTransfer(ledger.Address{9}, 1000)
	tests := []struct {
		name string
		args []byte
		want error
	}{
		{"empty", nil, ErrBadArgs},
		{"zero amount", EncodeTransfer(ledger.Address{9}, 0), ErrZeroAmount},
		{"trailing byte", append(good[:len(good):len(good)], 0), ErrBadArgs},
		{"truncated", good[:len(good)-1], ErrBadArgs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeTransfer(tt.args); !errors.Is(err, tt.want) {
				t.Fatalf("DecodeTransfer(%x) = %v, want %v", tt.args, err, tt.want)
			}
		})
	}
}

func TestKeysCoverTransfer(t *testing.T) {
	contract, from, to := ledger.Address{7}, ledger.Address{1}, ledger.Address{2}
	keys, ok := Keys(contract, FuncTransfer, from, EncodeTransfer(to, 5))
	if !ok || len(keys) != 2 || string(keys[0]) != string(balanceKeyAt(contract, from)) || string(keys[1]) != string(balanceKeyAt(contract, to)) {
		t.Fatalf("Keys(transfer) = %x, %v", keys, ok)
	}
	if _, ok := Keys(contract, "mint", from, nil); ok {
		t.Fatal("Keys(mint) ok, want not a token function")
	}
}
