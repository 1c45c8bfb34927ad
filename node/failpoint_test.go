package node

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

func TestSkewClock(t *testing.T) {
	base := clockwork.NewFakeClockAt(time.Unix(1000, 0))
	var off time.Duration
	c := skewClock{Clock: base, offset: func() time.Duration { return off }}
	start := c.Now()
	off = -3 * time.Second
	if got, want := c.Now(), time.Unix(997, 0); !got.Equal(want) {
		t.Errorf("Now() skewed -3s = %v, want %v", got, want)
	}
	if got := c.Since(start); got != -3*time.Second {
		t.Errorf("Since(start) skewed -3s = %v, want -3s", got)
	}
	if got := c.Until(start); got != 3*time.Second {
		t.Errorf("Until(start) skewed -3s = %v, want 3s", got)
	}
}

func TestWithDebug(t *testing.T) {
	tag := func(s string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(s)) })
	}
	h := withDebug(tag("api"), tag("debug"))
	for path, want := range map[string]string{
		"/debug/failpoints": "debug", "/debug/failpoints/clock-skew": "debug",
		"/debug/failpointsx": "api", "/v1/status": "api", "/debug/pprof/": "api",
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if got := rec.Body.String(); got != want {
			t.Errorf("GET %s went to %q, want %q", path, got, want)
		}
	}
}
