package ledger_test

import (
	"bytes"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

// FuzzDecodeAmount checks the decoder of a settle's or deposit's
// arguments: it never panics, accepts exactly 8 bytes of a positive
// amount, and what it accepts encodes back to the same bytes.
func FuzzDecodeAmount(f *testing.F) {
	for _, s := range [][]byte{ledger.EncodeAmount(1), ledger.EncodeAmount(0), ledger.EncodeAmount(^uint64(0)), nil, {1, 2, 3}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ledger.DecodeAmount(b)
		if err != nil {
			return
		}
		if len(b) != ledger.AmountArgsSize || v == 0 || !bytes.Equal(ledger.EncodeAmount(v), b) {
			t.Fatalf("DecodeAmount(%x) = %d, want an error or the same bytes back", b, v)
		}
	})
}
