package ledger_test

import (
	stded25519 "crypto/ed25519"
	"fmt"
	"runtime"
	"testing"

	"github.com/hdevalence/ed25519consensus"

	"github.com/dualchain/dualchain/ledger"
)

// BenchmarkVerify compares signature verifiers on batches of signed
// transactions. Every variant does the whole job the node does per
// transaction: build the signing bytes and check the signature
// (BenchmarkSigningBytes measures the first part alone). Results are in
// sigs/s.
//
//	go test ./ledger -run '^$' -bench '^BenchmarkVerify$' -count 5
//
// stdlib-single is crypto/ed25519 (cofactorless: it does not follow
// ZIP-215 and is here as the baseline); voi-single is ledger.Tx.Verify;
// voi-batch-1core and voi-batch-allcores are ledger.VerifyBatch with
// GOMAXPROCS 1 and the default; ed25519consensus-batch is
// hdevalence/ed25519consensus, the alternative ZIP-215 batch verifier, on
// one goroutine.
func BenchmarkVerify(b *testing.B) {
	variants := []struct {
		name   string
		verify func(b *testing.B, txs []*ledger.Tx)
	}{
		{"stdlib-single", verifyStdlib},
		{"voi-single", verifyVoiSingle},
		{"voi-batch-1core", verifyVoiBatchOneCore},
		{"voi-batch-allcores", verifyVoiBatch},
		{"ed25519consensus-batch", verifyConsensusBatch},
	}
	for _, v := range variants {
		for _, n := range []int{64, 1024, 4096} {
			txs := signedTxs(n)
			b.Run(fmt.Sprintf("%s/n=%d", v.name, n), func(b *testing.B) {
				b.ReportAllocs()
				rounds := 0
				for b.Loop() {
					v.verify(b, txs)
					rounds++
				}
				b.ReportMetric(float64(rounds*n)/b.Elapsed().Seconds(), "sigs/s")
			})
		}
	}
}

func verifyStdlib(b *testing.B, txs []*ledger.Tx) {
	for _, tx := range txs {
		if !stded25519.Verify(tx.From[:], tx.SigningBytes(), tx.Sig[:]) {
			b.Fatal("crypto/ed25519 rejected a valid signature")
		}
	}
}

func verifyVoiSingle(b *testing.B, txs []*ledger.Tx) {
	for _, tx := range txs {
		if _, err := tx.Verify(); err != nil {
			b.Fatal(err)
		}
	}
}

func verifyVoiBatch(b *testing.B, txs []*ledger.Tx) {
	_, errs := ledger.VerifyBatch(txs)
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
}

func verifyVoiBatchOneCore(b *testing.B, txs []*ledger.Tx) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	verifyVoiBatch(b, txs)
}

func verifyConsensusBatch(b *testing.B, txs []*ledger.Tx) {
	bv := ed25519consensus.NewPreallocatedBatchVerifier(len(txs))
	for _, tx := range txs {
		bv.Add(tx.From[:], tx.SigningBytes(), tx.Sig[:])
	}
	if !bv.Verify() {
		b.Fatal("ed25519consensus rejected a batch of valid signatures")
	}
}
