package ledger_test

import (
	"bytes"
	"math"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

func TestUint64Values(t *testing.T) {
	for _, v := range []uint64{0, 1, 255, 256, math.MaxUint64} {
		enc := ledger.EncodeUint64(v)
		if (v == 0) != (len(enc) == 0) {
			t.Errorf("EncodeUint64(%d) = %x, want empty exactly for zero", v, enc)
		}
		if got, ok := ledger.DecodeUint64(enc); !ok || got != v {
			t.Errorf("DecodeUint64(%x) = %d, %v, want %d, true", enc, got, ok, v)
		}
	}
	for _, bad := range [][]byte{{1}, make([]byte, 7), make([]byte, 9)} {
		if got, ok := ledger.DecodeUint64(bad); ok {
			t.Errorf("DecodeUint64(%x) = %d, true, want false", bad, got)
		}
	}
}

func TestStateKeysDistinct(t *testing.T) {
	a := testKey(1).Address
	token := ledger.ContractAddress("token")
	keys := [][]byte{
		ledger.NonceKey(a),
		ledger.NonceKey(testKey(2).Address),
		ledger.StorageKey(token, a[:]),
		ledger.StorageKey(token, nil),
		ledger.StorageKey(ledger.ContractAddress("other"), a[:]),
	}
	for i := range keys {
		for j := range i {
			if bytes.Equal(keys[i], keys[j]) {
				t.Errorf("state keys %d and %d are both %x, want distinct", j, i, keys[i])
			}
		}
	}
	if k := ledger.StorageKey(token, []byte("k")); !bytes.HasPrefix(k, append([]byte{'s'}, token[:]...)) || k[len(k)-1] != 'k' {
		t.Errorf("StorageKey(token, k) = %x, want 's' + contract + key", k)
	}
}
