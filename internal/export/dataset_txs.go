package export

import (
	"encoding/hex"
	"fmt"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/ledger"
)

// txViews rebuilds every transaction's view, its events and trace
// included.
func (d *Dataset) txViews() ([]api.TxView, error) {
	chain, err := ledger.ParseChain(d.Manifest.Options.Chain)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	out := make([]api.TxView, len(d.Txs))
	events, frames := d.Events, d.Frames
	for i := range d.Txs {
		r := &d.Txs[i]
		v, err := d.txView(r, chain)
		if err == nil {
			v.Events, events, err = d.takeEvents(r, events)
		}
		if err == nil {
			v.Trace, frames, err = d.takeTrace(r, frames)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: transaction %d of block %d: %v", ErrCorrupt, r.Index, r.Height, err)
		}
		out[i] = v
	}
	if len(events) > 0 || len(frames) > 0 {
		return nil, fmt.Errorf("%w: events or frames of no transaction", ErrCorrupt)
	}
	return out, nil
}

// txView is the view of a row, without its events and trace.
func (d *Dataset) txView(r *TxRow, chain ledger.Chain) (api.TxView, error) {
	v := api.TxView{
		Block: r.Height, Index: r.Index, ChainID: d.Manifest.Options.ChainID, Chain: chain,
		Nonce: r.Nonce, GasLimit: r.GasLimit, Status: ledger.Status(r.Status), GasUsed: r.GasUsed,
		Path: ledger.Path(r.Path), Error: r.Error, Amount: r.Amount,
	}
	if r.Tx != ledger.TxKey(r.Height, r.Index) {
		return v, fmt.Errorf("tx %d, want %d", r.Tx, ledger.TxKey(r.Height, r.Index))
	}
	if r.Function >= uint32(len(d.Functions)) || r.Contract >= uint32(len(d.Contracts)) {
		return v, fmt.Errorf("function %d or contract %d not in the dictionaries", r.Function, r.Contract)
	}
	v.Function = d.Functions[r.Function]
	err := decodeHex(hx(v.ID[:], r.ID), hx(v.From[:], r.From), hx(v.Contract[:], d.Contracts[r.Contract]))
	if err == nil && r.To != "" {
		v.To = new(ledger.Address)
		err = decodeHex(hx(v.To[:], r.To))
	}
	if err != nil {
		return v, err
	}
	v.Input, err = hex.DecodeString(r.Input)
	if v.Input == nil {
		v.Input = ledger.Bytes{} // as api.NewTxView gives it
	}
	if err == nil {
		v.Sig, err = hex.DecodeString(r.Sig)
	}
	if err == nil && r.Result != "" {
		v.Result, err = hex.DecodeString(r.Result)
	}
	return v, err
}

// takeEvents takes the row's events from the front of rows.
func (d *Dataset) takeEvents(r *TxRow, rows []EventRow) ([]ledger.Event, []EventRow, error) {
	n := int(r.EventCount)
	if len(rows) < n {
		return nil, nil, fmt.Errorf("%d events of %d", len(rows), n)
	}
	events := make([]ledger.Event, n)
	for i, e := range rows[:n] {
		if e.Tx != r.Tx || e.Seq != uint32(i) {
			return nil, nil, fmt.Errorf("event %d of tx %d where event %d of tx %d belongs", e.Seq, e.Tx, i, r.Tx)
		}
		data, err := hex.DecodeString(e.Data)
		if err != nil {
			return nil, nil, err
		}
		events[i] = ledger.Event{Name: e.Name, Data: data}
	}
	return events, rows[n:], nil
}

// takeTrace takes the row's trace frames from the front of rows.
func (d *Dataset) takeTrace(r *TxRow, rows []FrameRow) (*ledger.Trace, []FrameRow, error) {
	n := int(r.FrameCount)
	if r.Traced == 0 {
		if n != 0 || r.FramesDropped != 0 {
			return nil, nil, fmt.Errorf("untraced with %d frames and %d dropped", n, r.FramesDropped)
		}
		return nil, rows, nil
	}
	if len(rows) < n {
		return nil, nil, fmt.Errorf("%d frames of %d", len(rows), n)
	}
	t := &ledger.Trace{Frames: make([]ledger.Frame, n), Dropped: r.FramesDropped}
	for i, f := range rows[:n] {
		if f.Tx != r.Tx || f.Seq != uint32(i) || f.Function >= uint32(len(d.Functions)) {
			return nil, nil, fmt.Errorf("frame %d of tx %d (function %d) where frame %d of tx %d belongs", f.Seq, f.Tx, f.Function, i, r.Tx)
		}
		t.Frames[i] = ledger.Frame{
			Depth: f.Depth, Function: d.Functions[f.Function], MemBefore: f.MemBefore, MemAfter: f.MemAfter,
			GrowPages: f.GrowPages, GrowGas: f.GrowGas, Gas: f.Gas, Loads: f.Loads, Stores: f.Stores,
		}
	}
	return t, rows[n:], nil
}
