package api

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"

	"github.com/dualchain/dualchain/ledger"
)

// Media types a submission may use.
const (
	MediaJSON = "application/json"
	MediaCBOR = "application/cbor"
)

// DecodeSubmit decodes a submission body: in JSON a TxJSON object or
// {"txs":[...]}, in CBOR one encoded ledger.Tx or an array of them. It is
// strict (unknown fields, trailing data and more than maxBatch transactions
// are errors), does not validate the transactions, and never panics.
// contentType is the request's Content-Type; empty means JSON.
func DecodeSubmit(contentType string, body []byte, maxBatch int) ([]*ledger.Tx, error) {
	media := MediaJSON
	if contentType != "" {
		var err error
		if media, _, err = mime.ParseMediaType(contentType); err != nil {
			return nil, errorf(CodeUnsupportedMedia, fmt.Sprintf("content type %q: %v", contentType, err), nil)
		}
	}
	switch media {
	case MediaJSON:
		return decodeJSON(body, maxBatch)
	case MediaCBOR:
		return decodeCBOR(body, maxBatch)
	}
	return nil, errorf(CodeUnsupportedMedia,
		fmt.Sprintf("content type %q: want %s or %s", media, MediaJSON, MediaCBOR), nil)
}

func badEncoding(format string, args ...any) error {
	return errorf(CodeBadEncoding, fmt.Sprintf(format, args...), ledger.ErrBadEncoding)
}

func checkBatch(n uint64, maxBatch int) error {
	switch {
	case n == 0:
		return errorf(CodeBadRequest, "no transactions in the request", nil)
	case n > uint64(maxBatch):
		return errorf(CodeBatchTooLarge, fmt.Sprintf("batch of %d transactions, limit %d", n, maxBatch), nil)
	}
	return nil
}

func decodeJSON(body []byte, maxBatch int) ([]*ledger.Tx, error) {
	batch, err := isJSONBatch(body)
	if err != nil {
		return nil, err
	}
	if !batch {
		var t TxJSON
		if err := strictJSON(body, &t); err != nil {
			return nil, err
		}
		return fromJSON([]TxJSON{t}, maxBatch)
	}
	var req SubmitRequest
	if err := strictJSON(body, &req); err != nil {
		return nil, err
	}
	return fromJSON(req.Txs, maxBatch)
}

// isJSONBatch reports whether body is an object whose first key is "txs".
func isJSONBatch(body []byte) (bool, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return false, badEncoding("malformed JSON: %v", err)
	}
	if tok != json.Delim('{') {
		return false, badEncoding("malformed JSON: want an object, got %v", tok)
	}
	tok, err = dec.Token()
	if err != nil {
		return false, badEncoding("malformed JSON: %v", err)
	}
	return tok == "txs", nil
}

// strictJSON decodes exactly one JSON value with no unknown fields.
func strictJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badEncoding("malformed JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badEncoding("malformed JSON: trailing data after the request")
	}
	return nil
}

func fromJSON(in []TxJSON, maxBatch int) ([]*ledger.Tx, error) {
	if err := checkBatch(uint64(len(in)), maxBatch); err != nil {
		return nil, err
	}
	txs := make([]*ledger.Tx, len(in))
	for i := range in {
		tx, err := in[i].Tx()
		if err != nil {
			return nil, badEncoding("tx %d: %v", i, err)
		}
		txs[i] = tx
	}
	return txs, nil
}

func decodeCBOR(body []byte, maxBatch int) ([]*ledger.Tx, error) {
	n, batch, err := cborShape(body)
	if err != nil {
		return nil, err
	}
	if !batch {
		if len(body) > ledger.MaxTxSize {
			return nil, errorf(CodeTooLarge, fmt.Sprintf("transaction of %d bytes, limit %d", len(body), ledger.MaxTxSize), ledger.ErrTooLarge)
		}
		tx := new(ledger.Tx)
		if err := ledger.Unmarshal(body, tx); err != nil {
			return nil, badEncoding("malformed CBOR transaction: %v", err)
		}
		return []*ledger.Tx{tx}, nil
	}
	if err := checkBatch(n, maxBatch); err != nil {
		return nil, err
	}
	var list []ledger.Tx
	if err := ledger.Unmarshal(body, &list); err != nil {
		return nil, badEncoding("malformed CBOR batch: %v", err)
	}
	txs := make([]*ledger.Tx, len(list))
	for i := range list {
		txs[i] = &list[i]
	}
	return txs, nil
}

// cborShape tells a single transaction (an array whose first item is the
// chain id, a text string) from a batch (an array of arrays, or empty),
// and returns the outer array's length.
func cborShape(body []byte) (n uint64, batch bool, err error) {
	n, size, err := cborArrayHeader(body)
	if err != nil {
		return 0, false, err
	}
	if n == 0 {
		return 0, true, nil
	}
	if size >= len(body) {
		return 0, false, badEncoding("malformed CBOR: truncated")
	}
	const majorArray = 4
	return n, body[size]>>5 == majorArray, nil
}

// cborArrayHeader reads a definite-length CBOR array header and returns the
// array's length and the header's size in bytes.
func cborArrayHeader(b []byte) (n uint64, size int, err error) {
	if len(b) == 0 {
		return 0, 0, badEncoding("empty request body")
	}
	if b[0]>>5 != 4 {
		return 0, 0, badEncoding("malformed CBOR: want an array (a transaction or a batch)")
	}
	info := b[0] & 0x1f
	if info < 24 {
		return uint64(info), 1, nil
	}
	if info > 27 {
		return 0, 0, badEncoding("malformed CBOR: indefinite or reserved array length")
	}
	k := 1 << (info - 24)
	if len(b) < 1+k {
		return 0, 0, badEncoding("malformed CBOR: truncated")
	}
	var buf [8]byte
	copy(buf[8-k:], b[1:1+k])
	return binary.BigEndian.Uint64(buf[:]), 1 + k, nil
}
