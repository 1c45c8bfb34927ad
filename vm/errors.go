package vm

import "errors"

var (
	// ErrInvalid wraps the reason a module can never run: it is not valid
	// WebAssembly, or it uses what contracts may not (docs/contract-abi.md).
	ErrInvalid = errors.New("vm: invalid module")
	// ErrConfig reports a configuration that cannot work.
	ErrConfig = errors.New("vm: bad config")
)
