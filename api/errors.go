package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/dualchain/dualchain/ledger"
)

// Error codes the server itself produces. A Backend may return others
// through Coder; those in codeStatus get their status from the table, any
// other is shown as is with 400.
const (
	CodeBadRequest       = "bad_request"
	CodeBadEncoding      = "bad_encoding"
	CodeBadTx            = "bad_tx"
	CodeBadSignature     = "bad_signature"
	CodeBadAddress       = "bad_address"
	CodeBadHash          = "bad_hash"
	CodeTooLarge         = "too_large"
	CodeBatchTooLarge    = "batch_too_large"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeTimeout          = "timeout"
	CodeInternal         = "internal"
	CodeRejected         = "rejected" // every tx of a submission, for different reasons
)

// codeStatus is the one table from error codes to HTTP statuses: the
// server's own codes and the node's (node/errors.go). A code not listed
// gets 400.
var codeStatus = map[string]int{
	CodeBadRequest:       http.StatusBadRequest,
	CodeBadEncoding:      http.StatusBadRequest,
	CodeBadTx:            http.StatusBadRequest,
	CodeBadSignature:     http.StatusBadRequest,
	CodeBadAddress:       http.StatusBadRequest,
	CodeBadHash:          http.StatusBadRequest,
	CodeRejected:         http.StatusBadRequest,
	"wrong_chain_id":     http.StatusBadRequest,
	"unsupported":        http.StatusBadRequest,
	"unknown_contract":   http.StatusBadRequest,
	"gas_limit_too_low":  http.StatusBadRequest,
	"bad_args":           http.StatusBadRequest,
	CodeTooLarge:         http.StatusRequestEntityTooLarge,
	CodeBatchTooLarge:    http.StatusRequestEntityTooLarge,
	CodeUnsupportedMedia: http.StatusUnsupportedMediaType,
	CodeNotFound:         http.StatusNotFound,
	"unknown_tx":         http.StatusNotFound,
	CodeMethodNotAllowed: http.StatusMethodNotAllowed,
	"nonce_too_low":      http.StatusConflict, // a replay
	"nonce_too_high":     http.StatusConflict,
	"nonce_taken":        http.StatusConflict,
	"nonce_gap":          http.StatusConflict,
	"insufficient_funds": http.StatusConflict, // may succeed once the balance changes
	"mempool_full":       http.StatusServiceUnavailable,
	"unavailable":        http.StatusServiceUnavailable,
	"block_failed":       http.StatusServiceUnavailable, // resubmit
	CodeTimeout:          http.StatusGatewayTimeout,
	CodeInternal:         http.StatusInternalServerError,
}

// sentinelCodes maps ledger's sentinel errors to codes, tested with errors.Is
// in order.
var sentinelCodes = []struct {
	err  error
	code string
}{
	{ledger.ErrTooLarge, CodeTooLarge},
	{ledger.ErrBadSignature, CodeBadSignature},
	{ledger.ErrBadTx, CodeBadTx},
	{ledger.ErrBadAddress, CodeBadAddress},
	{ledger.ErrBadHash, CodeBadHash},
	{ledger.ErrBadEncoding, CodeBadEncoding},
	{context.DeadlineExceeded, CodeTimeout},
}

// ErrorBody is the JSON form of an error: {"code":...,"message":...}.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ErrorResponse is the body of every failed request.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// StatusFor returns the HTTP status for an error code.
func StatusFor(code string) int {
	if s, ok := codeStatus[code]; ok {
		return s
	}
	return http.StatusBadRequest
}

// codedError is an error the server makes with a code and a message that
// is safe to show.
type codedError struct {
	code string
	msg  string
	err  error // cause, for errors.Is; may be nil
}

func (e *codedError) Error() string { return e.msg }
func (e *codedError) Code() string  { return e.code }
func (e *codedError) Unwrap() error { return e.err }

func errorf(code, msg string, cause error) error {
	return &codedError{code: code, msg: msg, err: cause}
}

// classify returns the code and the client-safe message for err; internal
// reports an error without a code, whose text must not be shown.
func classify(err error) (body ErrorBody, internal bool) {
	var c Coder
	if errors.As(err, &c) {
		return ErrorBody{Code: c.Code(), Message: c.Error()}, false
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return ErrorBody{Code: CodeTooLarge, Message: err.Error()}, false
	}
	for _, s := range sentinelCodes {
		if errors.Is(err, s.err) {
			return ErrorBody{Code: s.code, Message: err.Error()}, false
		}
	}
	return ErrorBody{Code: CodeInternal, Message: "internal error"}, true
}
