//go:build !failpoints

package failpoint

import (
	"net/http"
	"time"
)

// Enabled reports whether this build has failpoints (the failpoints tag).
const Enabled = false

// Inject does nothing without the failpoints tag; the compiler inlines
// it away.
func Inject(string) error { return nil }

// Offset is 0 without the failpoints tag.
func Offset(string) time.Duration { return 0 }

// DebugHandler is nil without the failpoints tag: there is no API.
func DebugHandler() http.Handler { return nil }
