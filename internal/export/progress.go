package export

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/internal/progress"
	"github.com/jonboulle/clockwork"
)

// stats counts what a run did; the workers and the writer add to it
// while the progress line reads it.
type stats struct {
	requests atomic.Int64 // HTTP requests sent, retries included
	retries  atomic.Int64
	// Fetched by this run: the heights and txs of the pages of blocks
	// listed, and the txs whose views are final (in a page of blocks with
	// traces, or with --per-tx once fetched on their own).
	listedHeights atomic.Uint64
	listedTxs     atomic.Int64
	fetched       atomic.Int64
	// Written by this run:
	heights atomic.Uint64 // heights written (From to To, empty blocks included)
	blocks  atomic.Int64
	txs     atomic.Int64
	frames  atomic.Int64
	// lastRetry is the last retried request and its error, for the line.
	lastRetry atomic.Pointer[string]
}

func (s *stats) retried(what string, err error) {
	s.retries.Add(1)
	msg := what + ": " + err.Error()
	s.lastRetry.Store(&msg)
}

// listed counts a page of blocks.
func (s *stats) listed(heights uint64, txs int) {
	s.listedHeights.Add(heights)
	s.listedTxs.Add(int64(txs))
}

// wrote counts a chunk the sink took.
func (s *stats) wrote(c *Chunk) {
	s.heights.Add(c.To - c.From + 1)
	s.blocks.Add(int64(len(c.Hot) + len(c.Cold)))
	s.txs.Add(int64(c.Txs()))
	s.frames.Add(int64(countFrames(c)))
}

// countFrames counts the chunk's trace frames.
func countFrames(c *Chunk) int {
	n := 0
	count := func(txs []api.TxView) {
		for i := range txs {
			if txs[i].Trace != nil {
				n += len(txs[i].Trace.Frames)
			}
		}
	}
	for i := range c.Hot {
		count(c.Hot[i].Txs)
	}
	for i := range c.Cold {
		count(c.Cold[i].Txs)
	}
	return n
}

// reporter writes the progress line every interval: on a terminal one
// line redrawn in place, else a plain line each time (internal/progress's
// convention). It shows the transactions fetched out of the estimated
// total, txs/s, requests/s, the blocks written, the ETA and the retries
// so far. The total is estimated from the pages listed so far (txs per
// height), the ETA from the transactions fetched: a chunk is only written
// once all of it is fetched, so the blocks written lag.
type reporter struct {
	w        io.Writer
	terminal bool
	width    int
	clock    clockwork.Clock
	label    string // "hot 1..5,000"
	total    uint64 // heights this run exports
	st       *stats
	start    time.Time

	mu    sync.Mutex // guards w and drawn
	drawn bool
	stop  chan struct{}
	ended chan struct{}
}

// startReporter shows progress on w every interval until end.
func startReporter(w io.Writer, clock clockwork.Clock, every time.Duration, label string, total uint64, st *stats) *reporter {
	tty, width := progress.Terminal(w)
	r := &reporter{w: w, terminal: tty, width: width, clock: clock, label: label, total: total, st: st,
		start: clock.Now(), stop: make(chan struct{}), ended: make(chan struct{})}
	go r.run(clock.NewTicker(every))
	return r
}

func (r *reporter) run(tick clockwork.Ticker) {
	defer close(r.ended)
	defer tick.Stop()
	for {
		select {
		case <-r.stop:
			return
		case now := <-tick.Chan():
			r.draw(now)
		}
	}
}

func (r *reporter) draw(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	line := r.line(now.Sub(r.start))
	if !r.terminal {
		io.WriteString(r.w, line+"\n")
		return
	}
	io.WriteString(r.w, "\r"+fit(line, r.width)+"\x1b[K")
	r.drawn = true
}

// end stops the line and erases it on a terminal; nothing is written
// after it returns.
func (r *reporter) end() {
	close(r.stop)
	<-r.ended
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.drawn {
		io.WriteString(r.w, "\r\x1b[K")
	}
}

// line is the progress after elapsed, e.g.
//
//	export hot 1..5,000: 120,000/~1,000,000 txs, 40,000 txs/s, 400 req/s, 500/5,000 blocks written, ETA 22s, 3 retries (last: ...)
func (r *reporter) line(elapsed time.Duration) string {
	fetched, total := r.st.fetched.Load(), r.estimate()
	var b strings.Builder
	fmt.Fprintf(&b, "export %s: %s", r.label, progress.Count(fetched))
	if total > 0 {
		fmt.Fprintf(&b, "/~%s", progress.Count(total))
	}
	fmt.Fprintf(&b, " txs, %s txs/s, %s req/s, %s/%s blocks written, ETA %s",
		progress.Count(progress.PerSecond(fetched, elapsed)), progress.Count(progress.PerSecond(r.st.requests.Load(), elapsed)),
		progress.Count(int64(r.st.heights.Load())), progress.Count(int64(r.total)), eta(elapsed, fetched, total))
	if n := r.st.retries.Load(); n > 0 {
		fmt.Fprintf(&b, ", %s retries", progress.Count(n))
		if last := r.st.lastRetry.Load(); last != nil {
			fmt.Fprintf(&b, " (last: %s)", *last)
		}
	}
	return b.String()
}

// estimate is the run's transactions at the pages' txs per height so
// far; 0 before a page is listed.
func (r *reporter) estimate() int64 {
	heights, txs := r.st.listedHeights.Load(), r.st.listedTxs.Load()
	if heights == 0 {
		return 0
	}
	return int64(float64(txs)*float64(r.total)/float64(heights) + 0.5)
}

// eta is the time left if the rest goes at the pace so far: "?" before
// anything is done.
func eta(elapsed time.Duration, done, total int64) string {
	if done == 0 || total == 0 {
		return "?"
	}
	left := time.Duration(float64(elapsed) * float64(max(total-done, 0)) / float64(done))
	return left.Round(time.Second).String()
}

// fit cuts s to width-1 runes so that a redrawn line never wraps; width 0
// is no limit.
func fit(s string, width int) string {
	r := []rune(s)
	if width <= 1 || len(r) < width {
		return s
	}
	return string(r[:width-1])
}
