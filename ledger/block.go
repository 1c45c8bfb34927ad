package ledger

import (
	"crypto/sha256"
	"fmt"
)

// Header is a hot block's header. Its hash is the block's hash.
type Header struct {
	_          struct{} `cbor:",toarray"`
	ChainID    string   `json:"chain_id"`
	Height     uint64   `json:"height"`
	Parent     Hash     `json:"parent"`
	Time       int64    `json:"time"` // leader's clock, unix nanoseconds; informational only
	TxRoot     Hash     `json:"tx_root"`
	ResultRoot Hash     `json:"result_root"` // receipts and write set
	Commitment Hash     `json:"commitment"`  // hot state after this block
}

// Hash returns SHA-256 of the header's canonical encoding.
func (h *Header) Hash() Hash {
	var buf [256]byte // the tag and a header fit; a longer one grows it
	return sha256.Sum256(h.AppendCBOR(append(buf[:0], headerTag...)))
}

// Write is one entry of a block's write set: the new value of a state key.
// An empty Value deletes the key (absent and zero are the same state).
type Write struct {
	_     struct{} `cbor:",toarray"`
	Key   Bytes    `json:"key"`
	Value Bytes    `json:"value"`
}

// Block is a hot block with its effects: the transactions, one receipt for
// each, and the write set that applying the block stores.
type Block struct {
	_        struct{}  `cbor:",toarray"`
	Header   Header    `json:"header"`
	Txs      []Tx      `json:"txs"`
	Receipts []Receipt `json:"receipts"`
	Writes   []Write   `json:"writes"`
}

// Seal computes the header's roots from the body. Call it after filling in
// the body and before hashing the header. The tx root is taken from the
// receipts' tx ids (the producer computed them when it verified each
// signature); CheckRoots checks them against the transactions.
func (b *Block) Seal() {
	b.Header.TxRoot = receiptTxRoot(b.Receipts)
	b.Header.ResultRoot = b.resultRoot()
}

// TxRoot hashes the ids of txs in order.
func TxRoot(txs []Tx) Hash {
	h := sha256.New()
	for i := range txs {
		id := txs[i].ID()
		h.Write(id[:])
	}
	var out Hash
	h.Sum(out[:0])
	return out
}

// receiptTxRoot is TxRoot computed from the receipts' tx ids.
func receiptTxRoot(rs []Receipt) Hash {
	h := sha256.New()
	for i := range rs {
		h.Write(rs[i].TxID[:])
	}
	var out Hash
	h.Sum(out[:0])
	return out
}

// CheckRoots reports whether the header's roots match the body and each
// receipt names its transaction.
func (b *Block) CheckRoots() error {
	if len(b.Receipts) != len(b.Txs) {
		return fmt.Errorf("%w: block %d has %d txs and %d receipts", ErrBadEncoding, b.Header.Height, len(b.Txs), len(b.Receipts))
	}
	for i := range b.Txs {
		if b.Txs[i].ID() != b.Receipts[i].TxID {
			return fmt.Errorf("%w: block %d receipt %d is not for tx %d", ErrBadEncoding, b.Header.Height, i, i)
		}
	}
	want := *b
	want.Seal()
	if TxRoot(b.Txs) != b.Header.TxRoot || want.Header.ResultRoot != b.Header.ResultRoot {
		return fmt.Errorf("%w: block %d roots do not match its body", ErrBadEncoding, b.Header.Height)
	}
	return nil
}

// Encode returns the canonical CBOR encoding of the block.
func (b *Block) Encode() []byte { return b.AppendCBOR(make([]byte, 0, b.EncodedSize())) }

// DecodeBlock decodes one block and checks its transactions' sizes.
func DecodeBlock(data []byte) (*Block, error) {
	if len(data) > MaxBlockSize {
		return nil, fmt.Errorf("%w: block of %d bytes, limit %d", ErrTooLarge, len(data), MaxBlockSize)
	}
	b := new(Block)
	if err := Unmarshal(data, b); err != nil {
		return nil, err
	}
	for i := range b.Txs {
		if err := b.Txs[i].Validate(); err != nil {
			return nil, fmt.Errorf("block %d tx %d: %w", b.Header.Height, i, err)
		}
	}
	return b, nil
}
