package ledger

import "errors"

// Errors returned by this package; test for them with errors.Is.
var (
	ErrBadAddress   = errors.New("ledger: malformed address")
	ErrBadHash      = errors.New("ledger: malformed hash")
	ErrBadEncoding  = errors.New("ledger: malformed encoding")
	ErrTooLarge     = errors.New("ledger: too large")
	ErrBadSignature = errors.New("ledger: bad signature")
	ErrBadTx        = errors.New("ledger: invalid transaction")
	ErrBadKeyFile   = errors.New("ledger: malformed key file")
	ErrBadGenesis   = errors.New("ledger: invalid genesis")
)
