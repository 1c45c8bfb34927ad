package ledger

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"runtime"
	"sync"

	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519/extra/cache"
)

// expandedKeys caches senders' decompressed public keys: an account signs
// many transactions, and decompressing its key is a fixed share of every
// verification. The cache is safe for concurrent use.
var expandedKeys = cache.NewVerifier(cache.NewLRUCache(keyCacheSize))

// keyCacheSize bounds the cache (an entry is a few hundred bytes).
const keyCacheSize = 16384

// zip215 makes single and batch verification accept exactly the same
// signatures (ZIP-215), so a batch never disagrees with a one-by-one check.
var zip215 = &ed25519.Options{Verify: ed25519.VerifyOptionsZIP_215}

// minBatchPerWorker is the smallest batch worth a core of its own. Batch
// verification gets cheaper per signature as the batch grows (here: 1,024
// signatures on one core verify at ~50k/s, split over two cores at ~37k/s
// per core), and a node verifies many requests at once, so a request's
// batch is split only when each part stays this large.
const minBatchPerWorker = 1024

// VerifySignature checks one ed25519 signature under ZIP-215 rules.
func VerifySignature(pub Address, msg []byte, sig Signature) bool {
	return expandedKeys.VerifyWithOptions(ed25519.PublicKey(pub[:]), msg, sig[:], zip215)
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

// VerifyBatch checks the signatures of txs with the batch verifier, split
// over the machine's cores when the batch is large (see minBatchPerWorker),
// and returns each transaction's id and error (nil when the signature is
// good).
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
		expandedKeys.AddWithOptions(bv, ed25519.PublicKey(tx.From[:]), msg, tx.Sig[:], zip215)
	}
	if ok, valid := bv.Verify(rand.Reader); !ok {
		for i := range txs {
			if !valid[i] {
				errs[i] = fmt.Errorf("%w: tx %s", ErrBadSignature, ids[i])
			}
		}
	}
}
