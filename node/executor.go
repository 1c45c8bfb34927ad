package node

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/ledger"
)

// overlay is the state a block executes against: values read from the store
// in one batch, and the block's writes on top.
type overlay struct {
	base   map[string][]byte
	writes map[string][]byte
}

func (o *overlay) Get(key []byte) []byte {
	if v, ok := o.writes[string(key)]; ok {
		return v
	}
	return o.base[string(key)]
}

func (o *overlay) Set(key, value []byte) { o.writes[string(key)] = value }

var _ token.State = (*overlay)(nil)

// blockKeys lists, without duplicates, every state key the transactions
// read or write, so the block's reads are one round trip.
func blockKeys(txs []pendingTx) [][]byte {
	seen := make(map[string]bool, 3*len(txs))
	keys := make([][]byte, 0, 3*len(txs))
	addKey := func(k []byte) {
		if !seen[string(k)] {
			seen[string(k)] = true
			keys = append(keys, k)
		}
	}
	for _, p := range txs {
		addKey(ledger.NonceKey(p.tx.From))
		ks, _ := token.Keys(p.tx.Function, p.tx.From, p.tx.Args)
		for _, k := range ks {
			addKey(k)
		}
	}
	return keys
}

// execution is a block's outcome before it is committed.
type execution struct {
	block      *ledger.Block
	commitment hotchain.Commitment
	included   []pendingTx
	dropped    []pendingTxErr
	nonces     map[ledger.Address]uint64 // each sender's next nonce after the block
}

// execute runs txs in order on top of the head, with values read for keys,
// and builds the next block. A transaction whose nonce is not its sender's
// next nonce is dropped; one whose call fails is included with a failed
// receipt, consumes its nonce and changes no balance.
func execute(head hotchain.Meta, chainID string, now int64, txs []pendingTx, keys, values [][]byte) *execution {
	o := &overlay{base: make(map[string][]byte, len(keys)), writes: make(map[string][]byte)}
	for i, k := range keys {
		o.base[string(k)] = values[i]
	}
	ex := &execution{
		block: &ledger.Block{
			Txs:      make([]ledger.Tx, 0, len(txs)),
			Receipts: make([]ledger.Receipt, 0, len(txs)),
		},
		included: make([]pendingTx, 0, len(txs)),
		nonces:   make(map[ledger.Address]uint64, len(txs)),
	}
	for _, p := range txs {
		ex.run(o, p)
	}
	changes := writeSet(o)
	ex.block.Writes = make([]ledger.Write, len(changes))
	for i, c := range changes {
		ex.block.Writes[i] = ledger.Write{Key: c.Key, Value: c.New}
	}
	ex.commitment = hotchain.Apply(head.Commitment, changes)
	ex.block.Header = ledger.Header{
		ChainID: chainID, Height: head.Height + 1, Parent: head.Head, Time: now,
		Commitment: ex.commitment.Digest(),
	}
	ex.block.Seal()
	return ex
}

// run executes one transaction against o.
func (ex *execution) run(o *overlay, p pendingTx) {
	nk := ledger.NonceKey(p.tx.From)
	nonce, _ := ledger.DecodeUint64(o.Get(nk))
	ex.nonces[p.tx.From] = nonce
	if p.tx.Nonce != nonce {
		err := detail(ErrNonceTooLow, "nonce %d, account's next nonce is %d", p.tx.Nonce, nonce)
		if p.tx.Nonce > nonce {
			err = detail(ErrNonceGap, "nonce %d, account's next nonce is %d", p.tx.Nonce, nonce)
		}
		ex.dropped = append(ex.dropped, pendingTxErr{p.id, err})
		return
	}
	status, msg := callNative(o, p.tx)
	o.Set(nk, ledger.EncodeUint64(nonce+1))
	ex.nonces[p.tx.From] = nonce + 1
	ex.block.Txs = append(ex.block.Txs, *p.tx)
	ex.block.Receipts = append(ex.block.Receipts, ledger.Receipt{
		TxID: p.id, Status: status, GasUsed: token.TransferGas, Path: ledger.PathNative, Error: msg,
	})
	ex.included = append(ex.included, p)
}

// callNative runs a call that has an optimistic native function. Admission
// lets through only such calls until the VM exists.
func callNative(o *overlay, tx *ledger.Tx) (ledger.Status, string) {
	if tx.Contract == token.Address && tx.Function == token.FuncTransfer {
		return token.Transfer(o, tx.From, tx.Args)
	}
	return ledger.StatusUnknownFunction, fmt.Sprintf("no native function %s.%s", tx.Contract, tx.Function)
}

// writeSet returns the keys whose values the block changed, sorted, with
// their old and new values.
func writeSet(o *overlay) []hotchain.Change {
	changes := make([]hotchain.Change, 0, len(o.writes))
	for k, v := range o.writes {
		old := o.base[k]
		if !bytes.Equal(old, v) {
			changes = append(changes, hotchain.Change{Key: []byte(k), Old: old, New: v})
		}
	}
	slices.SortFunc(changes, func(a, b hotchain.Change) int { return bytes.Compare(a.Key, b.Key) })
	return changes
}
