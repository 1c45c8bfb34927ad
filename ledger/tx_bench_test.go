package ledger_test

import (
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

// Encoding costs of one transfer transaction.
//
//	go test ./ledger -run '^$' -bench '^Benchmark(TxEncode|TxDecode|SigningBytes)$' -count 5

func BenchmarkTxEncode(b *testing.B) {
	tx := signedTx(testKey(1), 1)
	b.ReportAllocs()
	for b.Loop() {
		_ = tx.Encode()
	}
}

func BenchmarkTxDecode(b *testing.B) {
	enc := signedTx(testKey(1), 1).Encode()
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ledger.DecodeTx(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSigningBytes(b *testing.B) {
	tx := signedTx(testKey(1), 1)
	b.ReportAllocs()
	for b.Loop() {
		_ = tx.SigningBytes()
	}
}
