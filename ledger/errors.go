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
	// ErrBadProof: a cold state proof is malformed (bad encoding, too
	// many siblings, a non-inclusion leaf off the account's path).
	ErrBadProof = errors.New("ledger: malformed proof")
	// ErrProofMismatch: a well-formed proof does not lead to the trusted
	// root.
	ErrProofMismatch = errors.New("ledger: proof does not match root")
)
