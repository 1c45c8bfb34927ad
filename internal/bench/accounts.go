package bench

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"runtime"
	"sync"

	"github.com/dualchain/dualchain/ledger"
)

// account is a bench sender: its key and its next nonce on each chain.
type account struct {
	key       *ledger.Key
	hot, cold uint64
}

// next returns the account's next nonce on chain and counts it used.
func (a *account) next(chain ledger.Chain) uint64 {
	n := &a.hot
	if chain == ledger.Cold {
		n = &a.cold
	}
	*n++
	return *n - 1
}

// newAccounts makes n fresh accounts from a random seed, so that a run
// never shares a sender (or a nonce) with an earlier run on the same
// cluster.
func newAccounts(n int) []*account {
	var seed [32]byte
	_, _ = rand.Read(seed[:]) // crypto/rand.Read does not fail
	accts := make([]*account, n)
	parallel(n, func(i int) {
		s := sha256.Sum256(binary.BigEndian.AppendUint64(seed[:], uint64(i)))
		accts[i] = &account{key: ledger.KeyFromSeed(s[:])}
	})
	return accts
}

// freshAddress returns an address nobody holds the key of: a recipient
// that grows the state by one account.
func freshAddress() ledger.Address {
	var a ledger.Address
	_, _ = rand.Read(a[:])
	return a
}

// parallel calls f(i) for every i below n, on every core.
func parallel(n int, f func(i int)) {
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				f(i)
			}
		})
	}
	wg.Wait()
}
