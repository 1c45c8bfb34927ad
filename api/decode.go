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

// decodeJSON decodes a TxJSON object or {"txs":[...]}, told apart by the
// object's first key. A batch is streamed (see decodeJSONBatch); a single
// tx is at most the body, so it is decoded whole.
func decodeJSON(body []byte, maxBatch int) ([]*ledger.Tx, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	batch, err := startsJSONBatch(dec)
	if err != nil {
		return nil, err
	}
	if batch {
		return decodeJSONBatch(dec, maxBatch)
	}
	var t TxJSON
	if err := strictJSON(body, &t); err != nil {
		return nil, err
	}
	if err := checkBatch(1, maxBatch); err != nil {
		return nil, err
	}
	tx, err := t.Tx()
	if err != nil {
		return nil, badEncoding("tx 0: %v", err)
	}
	return []*ledger.Tx{tx}, nil
}

func malformedJSON(err error) error { return badEncoding("malformed JSON: %v", err) }

// unknownField is the error for a key that is not a field, worded as
// encoding/json's.
func unknownField(key string) error {
	return badEncoding("malformed JSON: json: unknown field %q", key)
}

// startsJSONBatch reads an object's opening brace and, if its first key is
// "txs", that key too; it reports whether it did.
func startsJSONBatch(dec *json.Decoder) (bool, error) {
	tok, err := dec.Token()
	if err != nil {
		return false, malformedJSON(err)
	}
	if tok != json.Delim('{') {
		return false, badEncoding("malformed JSON: want an object, got %v", tok)
	}
	if !dec.More() {
		return false, nil
	}
	tok, err = dec.Token()
	if err != nil {
		return false, malformedJSON(err)
	}
	return tok == "txs", nil
}

// decodeJSONBatch decodes the rest of {"txs":[...]} after the "txs" key:
// the array one tx at a time, failing as soon as it holds more than
// maxBatch (a body of millions of {} must not become millions of TxJSON
// first), then the closing brace and the end of the body.
func decodeJSONBatch(dec *json.Decoder, maxBatch int) ([]*ledger.Tx, error) {
	txs, err := decodeJSONTxs(dec, maxBatch)
	if err != nil {
		return nil, err
	}
	if err := endJSONBatch(dec); err != nil {
		return nil, err
	}
	if err := checkBatch(uint64(len(txs)), maxBatch); err != nil {
		return nil, err
	}
	return txs, nil
}

// decodeJSONTxs decodes the value of "txs": an array of TxJSON, or null.
func decodeJSONTxs(dec *json.Decoder, maxBatch int) ([]*ledger.Tx, error) {
	tok, err := dec.Token()
	switch {
	case err != nil:
		return nil, malformedJSON(err)
	case tok == nil:
		return nil, nil // "txs":null, an empty batch
	case tok != json.Delim('['):
		return nil, badEncoding("malformed JSON: txs: want an array, got %v", tok)
	}
	var txs []*ledger.Tx
	for dec.More() {
		if len(txs) == maxBatch {
			return nil, errorf(CodeBatchTooLarge, fmt.Sprintf("batch of more than %d transactions, the limit", maxBatch), nil)
		}
		var t TxJSON // fresh: decoding into a used one would keep its fields
		if err := dec.Decode(&t); err != nil {
			return nil, badEncoding("malformed JSON: tx %d: %v", len(txs), err)
		}
		tx, err := t.Tx()
		if err != nil {
			return nil, badEncoding("tx %d: %v", len(txs), err)
		}
		txs = append(txs, tx)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim(']') {
		return nil, badEncoding("malformed JSON: txs: unterminated array")
	}
	return txs, nil
}

// endJSONBatch reads what must follow the txs array: the object's closing
// brace (any other key is an unknown field) and the end of the body.
func endJSONBatch(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return malformedJSON(err)
	}
	if key, ok := tok.(string); ok {
		if key == "txs" {
			return badEncoding("malformed JSON: duplicate field %q", key)
		}
		return unknownField(key)
	}
	if tok != json.Delim('}') {
		return badEncoding("malformed JSON: want the end of the object, got %v", tok)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badEncoding("malformed JSON: trailing data after the request")
	}
	return nil
}

// strictJSON decodes exactly one JSON value with no unknown fields.
func strictJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return malformedJSON(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badEncoding("malformed JSON: trailing data after the request")
	}
	return nil
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
