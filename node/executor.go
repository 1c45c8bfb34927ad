package node

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/dualchain/dualchain/bridge"
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/vm"
)

// overlay is the state a block executes against: values read from the store
// in one batch, values fetched for keys the batch could not foresee (a VM
// call's reads), and the block's writes on top.
type overlay struct {
	base   map[string][]byte
	writes map[string][]byte
	fetch  func(keys [][]byte) ([][]byte, error) // nil: unknown keys are absent
	err    error                                 // the first fetch that failed
}

func (o *overlay) Get(key []byte) []byte {
	if v, ok := o.writes[string(key)]; ok {
		return v
	}
	if v, ok := o.base[string(key)]; ok || o.fetch == nil {
		return v
	}
	o.fetchBase([][]byte{key})
	return o.base[string(key)]
}

// fetchBase reads keys into base; a failure is kept for execute to report.
func (o *overlay) fetchBase(keys [][]byte) {
	values, err := o.fetch(keys)
	if err != nil {
		o.err = cmp.Or(o.err, err)
		values = make([][]byte, len(keys))
	}
	for i, k := range keys {
		o.base[string(k)] = values[i]
	}
}

// fetchWritten reads the committed value of every written key that was
// never read, in one batch: the write set and the commitment need the old
// value of every key they change.
func (o *overlay) fetchWritten() {
	var missing [][]byte
	for k := range o.writes {
		if _, ok := o.base[k]; !ok {
			missing = append(missing, []byte(k))
		}
	}
	if len(missing) > 0 && o.fetch != nil {
		o.fetchBase(missing)
	}
}

func (o *overlay) Set(key, value []byte) { o.writes[string(key)] = value }

var _ vm.State = (*overlay)(nil)

// blockKeys lists, without duplicates, the state keys the transactions are
// known to read or write, so most of the block's reads are one round trip:
// senders' nonces, called contracts' code hashes and the token's balances.
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
		switch p.tx.Contract {
		case ledger.DeployAddress:
			continue
		case ledger.BridgeAddress:
			addKey(token.BalanceKey(p.tx.From))
			addKey(bridge.EscrowKey(p.id))
			continue
		}
		addKey(ledger.CodeKey(p.tx.Contract))
		ks, _ := token.Keys(p.tx.Contract, p.tx.Function, p.tx.From, p.tx.Args)
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
	dispatch   *dispatcher
	traces     []hotchain.TxTrace // the VM traces of the block's txs that have one (trace.go)
	traceBytes int                // what traces take in the log entry, about
}

// blockInput is what a block is executed from.
type blockInput struct {
	head    hotchain.Meta
	chainID string
	now     int64
	txs     []pendingTx
	keys    [][]byte // read in one batch: values[i] is keys[i]'s value
	values  [][]byte
	fetch   func(keys [][]byte) ([][]byte, error) // reads keys the batch missed
	// effects, if set, returns the bridge's writes, made before the txs.
	effects func(st vm.State, height uint64) []vm.Write
}

// execute runs the transactions in order on top of the head and builds the
// next block. A transaction whose nonce is not its sender's next nonce is
// dropped; one whose call fails is included with a failed receipt, consumes
// its nonce and changes nothing else. It fails only when a fetch failed.
func execute(ctx context.Context, d *dispatcher, in blockInput) (*execution, error) {
	o := &overlay{base: make(map[string][]byte, len(in.keys)), writes: make(map[string][]byte, len(in.keys)), fetch: in.fetch}
	for i, k := range in.keys {
		o.base[string(k)] = in.values[i]
	}
	ex := &execution{
		block: &ledger.Block{
			Txs:      make([]ledger.Tx, 0, len(in.txs)),
			Receipts: make([]ledger.Receipt, 0, len(in.txs)),
		},
		included: make([]pendingTx, 0, len(in.txs)),
		nonces:   make(map[ledger.Address]uint64, len(in.txs)),
		dispatch: d,
	}
	height := in.head.Height + 1
	if in.effects != nil {
		for _, w := range in.effects(o, height) {
			o.Set(w.Key, w.Value)
		}
	}
	for _, p := range in.txs {
		ex.run(ctx, o, p, height)
	}
	o.fetchWritten()
	if o.err != nil {
		return nil, fmt.Errorf("node: read state: %w", o.err)
	}
	changes := writeSet(o)
	ex.block.Writes = make([]ledger.Write, len(changes))
	for i, c := range changes {
		ex.block.Writes[i] = ledger.Write{Key: c.Key, Value: c.New}
	}
	ex.commitment = hotchain.Apply(in.head.Commitment, changes)
	ex.block.Header = ledger.Header{
		ChainID: in.chainID, Height: height, Parent: in.head.Head, Time: in.now,
		Commitment: ex.commitment.Digest(),
	}
	ex.block.Seal()
	return ex, nil
}

// run executes one transaction against o.
func (ex *execution) run(ctx context.Context, o *overlay, p pendingTx, height uint64) {
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
	r := ex.dispatch.call(ctx, o, p.tx, height)
	for _, w := range r.Writes {
		o.Set(w.Key, w.Value)
	}
	o.Set(nk, ledger.EncodeUint64(nonce+1))
	ex.nonces[p.tx.From] = nonce + 1
	ex.block.Txs = append(ex.block.Txs, *p.tx)
	ex.block.Receipts = append(ex.block.Receipts, ledger.Receipt{
		TxID: p.id, Status: r.Status, GasUsed: r.GasUsed, Path: r.Path, Error: r.Error,
		Events: r.Events, Result: r.Output,
	})
	if r.Trace != nil {
		ex.addTrace(uint32(len(ex.block.Txs)-1), r.Trace)
	}
	ex.included = append(ex.included, p)
}

// writeSet returns the keys whose values the block changed, sorted, with
// their old and new values.
func writeSet(o *overlay) []hotchain.Change {
	// Sorting the keys as strings, then looking up their values, is
	// cheaper than sorting the changes by a comparison function.
	keys := make([]string, 0, len(o.writes))
	size := 0
	for k, v := range o.writes {
		if !bytes.Equal(o.base[k], v) {
			keys = append(keys, k)
			size += len(k)
		}
	}
	slices.Sort(keys)
	arena := make([]byte, 0, size) // the changes' keys, in one allocation
	changes := make([]hotchain.Change, len(keys))
	for i, k := range keys {
		arena = append(arena, k...)
		changes[i] = hotchain.Change{Key: arena[len(arena)-len(k) : len(arena) : len(arena)], Old: o.base[k], New: o.writes[k]}
	}
	return changes
}
