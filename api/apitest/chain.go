package apitest

import (
	"bytes"
	"crypto/sha256"
	"slices"
	"time"

	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
)

// GenesisTime is the time of the genesis block; block h is h seconds later,
// so blocks are the same on every run.
var GenesisTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// state is hot state: state keys to values.
type state map[string][]byte

func (s state) uint64(key []byte) uint64 {
	v, _ := ledger.DecodeUint64(s[string(key)])
	return v
}

func (s state) balance(a ledger.Address) uint64 {
	return s.uint64(token.BalanceKey(a))
}

// overlay records a block's writes on top of the state.
type overlay struct {
	base   state
	writes map[string][]byte
}

func (o *overlay) Get(key []byte) []byte {
	if v, ok := o.writes[string(key)]; ok {
		return v
	}
	return o.base[string(key)]
}

func (o *overlay) Set(key, value []byte) { o.writes[string(key)] = value }

// flush stores the writes in the base state and returns them sorted by key.
func (o *overlay) flush() []ledger.Write {
	ws := make([]ledger.Write, 0, len(o.writes))
	for k, v := range o.writes {
		ws = append(ws, ledger.Write{Key: ledger.Bytes(k), Value: v})
		if len(v) == 0 {
			delete(o.base, k)
		} else {
			o.base[k] = v
		}
	}
	slices.SortFunc(ws, func(a, b ledger.Write) int { return bytes.Compare(a.Key, b.Key) })
	return ws
}

// commitment hashes the previous commitment with a block's writes. (The
// node's commitment is order-independent; this one need not be.)
func commitment(prev ledger.Hash, ws []ledger.Write) ledger.Hash {
	h := sha256.New()
	h.Write(prev[:])
	for _, w := range ws {
		h.Write(w.Key)
		h.Write(w.Value)
	}
	var out ledger.Hash
	h.Sum(out[:0])
	return out
}

func (b *Backend) genesis() *ledger.Block {
	o := &overlay{base: b.state, writes: map[string][]byte{}}
	for _, a := range b.cfg.Alloc {
		o.Set(token.BalanceKey(a.Address), ledger.EncodeUint64(a.Amount))
	}
	blk := &ledger.Block{Header: ledger.Header{ChainID: b.cfg.ChainID, Time: GenesisTime.UnixNano()}}
	blk.Writes = o.flush()
	blk.Header.Commitment = commitment(ledger.Hash{}, blk.Writes)
	blk.Seal()
	return blk
}

func (b *Backend) commitLocked() bool {
	if len(b.pending) == 0 {
		return false
	}
	parent := b.blocks[len(b.blocks)-1]
	h := parent.Header.Height + 1
	blk := &ledger.Block{Header: ledger.Header{
		ChainID: b.cfg.ChainID, Height: h, Parent: parent.Header.Hash(),
		Time: GenesisTime.Add(time.Duration(h) * time.Second).UnixNano(),
	}}
	o := &overlay{base: b.state, writes: map[string][]byte{}}
	for _, tx := range b.pending {
		blk.Txs = append(blk.Txs, *tx)
		blk.Receipts = append(blk.Receipts, execute(o, tx))
	}
	blk.Writes = o.flush()
	blk.Header.Commitment = commitment(parent.Header.Commitment, blk.Writes)
	blk.Seal()
	b.blocks = append(b.blocks, blk)
	b.recordLocked(blk)
	return true
}

func (b *Backend) recordLocked(blk *ledger.Block) {
	for i := range blk.Txs {
		id := blk.Receipts[i].TxID
		rec := &ledger.TxRecord{
			Tx: blk.Txs[i], Receipt: blk.Receipts[i], Height: blk.Header.Height, Index: uint32(i),
		}
		b.records[id] = rec
		if b.cfg.Trace != nil {
			if t := b.cfg.Trace(rec); t != nil {
				b.traces[id] = t
			}
		}
	}
	b.pending = nil
	clear(b.inPool)
	clear(b.expected)
	b.notifyLocked()
}

// execute runs one tx: the nonce always advances; only the token's
// transfer is known.
func execute(o *overlay, tx *ledger.Tx) ledger.Receipt {
	rc := ledger.Receipt{TxID: tx.ID(), Path: ledger.PathNative}
	nk := ledger.NonceKey(tx.From)
	n, _ := ledger.DecodeUint64(o.Get(nk))
	o.Set(nk, ledger.EncodeUint64(n+1))
	switch {
	case tx.Contract != token.Address || tx.Function != token.FuncTransfer:
		rc.Status, rc.Error, rc.GasUsed = ledger.StatusUnknownFunction, "unknown function "+tx.Function, 0
	case tx.GasLimit < token.TransferGas:
		rc.Status, rc.Error, rc.GasUsed = ledger.StatusOutOfGas, "out of gas", tx.GasLimit
	default:
		r := token.Transfer(o, tx.From, tx.Args, tx.GasLimit)
		rc.Status, rc.Error, rc.GasUsed = r.Status, r.Error, r.GasUsed
		for _, w := range r.Writes {
			o.Set(w.Key, w.Value)
		}
	}
	if rc.Status == ledger.StatusOK {
		rc.Events = []ledger.Event{{Name: "transfer", Data: tx.Args}}
	}
	return rc
}
