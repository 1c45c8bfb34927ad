package instrument

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrInvalid is what every refusal of a module satisfies (errors.Is).
	ErrInvalid = errors.New("instrument: module refused")
	// ErrOptions reports Options that Validate refuses.
	ErrOptions = errors.New("instrument: invalid options")
)

// Error is a refused module: what was refused and, where it applies, the
// function and the byte offset in the module where it was found.
type Error struct {
	Reason string // what was refused
	Func   int    // index in the function index space (imports first), or -1
	Offset int    // byte offset in the module, or -1
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("instrument: ")
	b.WriteString(e.Reason)
	if e.Func >= 0 {
		fmt.Fprintf(&b, " in function %d", e.Func)
	}
	if e.Offset >= 0 {
		fmt.Fprintf(&b, " at offset %#x", e.Offset)
	}
	return b.String()
}

// Is makes every *Error match ErrInvalid.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// refused returns an *Error with no function or offset.
func refused(format string, args ...any) *Error {
	return refusedAt(-1, -1, format, args...)
}

// refusedAt returns an *Error found in function fn at offset off; -1 for
// either means none.
func refusedAt(fn, off int, format string, args ...any) *Error {
	return &Error{Reason: fmt.Sprintf(format, args...), Func: fn, Offset: off}
}
