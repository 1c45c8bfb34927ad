package coldchain

import "errors"

// Errors returned by this package; test for them with errors.Is.
var (
	// ErrBadWrite: an Apply batch is malformed (the same address twice).
	ErrBadWrite = errors.New("coldchain: malformed account writes")
	// ErrCorrupt: a stored record cannot be decoded, or a tree node the
	// root refers to is missing.
	ErrCorrupt = errors.New("coldchain: corrupt store record")
	// ErrClosed: the state was used after Close.
	ErrClosed = errors.New("coldchain: state closed")
	// ErrBadConfig: a Config does not validate.
	ErrBadConfig = errors.New("coldchain: invalid config")
	// ErrUnknownRoot: ProveAt was asked for a root the state does not keep
	// (older than the last Config.KeepVersions applies, or never a root).
	ErrUnknownRoot = errors.New("coldchain: root not retained")
)
