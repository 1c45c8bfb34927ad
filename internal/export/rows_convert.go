package export

import (
	"encoding/hex"
	"strings"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/ledger"
)

// dicts are an export's dictionaries.
type dicts struct {
	functions *dict // tx functions and frame functions
	contracts *dict // tx contracts, as hex
}

// rowBuf holds the rows of one block on their way to the part's files.
// It is reused from block to block.
type rowBuf struct {
	txs       []TxRow
	frames    []FrameRow
	events    []EventRow
	transfers []TransferRow
}

func (b *rowBuf) reset() {
	b.txs, b.frames, b.events, b.transfers = b.txs[:0], b.frames[:0], b.events[:0], b.transfers[:0]
}

func hotBlockRow(b *api.BlockView) HotBlockRow {
	return HotBlockRow{
		Height: b.Height, Hash: b.Hash.String(), Parent: b.Parent.String(), Time: b.Time.UnixNano(),
		TxRoot: b.TxRoot.String(), ResultRoot: b.ResultRoot.String(), Commitment: b.Commitment.String(),
		TxCount: uint32(b.TxCount),
	}
}

func coldBlockRow(cb *ColdBlock) ColdBlockRow {
	h := &cb.Block.Header
	ids := make([]string, len(cb.Block.Credited))
	for i, id := range cb.Block.Credited {
		ids[i] = id.String()
	}
	return ColdBlockRow{
		Height: h.Height, Hash: h.Hash().String(), Parent: h.Parent.String(), Time: h.Time,
		HotHeight: h.Checkpoint.HotHeight, HotHash: h.Checkpoint.HotHash.String(),
		HotCommitment: h.Checkpoint.Commitment.String(),
		TxRoot:        h.TxRoot.String(), ResultRoot: h.ResultRoot.String(), StateRoot: h.StateRoot.String(),
		TxCount: uint32(len(cb.Txs)), SettlementCount: uint32(len(cb.Block.Settlements)),
		DepositCount: uint32(len(cb.Block.Deposits)), Credited: strings.Join(ids, " "),
	}
}

// addTx adds a transaction's row, its events' and its frames'.
func (b *rowBuf) addTx(v *api.TxView, d *dicts) {
	key := ledger.TxKey(v.Block, v.Index)
	row := TxRow{
		Tx: key, Height: v.Block, Index: v.Index, ID: v.ID.String(), Nonce: v.Nonce,
		From: hex.EncodeToString(v.From[:]), Contract: d.contracts.code(hex.EncodeToString(v.Contract[:])),
		Function: d.functions.code(v.Function), Input: hex.EncodeToString(v.Input),
		GasLimit: v.GasLimit, Sig: hex.EncodeToString(v.Sig), Status: uint16(v.Status),
		GasUsed: v.GasUsed, Path: uint8(v.Path), Error: v.Error, Result: hex.EncodeToString(v.Result),
		EventCount: uint32(len(v.Events)),
	}
	if v.To != nil {
		row.To = hex.EncodeToString(v.To[:])
	}
	if v.Amount != nil {
		amount := *v.Amount // the row must not share the view's memory
		row.Amount = &amount
	}
	for i, e := range v.Events {
		b.events = append(b.events, EventRow{Tx: key, Seq: uint32(i), Name: e.Name, Data: hex.EncodeToString(e.Data)})
	}
	if t := v.Trace; t != nil {
		row.Traced, row.FrameCount, row.FramesDropped = 1, uint32(len(t.Frames)), t.Dropped
		b.addFrames(key, t.Frames, d)
	}
	b.txs = append(b.txs, row)
}

func (b *rowBuf) addFrames(key uint64, frames []ledger.Frame, d *dicts) {
	for i := range frames {
		f := &frames[i]
		b.frames = append(b.frames, FrameRow{
			Tx: key, Seq: uint32(i), Depth: f.Depth, Function: d.functions.code(f.Function),
			MemBefore: f.MemBefore, MemAfter: f.MemAfter, GrowPages: f.GrowPages, GrowGas: f.GrowGas,
			Gas: f.Gas, Loads: f.Loads, Stores: f.Stores,
		})
	}
}

// addTransfers adds a cold block's settlements or deposits.
func (b *rowBuf) addTransfers(height uint64, ts []ledger.BridgeTransfer) {
	for i := range ts {
		t := &ts[i]
		b.transfers = append(b.transfers, TransferRow{
			Height: height, Kind: uint8(t.Kind), Seq: uint32(i),
			ID: t.ID.String(), Owner: hex.EncodeToString(t.Owner[:]), Amount: t.Amount,
		})
	}
}
