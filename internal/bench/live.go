package bench

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/dualchain/dualchain/internal/progress"
)

// Intervals of the live line: redrawn every second on a terminal, printed
// every few seconds elsewhere (a log stays readable).
const (
	redrawEvery = time.Second
	printEvery  = 5 * time.Second
)

// liveLine shows a run's progress on w: one line redrawn in place on a
// terminal, a plain line now and then otherwise.
type liveLine struct {
	w        io.Writer
	terminal bool
	mu       sync.Mutex
}

func newLiveLine(w io.Writer) *liveLine {
	if w == nil {
		w = io.Discard
	}
	terminal, _ := progress.Terminal(w)
	return &liveLine{w: w, terminal: terminal}
}

// printf writes a line of its own.
func (s *liveLine) printf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.w, format+"\n", args...)
}

// follow shows l's progress until the returned stop is called: committed
// per second over the last interval, in flight, errors.
func (s *liveLine) follow(l *load, label string) (stop func()) {
	every := printEvery
	if s.terminal {
		every = redrawEvery
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		start, last, lastN := time.Now(), time.Now(), int64(0)
		for {
			select {
			case <-done:
				return
			case now := <-tick.C:
				n := l.committed.Load()
				line := l.line(label, now.Sub(start), float64(n-lastN)/now.Sub(last).Seconds())
				last, lastN = now, n
				s.mu.Lock()
				if s.terminal {
					fmt.Fprintf(s.w, "\r\033[K%s", line)
				} else {
					fmt.Fprintln(s.w, line)
				}
				s.mu.Unlock()
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		if s.terminal {
			s.mu.Lock()
			fmt.Fprint(s.w, "\r\033[K")
			s.mu.Unlock()
		}
	}
}
