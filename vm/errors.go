package vm

import (
	"errors"

	"github.com/dualchain/dualchain/vm/instrument"
)

var (
	// ErrInvalid wraps the reason a module can never run: it is not valid
	// WebAssembly, or it uses what contracts may not (docs/contract-abi.md).
	// It is the instrumenter's error, which names what was refused.
	ErrInvalid = instrument.ErrInvalid
	// ErrConfig reports a configuration that cannot work.
	ErrConfig = errors.New("vm: bad config")
)
