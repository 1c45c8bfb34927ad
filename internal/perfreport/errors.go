package perfreport

import "errors"

var (
	// ErrBadProfile reports a profile that pprof cannot parse.
	ErrBadProfile = errors.New("perfreport: cannot parse profile")
	// ErrNotCPUProfile reports a profile without CPU time (a heap profile, say).
	ErrNotCPUProfile = errors.New("perfreport: not a CPU profile")
	// ErrEmptyProfile reports a CPU profile with no samples.
	ErrEmptyProfile = errors.New("perfreport: profile has no samples")
)
