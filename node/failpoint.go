package node

import (
	"net/http"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
)

// What a failpoints build (the failpoints tag) adds to a node: the debug
// API, a clock that can be skewed and a cold chain filesystem that can be
// slowed down or made to fail (failpoint_on.go). The clock and the API's
// routing are in every build so that tests without the tag cover them;
// the filesystem is not, so that a production binary does not link
// Pebble's errorfs.

// skewClock is a clock whose Now is moved by offset: the clock-skew
// failpoint. Timers and tickers are the underlying clock's (a skew moves
// the time of day, not the length of a second).
type skewClock struct {
	clockwork.Clock
	offset func() time.Duration
}

func (c skewClock) Now() time.Time                  { return c.Clock.Now().Add(c.offset()) }
func (c skewClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }
func (c skewClock) Until(t time.Time) time.Duration { return t.Sub(c.Now()) }

// withDebug serves the failpoints API under /debug/failpoints in front of
// the node's API.
func withDebug(api, debug http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/debug/failpoints" || strings.HasPrefix(r.URL.Path, "/debug/failpoints/") {
			debug.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}
