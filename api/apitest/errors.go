package apitest

import "fmt"

// Error is an error with a stable code, as the node returns them.
type Error struct {
	code string
	msg  string
}

// Errorf returns an Error with code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{code: code, msg: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string { return e.msg }

// Code implements api.Coder.
func (e *Error) Code() string { return e.code }
