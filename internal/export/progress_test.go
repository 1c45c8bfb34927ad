package export

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

func TestProgressLine(t *testing.T) {
	tests := []struct {
		listedHeights      uint64
		listedTxs, fetched int64
		written            uint64
		reqs, retries      int64
		elapsed            time.Duration
		want               string
	}{
		{0, 0, 0, 0, 1, 0, time.Second, "export hot 1..5,000: 0 txs, 0 txs/s, 1 req/s, 0/5,000 blocks written, ETA ?"},
		{1000, 200_000, 200_000, 900, 4000, 0, 10 * time.Second,
			"export hot 1..5,000: 200,000/~1,000,000 txs, 20,000 txs/s, 400 req/s, 900/5,000 blocks written, ETA 40s"},
		{4000, 30_000, 30_000, 3000, 900, 3, 90 * time.Second,
			"export hot 1..5,000: 30,000/~37,500 txs, 333 txs/s, 10 req/s, 3,000/5,000 blocks written, ETA 23s, 3 retries (last: GET /v1/status: busy)"},
		// --per-tx: the pages list the txs, fetched one by one.
		{500, 250_000, 100_000, 0, 100_100, 0, 25 * time.Second,
			"export hot 1..5,000: 100,000/~2,500,000 txs, 4,000 txs/s, 4,004 req/s, 0/5,000 blocks written, ETA 10m0s"},
	}
	for _, tt := range tests {
		st := &stats{}
		st.listed(tt.listedHeights, int(tt.listedTxs))
		st.fetched.Store(tt.fetched)
		st.heights.Store(tt.written)
		st.requests.Store(tt.reqs)
		for range tt.retries {
			st.retried("GET /v1/status", errString("busy"))
		}
		r := &reporter{label: "hot 1..5,000", total: 5000, st: st}
		if got := r.line(tt.elapsed); got != tt.want {
			t.Errorf("line() =\n%q\nwant\n%q", got, tt.want)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// lockedBuffer collects what the reporter writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestReporterPlain: off a terminal the reporter writes a plain line every
// interval, and nothing after end.
func TestReporterPlain(t *testing.T) {
	clock := clockwork.NewFakeClock()
	var w lockedBuffer
	st := &stats{}
	r := startReporter(&w, clock, time.Second, "cold 1..10", 10, st)
	st.listed(5, 50)
	st.fetched.Store(50)
	st.heights.Store(5)
	if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	want := "export cold 1..10: 50/~100 txs, 50 txs/s, 0 req/s, 5/10 blocks written, ETA 1s\n"
	deadline := time.Now().Add(10 * time.Second)
	for w.String() != want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	r.end()
	clock.Advance(time.Second)
	if got := w.String(); got != want {
		t.Errorf("output = %q, want %q", got, want)
	}
}

func TestFit(t *testing.T) {
	if got := fit("abcdef", 4); got != "abc" {
		t.Errorf("fit(abcdef, 4) = %q, want abc", got)
	}
	if got := fit("abcdef", 0); got != "abcdef" {
		t.Errorf("fit(abcdef, 0) = %q, want it whole", got)
	}
}
