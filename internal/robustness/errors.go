package robustness

import "errors"

// Errors returned by this package, wrapped with details; test with
// errors.Is.
var (
	// ErrBadOptions reports Options that cannot make a run.
	ErrBadOptions = errors.New("robustness: bad options")
	// ErrViolation reports a run whose history or final ledger broke an
	// invariant (or could not be checked).
	ErrViolation = errors.New("robustness: invariant violated")
	// ErrNoEffect reports a fault that did not take effect in time.
	ErrNoEffect = errors.New("robustness: fault did not take effect")
	// ErrStuck reports transactions a client resent to the recovered
	// cluster until the run ended that were never committed nor refused:
	// ARCHITECTURE §9 says a client may retry an unacknowledged
	// transaction with the same nonce, and the retry must be decided.
	ErrStuck = errors.New("robustness: resent transactions never decided")
	// ErrNotRecovered reports a cluster that did not recover from a fault.
	ErrNotRecovered = errors.New("robustness: cluster did not recover")
	// ErrNotOurs reports a PID that is no longer the process recorded.
	ErrNotOurs = errors.New("robustness: process is not the one recorded")
	// ErrProbe reports a node that, asked for its failpoints before the
	// faults were picked, neither listed them nor said it has none (404):
	// the run cannot tell which faults it may inject.
	ErrProbe = errors.New("robustness: cannot tell whether the nodes have failpoints")
	// ErrNotAtomic reports a read of every account that could not be
	// made at one applied index.
	ErrNotAtomic = errors.New("robustness: no atomic read")
)
