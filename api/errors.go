package api

import (
	"context"
	"errors"
	"log/slog"
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
	CodeCanceled         = "canceled" // the client went away; nobody reads the answer
)

// StatusClientClosedRequest is the status logged and counted for a request
// whose client went away before the answer (nginx's 499). No client sees
// it; it keeps disconnects apart from the server's own faults in metrics.
const StatusClientClosedRequest = 499

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
	"bad_module":         http.StatusBadRequest,
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
	CodeCanceled:         StatusClientClosedRequest,
}

// sentinelCodes maps ledger's sentinel errors to codes, tested with errors.Is
// in order. It applies only to errors about the request itself (see
// requestError): the same sentinel from a backend means its own data is
// bad, which is an internal error.
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

// requestError gives an error found in the request itself (a body, a path
// or query parameter, a transaction that fails Validate) its code: the
// code's own if it has one, else that of the ledger sentinel it wraps, else
// bad_request. Its text describes the client's input, so it is shown.
func requestError(err error) error {
	if isCoded(err) {
		return err
	}
	for _, s := range sentinelCodes {
		if errors.Is(err, s.err) {
			return errorf(s.code, err.Error(), err)
		}
	}
	return errorf(CodeBadRequest, err.Error(), err)
}

// submitError classifies one transaction's error from Backend.Submit.
// Besides coded errors, a backend returns ledger.VerifyBatch's errors as
// they are (the node does), and a bad signature is the submitted
// transaction's fault, not the node's. Every other uncoded error stays
// internal.
func submitError(err error) error {
	if !isCoded(err) && errors.Is(err, ledger.ErrBadSignature) {
		return errorf(CodeBadSignature, err.Error(), err)
	}
	return err
}

func isCoded(err error) bool {
	var c Coder
	return errors.As(err, &c)
}

// verdict is what the server makes of an error: what the client sees, and
// how to log it (not at all if logMsg is empty).
type verdict struct {
	body   ErrorBody
	level  slog.Level
	logMsg string
}

// classify judges err, which ended (part of) a request whose context is
// ctx. Only a Coder's code and text are shown; an error without a code is
// internal, and its text is logged, never shown. Two kinds of uncoded
// errors are told apart: the client went away (ctx canceled; logged at
// debug level, as nobody reads the answer) and a backend deadline (504,
// logged as a warning).
func classify(ctx context.Context, err error) verdict {
	var c Coder
	switch {
	case errors.As(err, &c):
		return verdict{body: ErrorBody{Code: c.Code(), Message: c.Error()}}
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return verdict{body: ErrorBody{Code: CodeCanceled, Message: "request canceled"},
			level: slog.LevelDebug, logMsg: "client went away"}
	case errors.Is(err, context.DeadlineExceeded):
		return verdict{body: ErrorBody{Code: CodeTimeout, Message: "the node timed out serving the request"},
			level: slog.LevelWarn, logMsg: "backend timed out"}
	}
	return verdict{body: ErrorBody{Code: CodeInternal, Message: "internal error"},
		level: slog.LevelError, logMsg: "internal error"}
}

// errLog gathers the errors of one request that need logging, so that a
// request logs one line however many of its transactions failed (a
// 10,000-tx batch that meets one backend fault logs it once, with a
// count): the most severe error, the first of those, and how many there
// were.
type errLog struct {
	first error
	v     verdict
	n     int
}

func (l *errLog) add(v verdict, err error) {
	if v.logMsg == "" {
		return
	}
	if l.n == 0 || v.level > l.v.level {
		l.first, l.v = err, v
	}
	l.n++
}
