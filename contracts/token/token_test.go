package token

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

// mapState is a State over a map, for tests.
type mapState map[string][]byte

func (m mapState) Get(k []byte) []byte         { return m[string(k)] }
func (m mapState) Set(k, v []byte)             { m[string(k)] = v }
func (m mapState) bal(a ledger.Address) uint64 { return Balance(m, a) }

func TestDecodeTransferRoundTrip(t *testing.T) {
	to := ledger.Address{1, 2, 3}
	for _, amount := range []uint64{1, 23, 24, 255, 256, 65535, 65536, 1<<32 - 1, 1 << 32, math.MaxUint64} {
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
		{"trailing byte", append(bytes.Clone(good), 0), ErrBadArgs},
		{"truncated", good[:len(good)-1], ErrBadArgs},
		{"three elements", append([]byte{0x83}, good[1:]...), ErrBadArgs},
		{"short address", append([]byte{0x82, 0x58, 0x1f}, good[3:]...), ErrBadArgs},
		{"non-minimal amount", append(append([]byte{}, good[:35]...), 0x1b, 0, 0, 0, 0, 0, 0, 0x03, 0xe8), ErrBadArgs},
		{"negative amount", append(append([]byte{}, good[:35]...), 0x20), ErrBadArgs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeTransfer(tt.args); !errors.Is(err, tt.want) {
				t.Fatalf("DecodeTransfer(%x) = %v, want %v", tt.args, err, tt.want)
			}
		})
	}
}

// FuzzDecodeTransfer holds the hand-written decoder to the generic one: it
// accepts exactly the canonical encodings of what the generic decoder reads.
func FuzzDecodeTransfer(f *testing.F) {
	f.Add(EncodeTransfer(ledger.Address{1}, 5))
	f.Add(EncodeTransfer(ledger.Address{1}, math.MaxUint64))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := DecodeTransfer(b)
		var generic TransferArgs
		gerr := ledger.Unmarshal(b, &generic)
		canonical := gerr == nil && bytes.Equal(EncodeTransfer(generic.To, generic.Amount), b)
		switch {
		case err == nil && (!canonical || got != generic):
			t.Fatalf("DecodeTransfer(%x) = %+v, generic %+v (canonical %v)", b, got, generic, canonical)
		case err != nil && canonical && generic.Amount != 0:
			t.Fatalf("DecodeTransfer(%x) = %v, but it is canonical: %+v", b, err, generic)
		}
	})
}

func TestTransfer(t *testing.T) {
	alice, bob := ledger.Address{1}, ledger.Address{2}
	tests := []struct {
		name         string
		aliceBal     uint64
		bobBal       uint64
		to           ledger.Address
		amount       uint64
		want         ledger.Status
		wantA, wantB uint64
	}{
		{"moves funds", 100, 0, bob, 40, ledger.StatusOK, 60, 40},
		{"whole balance", 100, 0, bob, 100, ledger.StatusOK, 0, 100},
		{"overdraft", 100, 0, bob, 101, ledger.StatusInsufficientFunds, 100, 0},
		{"overflow", 100, math.MaxUint64 - 50, bob, 51, ledger.StatusOverflow, 100, math.MaxUint64 - 50},
		{"to self", 100, 0, alice, 100, ledger.StatusOK, 100, 0},
		{"zero amount", 100, 0, bob, 0, ledger.StatusBadArgs, 100, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := mapState{}
			st.Set(BalanceKey(alice), ledger.EncodeUint64(tt.aliceBal))
			st.Set(BalanceKey(bob), ledger.EncodeUint64(tt.bobBal))
			status, _ := Transfer(st, alice, EncodeTransfer(tt.to, tt.amount))
			if status != tt.want || st.bal(alice) != tt.wantA || st.bal(bob) != tt.wantB {
				t.Fatalf("Transfer(%d) = %v, balances %d/%d, want %v, %d/%d",
					tt.amount, status, st.bal(alice), st.bal(bob), tt.want, tt.wantA, tt.wantB)
			}
		})
	}
}
