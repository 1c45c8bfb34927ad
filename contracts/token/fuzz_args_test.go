package token_test

import (
	"bytes"
	"testing"

	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
)

// FuzzDecodeTransfer checks the decoder of a transfer's arguments, which
// come from any submitted transaction (hot or cold): it never panics,
// accepts exactly 40 bytes with a positive amount, and what it accepts
// encodes back to the same bytes.
func FuzzDecodeTransfer(f *testing.F) {
	f.Add(token.EncodeTransfer(ledger.Address{1}, 5))
	f.Add(token.EncodeTransfer(ledger.Address{}, 0))
	f.Add(token.EncodeTransfer(ledger.Address{0xff}, ^uint64(0)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := token.DecodeTransfer(b)
		if err != nil {
			return
		}
		if len(b) != token.TransferArgsSize || a.Amount == 0 {
			t.Fatalf("DecodeTransfer(%x) = %+v, want an error", b, a)
		}
		if enc := token.EncodeTransfer(a.To, a.Amount); !bytes.Equal(enc, b) {
			t.Fatalf("EncodeTransfer(DecodeTransfer(%x)) = %x", b, enc)
		}
	})
}
