package ledger

import "crypto/sha256"

// A hot block's canonical encoding is written here by hand, as a
// transaction's is (txcodec.go): the leader encodes every block twice (its
// result root, then the block in the log entry), and through reflection
// that was a tenth of the producer's time and much of the node's garbage.
// blockcodec_test.go holds every encoder here to Marshal, byte for byte.

// headerTag domain-separates header hashes.
const headerTag = "dualchain/header/v1\x00"

// appendInt appends n as a canonical CBOR integer: major type 0 for n ≥ 0,
// 1 (encoding -1-n) below.
func appendInt(b []byte, n int64) []byte {
	if n >= 0 {
		return appendHead(b, majorUint, uint64(n))
	}
	return appendHead(b, majorNeg, uint64(^n))
}

// majorNeg is CBOR's negative integer major type.
const majorNeg byte = 1 << 5

// AppendCBOR appends the header's canonical encoding.
func (h *Header) AppendCBOR(b []byte) []byte {
	b = appendHead(b, majorArray, 7)
	b = appendText(b, h.ChainID)
	b = appendHead(b, majorUint, h.Height)
	b = appendBytes(b, h.Parent[:])
	b = appendInt(b, h.Time)
	b = appendBytes(b, h.TxRoot[:])
	b = appendBytes(b, h.ResultRoot[:])
	return appendBytes(b, h.Commitment[:])
}

// AppendCBOR appends the transaction's canonical encoding (Encode's).
func (tx *Tx) AppendCBOR(b []byte) []byte {
	return appendBytes(tx.appendBody(b, 9), tx.Sig[:])
}

// AppendCBOR appends the receipt's canonical encoding.
func (r *Receipt) AppendCBOR(b []byte) []byte {
	b = appendHead(b, majorArray, 7)
	b = appendBytes(b, r.TxID[:])
	b = appendHead(b, majorUint, uint64(r.Status))
	b = appendHead(b, majorUint, r.GasUsed)
	b = appendHead(b, majorUint, uint64(r.Path))
	b = appendText(b, r.Error)
	b = appendHead(b, majorArray, uint64(len(r.Events)))
	for i := range r.Events {
		b = appendHead(b, majorArray, 2)
		b = appendText(b, r.Events[i].Name)
		b = appendBytes(b, r.Events[i].Data)
	}
	return appendBytes(b, r.Result)
}

// EncodedSize bounds the length of the receipt's encoding, so a caller
// appending it to a buffer can allocate once.
func (r *Receipt) EncodedSize() int { return r.receiptSize() }

// receiptSize bounds the receipt's encoding, to allocate once.
func (r *Receipt) receiptSize() int {
	n := 1 + 34 + 3*9 + 9 + len(r.Error) + 9 + 9 + len(r.Result)
	for i := range r.Events {
		n += 1 + 9 + len(r.Events[i].Name) + 9 + len(r.Events[i].Data)
	}
	return n
}

// appendResults appends the receipts and the write set, each an array:
// the body of the result root and the tail of the block.
func (b *Block) appendResults(dst []byte) []byte {
	dst = appendHead(dst, majorArray, uint64(len(b.Receipts)))
	for i := range b.Receipts {
		dst = b.Receipts[i].AppendCBOR(dst)
	}
	dst = appendHead(dst, majorArray, uint64(len(b.Writes)))
	for i := range b.Writes {
		dst = appendHead(dst, majorArray, 2)
		dst = appendBytes(dst, b.Writes[i].Key)
		dst = appendBytes(dst, b.Writes[i].Value)
	}
	return dst
}

// resultsSize bounds appendResults' output.
func (b *Block) resultsSize() int {
	n := 18
	for i := range b.Receipts {
		n += b.Receipts[i].receiptSize()
	}
	for i := range b.Writes {
		n += 1 + 9 + len(b.Writes[i].Key) + 9 + len(b.Writes[i].Value)
	}
	return n
}

// EncodedSize bounds the length of the block's encoding, so a caller
// appending it to a buffer can allocate once.
func (b *Block) EncodedSize() int {
	n := 1 + 1 + 9 + len(b.Header.ChainID) + 9 + 4*34 + 9 + 9 + b.resultsSize()
	for i := range b.Txs {
		n += b.Txs[i].encodedBodySize() + 66
	}
	return n
}

// AppendCBOR appends the block's canonical encoding (Encode's).
func (b *Block) AppendCBOR(dst []byte) []byte {
	dst = appendHead(dst, majorArray, 4)
	dst = b.Header.AppendCBOR(dst)
	dst = appendHead(dst, majorArray, uint64(len(b.Txs)))
	for i := range b.Txs {
		dst = b.Txs[i].AppendCBOR(dst)
	}
	return b.appendResults(dst)
}

// resultRoot is the SHA-256 of the receipts and the write set, encoded as
// a two-element array.
func (b *Block) resultRoot() Hash {
	buf := make([]byte, 0, 1+b.resultsSize())
	return sha256.Sum256(b.appendResults(appendHead(buf, majorArray, 2)))
}
