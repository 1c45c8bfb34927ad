package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/ledger"
)

// Exit statuses.
const (
	exitFailure = 1
	exitUsage   = 2
)

// cliError is an error with a code for the error line.
type cliError struct {
	code  string
	msg   string
	usage bool // a mistake in the command line: exit 2
}

func (e *cliError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &cliError{code: "usage", msg: fmt.Sprintf(format, args...), usage: true}
}

func failf(code, format string, args ...any) error {
	return &cliError{code: code, msg: fmt.Sprintf(format, args...)}
}

// localCodes names local errors, tested with errors.Is in order.
var localCodes = []struct {
	err  error
	code string
}{
	{ledger.ErrBadKeyFile, "bad_key_file"},
	{ledger.ErrBadAddress, "bad_address"},
	{ledger.ErrBadHash, "bad_hash"},
	{context.DeadlineExceeded, "timeout"},
	{context.Canceled, "canceled"},
}

// describe returns the message, code and exit status to report for err.
func (a *app) describe(err error) (msg, code string, exit int) {
	var ce *client.Error
	var le *cliError
	var ue *url.Error
	switch {
	case errors.As(err, &ce):
		return ce.Message, ce.Code, exitFailure
	case errors.As(err, &le) && le.usage:
		return le.msg, le.code, exitUsage
	case errors.As(err, &le):
		return le.msg, le.code, exitFailure
	}
	for _, lc := range localCodes {
		if errors.Is(err, lc.err) {
			return err.Error(), lc.code, exitFailure
		}
	}
	if errors.As(err, &ue) {
		return fmt.Sprintf("cannot reach the node at %s: %v", a.nodeURL, ue.Err), "unreachable", exitFailure
	}
	return err.Error(), "error", exitFailure
}
