package netfault

import "errors"

// Errors returned by this package, wrapped with details; test with errors.Is.
var (
	// ErrUnavailable reports a machine where namespaces cannot be made:
	// not root, not Linux, or ip or iptables missing.
	ErrUnavailable = errors.New("netfault: network namespaces unavailable")
	// ErrBadNode reports a node index the Net does not have.
	ErrBadNode = errors.New("netfault: no such node")
	// ErrBadLink reports Link values out of range.
	ErrBadLink = errors.New("netfault: bad link")
	// ErrClosed reports a use of a closed Net.
	ErrClosed = errors.New("netfault: closed")
	// ErrCommand reports a failed ip or iptables command, with its output.
	ErrCommand = errors.New("netfault: command failed")
	// ErrQueue reports a failure of the NFQUEUE delayer.
	ErrQueue = errors.New("netfault: nfqueue")
)
