package api

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
)

// TxJSON is a signed transaction in a JSON submission. It has the fields of
// ledger.Tx, with the signature as hex.
type TxJSON struct {
	ChainID  string         `json:"chain_id"`
	Chain    ledger.Chain   `json:"chain"`
	Nonce    uint64         `json:"nonce"`
	From     ledger.Address `json:"from"`
	Contract ledger.Address `json:"contract"`
	Function string         `json:"function"`
	Args     ledger.Bytes   `json:"args"`
	GasLimit uint64         `json:"gas_limit"`
	Sig      ledger.Bytes   `json:"sig"` // 64 bytes, hex
}

// NewTxJSON returns the JSON form of tx.
func NewTxJSON(tx *ledger.Tx) TxJSON {
	return TxJSON{
		ChainID: tx.ChainID, Chain: tx.Chain, Nonce: tx.Nonce, From: tx.From,
		Contract: tx.Contract, Function: tx.Function, Args: tx.Args,
		GasLimit: tx.GasLimit, Sig: tx.Sig[:],
	}
}

// Tx converts the JSON form back to a transaction.
func (t *TxJSON) Tx() (*ledger.Tx, error) {
	if len(t.Sig) != len(ledger.Signature{}) {
		return nil, fmt.Errorf("%w: sig of %d bytes, want %d", ledger.ErrBadEncoding, len(t.Sig), len(ledger.Signature{}))
	}
	tx := &ledger.Tx{
		ChainID: t.ChainID, Chain: t.Chain, Nonce: t.Nonce, From: t.From,
		Contract: t.Contract, Function: t.Function, Args: t.Args, GasLimit: t.GasLimit,
	}
	copy(tx.Sig[:], t.Sig)
	return tx, nil
}

// SubmitRequest is a JSON batch: {"txs":[...]}. A single transaction is
// sent as a bare TxJSON object.
type SubmitRequest struct {
	Txs []TxJSON `json:"txs"`
}

// Submission statuses of a transaction.
const (
	StatusPending   = "pending"   // admitted, not yet in a committed block
	StatusCommitted = "committed" // in a committed block; see the receipt
	StatusRejected  = "rejected"  // refused or dropped; see the error
)

// TxResult is the outcome of submitting one transaction. Block and Index
// are encoded exactly when Status is committed, index 0 included, in JSON
// and in CBOR (see MarshalJSON); otherwise they are absent and decode as 0.
type TxResult struct {
	ID      ledger.Hash     `json:"id"`
	Status  string          `json:"status"`
	Error   *ErrorBody      `json:"error,omitempty"`
	Receipt *ledger.Receipt `json:"receipt,omitempty"`
	Block   uint64          `json:"block"` // height, once committed
	Index   uint32          `json:"index"` // position in the block, once committed
}

// txResultWire is TxResult as encoded: Block and Index are pointers so
// that they are present exactly when the transaction is committed. It has
// TxResult's fields, in order, with the same names.
type txResultWire struct {
	ID      ledger.Hash     `json:"id"`
	Status  string          `json:"status"`
	Error   *ErrorBody      `json:"error,omitempty"`
	Receipt *ledger.Receipt `json:"receipt,omitempty"`
	Block   *uint64         `json:"block,omitempty"`
	Index   *uint32         `json:"index,omitempty"`
}

func (r TxResult) wire() txResultWire {
	w := txResultWire{ID: r.ID, Status: r.Status, Error: r.Error, Receipt: r.Receipt}
	if r.Status == StatusCommitted {
		w.Block, w.Index = &r.Block, &r.Index
	}
	return w
}

// MarshalJSON encodes r with block and index present exactly when it is
// committed.
func (r TxResult) MarshalJSON() ([]byte, error) { return json.Marshal(r.wire()) }

// MarshalCBOR is MarshalJSON in CBOR (the struct encoding uses the json
// names); ledger.Unmarshal decodes it into a TxResult.
func (r TxResult) MarshalCBOR() ([]byte, error) { return ledger.Marshal(r.wire()) }

// SubmitResponse answers POST /v1/transactions: one result per submitted
// transaction, in order. Error is set when every transaction was rejected.
type SubmitResponse struct {
	Results []TxResult `json:"results"`
	Error   *ErrorBody `json:"error,omitempty"`
}

// appendCBOR appends what ledger.Marshal makes of r, writing the common
// results (no error) by hand: a batch's receipts are most of a node's
// answers under load, and the generic encoder's reflection was a tenth of
// the submit path. cbor_test.go holds it to ledger.Marshal.
func (r SubmitResponse) appendCBOR(b []byte) ([]byte, error) {
	if r.Error != nil {
		return appendMarshaled(b, r)
	}
	b = slices.Grow(b, 16+len(r.Results)*resultSize)
	b = ledger.AppendHead(b, ledger.MajorMap, 1)
	b = appendKey(b, "results")
	b = ledger.AppendHead(b, ledger.MajorArray, uint64(len(r.Results)))
	var err error
	for i := range r.Results {
		if b, err = r.Results[i].appendCBOR(b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// appendCBOR appends what MarshalCBOR makes of r. Its map's keys are in
// CBOR's core deterministic order: shorter first, then bytewise.
func (r *TxResult) appendCBOR(b []byte) ([]byte, error) {
	if r.Error != nil {
		return appendMarshaled(b, r.wire())
	}
	committed := r.Status == StatusCommitted
	n := uint64(2)
	if committed {
		n += 2
	}
	if r.Receipt != nil {
		n++
	}
	b = ledger.AppendHead(b, ledger.MajorMap, n)
	b = ledger.AppendBytes(appendKey(b, "id"), r.ID[:])
	if committed {
		b = ledger.AppendHead(appendKey(b, "block"), ledger.MajorUint, r.Block)
		b = ledger.AppendHead(appendKey(b, "index"), ledger.MajorUint, uint64(r.Index))
	}
	b = appendKey(appendKey(b, "status"), r.Status)
	if r.Receipt != nil {
		b = r.Receipt.AppendCBOR(appendKey(b, "receipt"))
	}
	return b, nil
}

// resultSize is about what a committed transfer's result takes in CBOR.
const resultSize = 160

// appendKey appends s as a CBOR text string.
func appendKey(b []byte, s string) []byte {
	return append(ledger.AppendHead(b, ledger.MajorText, uint64(len(s))), s...)
}

// appendMarshaled appends ledger.Marshal's encoding of v.
func appendMarshaled(b []byte, v any) ([]byte, error) {
	enc, err := ledger.Marshal(v)
	return append(b, enc...), err
}

// TxView is a committed transaction with its receipt, flattened for
// explorers and exporters. To and Amount are set for base-token transfers.
type TxView struct {
	ID       ledger.Hash     `json:"id"`
	Block    uint64          `json:"block"`
	Index    uint32          `json:"index"`
	ChainID  string          `json:"chain_id"`
	Chain    ledger.Chain    `json:"chain"`
	Nonce    uint64          `json:"nonce"`
	From     ledger.Address  `json:"from"`
	To       *ledger.Address `json:"to,omitempty"`
	Contract ledger.Address  `json:"contract"`
	Function string          `json:"function"`
	Input    ledger.Bytes    `json:"input"`
	Amount   *uint64         `json:"amount,omitempty"`
	GasLimit uint64          `json:"gas_limit"`
	Sig      ledger.Bytes    `json:"sig"`
	Status   ledger.Status   `json:"status"` // receipt status: "ok" or an error code
	GasUsed  uint64          `json:"gas_used"`
	Path     ledger.Path     `json:"path"`
	Error    string          `json:"error,omitempty"`
	Events   []ledger.Event  `json:"events"`
	Result   ledger.Bytes    `json:"result,omitempty"` // what the call returned; a deploy's is the contract address
	// Trace is the call's VM memory trace, when asked for (?trace=true,
	// ?traces=true on a range) and the node recorded one: it ran with
	// --vm-trace and the call ran in the VM.
	Trace *ledger.Trace `json:"trace,omitempty"`
}

// NewTxView flattens a transaction record. Its id is the receipt's, which
// the chain stores: hashing every tx of a block again is the cost of
// serving it. A receipt without one (zero) falls back to hashing.
func NewTxView(rec *ledger.TxRecord) TxView {
	tx, rc := &rec.Tx, &rec.Receipt
	id := rc.TxID
	if id == (ledger.Hash{}) {
		id = tx.ID()
	}
	v := TxView{
		ID: id, Block: rec.Height, Index: rec.Index,
		ChainID: tx.ChainID, Chain: tx.Chain, Nonce: tx.Nonce, From: tx.From,
		Contract: tx.Contract, Function: tx.Function, Input: nonNil(tx.Args),
		GasLimit: tx.GasLimit, Sig: tx.Sig[:],
		Status: rc.Status, GasUsed: rc.GasUsed, Path: rc.Path, Error: rc.Error,
		Events: rc.Events, Result: rc.Result,
	}
	if v.Events == nil {
		v.Events = []ledger.Event{}
	}
	if tx.Contract == token.Address && tx.Function == token.FuncTransfer {
		if a, err := token.DecodeTransfer(tx.Args); err == nil {
			v.To, v.Amount = &a.To, &a.Amount
		}
	}
	return v
}

func nonNil(b ledger.Bytes) ledger.Bytes {
	if b == nil {
		return ledger.Bytes{}
	}
	return b
}

// BlockView is a hot block for explorers: the header, its hash, and each
// transaction with its receipt. Writes is only filled when asked for.
type BlockView struct {
	Height     uint64         `json:"height"`
	Hash       ledger.Hash    `json:"hash"`
	Parent     ledger.Hash    `json:"parent"`
	ChainID    string         `json:"chain_id"`
	Time       time.Time      `json:"time"`
	TxRoot     ledger.Hash    `json:"tx_root"`
	ResultRoot ledger.Hash    `json:"result_root"`
	Commitment ledger.Hash    `json:"commitment"`
	TxCount    int            `json:"tx_count"`
	Txs        []TxView       `json:"txs"`
	Writes     []ledger.Write `json:"writes,omitempty"`
}

// NewBlockView flattens a block; withWrites includes its write set.
func NewBlockView(b *ledger.Block, withWrites bool) BlockView {
	h := &b.Header
	v := BlockView{
		Height: h.Height, Hash: h.Hash(), Parent: h.Parent, ChainID: h.ChainID,
		Time: time.Unix(0, h.Time).UTC(), TxRoot: h.TxRoot, ResultRoot: h.ResultRoot,
		Commitment: h.Commitment, TxCount: len(b.Txs), Txs: make([]TxView, len(b.Txs)),
	}
	for i := range b.Txs {
		rec := ledger.TxRecord{Tx: b.Txs[i], Height: h.Height, Index: uint32(i)}
		if i < len(b.Receipts) {
			rec.Receipt = b.Receipts[i]
		}
		v.Txs[i] = NewTxView(&rec)
	}
	if withWrites {
		v.Writes = b.Writes
	}
	return v
}

// BlocksPage answers GET /v1/blocks?from=&to=. Next is set when the range
// was cut short (too many transactions): ask again from there.
type BlocksPage struct {
	Blocks []BlockView `json:"blocks"`
	Next   uint64      `json:"next,omitempty"`
}

// ColdBlocksPage answers GET /v1/cold/blocks?from=&to=, like BlocksPage.
type ColdBlocksPage struct {
	Blocks []ledger.ColdBlock `json:"blocks"`
	Next   uint64             `json:"next,omitempty"`
}
