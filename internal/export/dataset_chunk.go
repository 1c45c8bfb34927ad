package export

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/ledger"
)

// Chunk puts the dataset back together as the sink was given it: one
// chunk of every finished height, each block with its transactions as
// the API showed them. A hot block's write set, which exports do not
// hold, is left empty; a cold block's transactions and receipts are
// rebuilt from the transactions' views.
func (d *Dataset) Chunk() (*Chunk, error) {
	o := &d.Manifest.Options
	c := &Chunk{From: o.From, To: d.Manifest.Next() - 1}
	txs, err := d.txViews()
	if err != nil {
		return nil, err
	}
	if o.Chain == ChainCold {
		c.Cold, err = d.coldBlocks(txs)
	} else {
		c.Hot, err = d.hotBlocks(txs)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// hotBlocks rebuilds the hot blocks, taking their transactions from txs.
func (d *Dataset) hotBlocks(txs []api.TxView) ([]api.BlockView, error) {
	out := make([]api.BlockView, len(d.Blocks))
	for i, r := range d.Blocks {
		n := blockTxs(txs, r.Height)
		b := api.BlockView{
			Height: r.Height, ChainID: d.Manifest.Options.ChainID, Time: time.Unix(0, r.Time).UTC(),
			TxCount: int(r.TxCount), Txs: txs[:n:n],
		}
		err := decodeHex(hx(b.Hash[:], r.Hash), hx(b.Parent[:], r.Parent), hx(b.TxRoot[:], r.TxRoot),
			hx(b.ResultRoot[:], r.ResultRoot), hx(b.Commitment[:], r.Commitment))
		if err != nil {
			return nil, fmt.Errorf("%w: block %d: %v", ErrCorrupt, r.Height, err)
		}
		out[i], txs = b, txs[n:]
	}
	if len(txs) > 0 {
		return nil, fmt.Errorf("%w: transaction %d of block %d has no block", ErrCorrupt, txs[0].Index, txs[0].Block)
	}
	return out, nil
}

// coldBlocks rebuilds the cold blocks, taking their transactions from txs.
func (d *Dataset) coldBlocks(txs []api.TxView) ([]ColdBlock, error) {
	out := make([]ColdBlock, len(d.ColdBlocks))
	transfers := d.Transfers
	for i := range d.ColdBlocks {
		r := &d.ColdBlocks[i]
		n := blockTxs(txs, r.Height)
		cb, err := d.coldBlock(r, txs[:n:n])
		if err == nil {
			transfers, err = takeTransfers(&cb.Block, r, transfers)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: cold block %d: %v", ErrCorrupt, r.Height, err)
		}
		out[i], txs = cb, txs[n:]
	}
	if len(txs) > 0 || len(transfers) > 0 {
		return nil, fmt.Errorf("%w: transactions or transfers past the last cold block", ErrCorrupt)
	}
	return out, nil
}

func (d *Dataset) coldBlock(r *ColdBlockRow, txs []api.TxView) (ColdBlock, error) {
	h := ledger.ColdHeader{ChainID: d.Manifest.Options.ChainID, Height: r.Height, Time: r.Time}
	h.Checkpoint.HotHeight = r.HotHeight
	cp := &h.Checkpoint
	err := decodeHex(hx(h.Parent[:], r.Parent), hx(cp.HotHash[:], r.HotHash), hx(cp.Commitment[:], r.HotCommitment),
		hx(h.TxRoot[:], r.TxRoot), hx(h.ResultRoot[:], r.ResultRoot), hx(h.StateRoot[:], r.StateRoot))
	if err != nil {
		return ColdBlock{}, err
	}
	if uint32(len(txs)) != r.TxCount {
		return ColdBlock{}, fmt.Errorf("%d transactions, tx_count says %d", len(txs), r.TxCount)
	}
	cb := ColdBlock{Block: ledger.ColdBlock{Header: h}, Txs: txs}
	for _, id := range strings.Fields(r.Credited) {
		var hash ledger.Hash
		if err := decodeHex(hx(hash[:], id)); err != nil {
			return ColdBlock{}, err
		}
		cb.Block.Credited = append(cb.Block.Credited, hash)
	}
	for i := range txs {
		tx, rc := txOfView(&txs[i])
		cb.Block.Txs, cb.Block.Receipts = append(cb.Block.Txs, tx), append(cb.Block.Receipts, rc)
	}
	return cb, nil
}

// takeTransfers moves the block's settlements and deposits from the front
// of rows into b, returning the rest.
func takeTransfers(b *ledger.ColdBlock, r *ColdBlockRow, rows []TransferRow) ([]TransferRow, error) {
	for len(rows) > 0 && rows[0].Height == r.Height {
		t := rows[0]
		bt := ledger.BridgeTransfer{Kind: ledger.BridgeKind(t.Kind), Amount: t.Amount}
		if err := decodeHex(hx(bt.ID[:], t.ID), hx(bt.Owner[:], t.Owner)); err != nil {
			return nil, err
		}
		list := &b.Settlements
		if bt.Kind == ledger.KindDeposit {
			list = &b.Deposits
		}
		if t.Seq != uint32(len(*list)) {
			return nil, fmt.Errorf("%v %d where %d belongs", bt.Kind, t.Seq, len(*list))
		}
		*list = append(*list, bt)
		rows = rows[1:]
	}
	if uint32(len(b.Settlements)) != r.SettlementCount || uint32(len(b.Deposits)) != r.DepositCount {
		return nil, fmt.Errorf("%d settlements and %d deposits, the block row says %d and %d",
			len(b.Settlements), len(b.Deposits), r.SettlementCount, r.DepositCount)
	}
	return rows, nil
}

// txOfView is the transaction and receipt a view was made of.
func txOfView(v *api.TxView) (ledger.Tx, ledger.Receipt) {
	tx := ledger.Tx{
		ChainID: v.ChainID, Chain: v.Chain, Nonce: v.Nonce, From: v.From, Contract: v.Contract,
		Function: v.Function, Args: v.Input, GasLimit: v.GasLimit,
	}
	copy(tx.Sig[:], v.Sig)
	rc := ledger.Receipt{
		TxID: v.ID, Status: v.Status, GasUsed: v.GasUsed, Path: v.Path, Error: v.Error,
		Events: v.Events, Result: v.Result,
	}
	return tx, rc
}

// blockTxs returns how many transactions at the front of txs are of the
// block at height.
func blockTxs(txs []api.TxView, height uint64) int {
	n := 0
	for n < len(txs) && txs[n].Block == height {
		n++
	}
	return n
}

// hexField is a fixed-size value and the hex digits that give it.
type hexField struct {
	dst []byte
	src string
}

func hx(dst []byte, src string) hexField { return hexField{dst, src} }

// decodeHex sets each field from its hex digits, exactly as many as it
// has bytes.
func decodeHex(fields ...hexField) error {
	for _, f := range fields {
		if len(f.src) != 2*len(f.dst) {
			return fmt.Errorf("%q is not %d hex digits", f.src, 2*len(f.dst))
		}
		if _, err := hex.Decode(f.dst, []byte(f.src)); err != nil {
			return fmt.Errorf("%q: %v", f.src, err)
		}
	}
	return nil
}
