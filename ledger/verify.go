package ledger

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"runtime"
	"sync"

	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// zip215 makes single and batch verification accept exactly the same
// signatures (ZIP-215), so a batch never disagrees with a one-by-one check.
var zip215 = &ed25519.Options{Verify: ed25519.VerifyOptionsZIP_215}

// minBatchPerWorker keeps batches big enough that batching pays.
const minBatchPerWorker = 64

// VerifySignature checks one ed25519 signature under ZIP-215 rules.
func VerifySignature(pub Address, msg []byte, sig Signature) bool {
	return ed25519.VerifyWithOptions(ed25519.PublicKey(pub[:]), msg, sig[:], zip215)
}

// Verify checks the transaction's signature and returns its id.
func (tx *Tx) Verify() (Hash, error) {
	msg := tx.SigningBytes()
	id := Hash(sha256.Sum256(msg))
	if !VerifySignature(tx.From, msg, tx.Sig) {
		return id, fmt.Errorf("%w: tx %s", ErrBadSignature, id)
	}
	return id, nil
}

// VerifyBatch checks the signatures of txs with the batch verifier, spread
// over the machine's cores, and returns each transaction's id and error
// (nil when the signature is good).
func VerifyBatch(txs []*Tx) ([]Hash, []error) {
	ids := make([]Hash, len(txs))
	errs := make([]error, len(txs))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(txs)/minBatchPerWorker))
	per := (len(txs) + workers - 1) / max(workers, 1)
	var wg sync.WaitGroup
	for lo := 0; lo < len(txs); lo += per {
		hi := min(lo+per, len(txs))
		wg.Go(func() { verifyChunk(txs[lo:hi], ids[lo:hi], errs[lo:hi]) })
	}
	wg.Wait()
	return ids, errs
}

func verifyChunk(txs []*Tx, ids []Hash, errs []error) {
	bv := ed25519.NewBatchVerifierWithCapacity(len(txs))
	for i, tx := range txs {
		msg := tx.SigningBytes()
		ids[i] = sha256.Sum256(msg)
		bv.AddWithOptions(ed25519.PublicKey(tx.From[:]), msg, tx.Sig[:], zip215)
	}
	if ok, valid := bv.Verify(rand.Reader); !ok {
		for i := range txs {
			if !valid[i] {
				errs[i] = fmt.Errorf("%w: tx %s", ErrBadSignature, ids[i])
			}
		}
	}
}
