package demo

import (
	"fmt"
	"sync"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
)

// account is a key the demo sends from, with the next nonce it signs with
// on each chain: once every transaction it sent is settled, the number of
// its transactions the chain holds. One goroutine at a time signs for it.
type account struct {
	name string
	key  *ledger.Key
	hot  uint64 // next hot nonce
	cold uint64 // next cold nonce
}

func newAccount(name string) (*account, error) {
	k, err := ledger.NewKey()
	if err != nil {
		return nil, fmt.Errorf("demo: key for %s: %w", name, err)
	}
	return &account{name: name, key: k}, nil
}

func (a *account) addr() ledger.Address { return a.key.Address }

// sign gives tx the account's next nonce on its chain and signs it.
func (a *account) sign(chainID string, tx *ledger.Tx) *ledger.Tx {
	tx.ChainID, tx.From = chainID, a.key.Address
	next := &a.hot
	if tx.Chain == ledger.Cold {
		next = &a.cold
	}
	tx.Nonce = *next
	*next++
	tx.Sign(a.key.Private)
	return tx
}

// unsign gives back the nonce of tx, the last one signed, which the chain
// refused for good.
func (a *account) unsign(tx *ledger.Tx) {
	next := &a.hot
	if tx.Chain == ledger.Cold {
		next = &a.cold
	}
	if *next == tx.Nonce+1 {
		*next--
	}
}

// transfer is a hot transfer of the base token, unsigned.
func transfer(to ledger.Address, amount uint64) *ledger.Tx {
	return &ledger.Tx{Chain: ledger.Hot, Contract: token.Address, Function: token.FuncTransfer,
		Args: token.EncodeTransfer(to, amount), GasLimit: token.TransferGas}
}

// ack is where the cluster said a transaction is.
type ack struct {
	chain ledger.Chain
	block uint64
	index uint32
	from  ledger.Address
	nonce uint64
}

// book records every transaction the cluster acknowledged as committed.
type book struct {
	mu    sync.Mutex
	acked map[ledger.Hash]ack
}

func newBook() *book { return &book{acked: make(map[ledger.Hash]ack)} }

func (b *book) add(tx *ledger.Tx, r api.TxResult) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.acked[r.ID] = ack{chain: tx.Chain, block: r.Block, index: r.Index, from: tx.From, nonce: tx.Nonce}
}

// hot returns the acknowledged hot transactions.
func (b *book) hot() map[ledger.Hash]ack {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[ledger.Hash]ack)
	for id, a := range b.acked {
		if a.chain == ledger.Hot {
			out[id] = a
		}
	}
	return out
}

func (b *book) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.acked)
}
