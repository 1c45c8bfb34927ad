package client

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/dualchain/dualchain/api"
)

// CodeUnexpectedResponse is the code of an error response that was not the
// node's JSON error (a proxy's error page, say).
const CodeUnexpectedResponse = "unexpected_response"

// Error is an error the node answered with.
type Error struct {
	Code       string // stable, e.g. "not_found", "nonce_too_low"
	Message    string
	HTTPStatus int
}

func (e *Error) Error() string { return fmt.Sprintf("%s (%s)", e.Message, e.Code) }

// decodeError reads an error response body.
func decodeError(status int, body []byte) *Error {
	var env api.ErrorResponse
	if err := json.Unmarshal(body, &env); err == nil && env.Error.Code != "" {
		return &Error{Code: env.Error.Code, Message: env.Error.Message, HTTPStatus: status}
	}
	const maxShown = 200
	if len(body) > maxShown {
		body = body[:maxShown]
	}
	return &Error{
		Code:       CodeUnexpectedResponse,
		Message:    fmt.Sprintf("HTTP %d %s: %q", status, http.StatusText(status), body),
		HTTPStatus: status,
	}
}

// ResultError returns a rejected result's error as an *Error, or nil if the
// transaction was not rejected.
func ResultError(r api.TxResult) error {
	if r.Status != api.StatusRejected || r.Error == nil {
		return nil
	}
	return &Error{Code: r.Error.Code, Message: r.Error.Message, HTTPStatus: api.StatusFor(r.Error.Code)}
}
