package progress

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// notifyBuffer collects writes and signals each one.
type notifyBuffer struct {
	mu     sync.Mutex
	b      strings.Builder
	writes chan struct{}
}

func newNotifyBuffer() *notifyBuffer { return &notifyBuffer{writes: make(chan struct{}, 100)} }

func (n *notifyBuffer) Write(p []byte) (int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.b.Write(p)
	n.writes <- struct{}{}
	return len(p), nil
}

func (n *notifyBuffer) String() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.b.String()
}

// wait waits for the next write, failing the test after a while.
func (n *notifyBuffer) wait(t *testing.T) {
	t.Helper()
	select {
	case <-n.writes:
	case <-time.After(10 * time.Second):
		t.Fatalf("no write; so far %q", n.String())
	}
}

func TestPlainLines(t *testing.T) {
	clock := clockwork.NewFakeClock()
	w := newNotifyBuffer()
	d := NewWith(w, Options{Indent: "   ", Every: 2 * time.Second, Clock: clock})
	if d.IsTerminal() {
		t.Fatal("IsTerminal() = true, want false")
	}
	task := d.Start("transfers", 5000)
	if got := w.String(); got != "" {
		t.Errorf("plain Start wrote %q, want nothing until a line is due", got)
	}
	task.Add(1200)
	if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Second)
	w.wait(t)
	if got, want := w.String(), "   transfers: 1,200/5,000, 600/s, 2.0s\n"; got != want {
		t.Errorf("plain line = %q, want %q", got, want)
	}
	task.Add(3800)
	n, elapsed := task.Done()
	if n != 5000 || elapsed != 2*time.Second {
		t.Errorf("Done() = %d, %v; want 5000, 2s", n, elapsed)
	}
	if got := w.String(); strings.Count(got, "\n") != 1 || strings.Contains(got, "\r") {
		t.Errorf("after Done the output is %q, want the one plain line", got)
	}
}

func TestTerminalLine(t *testing.T) {
	clock := clockwork.NewFakeClock()
	w := newNotifyBuffer()
	d := NewWith(w, Options{Terminal: true, Indent: "  ", Redraw: 100 * time.Millisecond, Clock: clock})
	task := d.Start("waiting for a leader", 0)
	w.wait(t)
	if got, want := w.String(), "\r  ⠋ waiting for a leader... 0ms\x1b[K"; got != want {
		t.Errorf("first frame = %q, want %q", got, want)
	}
	if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(100 * time.Millisecond)
	w.wait(t)
	if got, want := w.String(), "\r  ⠙ waiting for a leader... 100ms\x1b[K"; !strings.HasSuffix(got, want) {
		t.Errorf("second frame: output %q, want it to end with %q", got, want)
	}
	task.Done()
	if got := w.String(); !strings.HasSuffix(got, "\r\x1b[K") {
		t.Errorf("after Done the output is %q, want the line erased", got)
	}
}

func TestLine(t *testing.T) {
	tests := []struct {
		label    string
		n, total int64
		elapsed  time.Duration
		want     string
	}{
		{"transfers", 2500, 5000, 500 * time.Millisecond, "transfers: 2,500/5,000, 5,000/s, 500ms"},
		{"transfers", 0, 5000, 0, "transfers: 0/5,000, 0/s, 0ms"},
		{"election", 0, 0, 1500 * time.Millisecond, "election... 1.5s"},
		{"during the election", 42, 0, 2 * time.Second, "during the election... 42, 2.0s"},
	}
	for _, tt := range tests {
		if got := Line(tt.label, tt.n, tt.total, tt.elapsed); got != tt.want {
			t.Errorf("Line(%q, %d, %d, %v) = %q, want %q", tt.label, tt.n, tt.total, tt.elapsed, got, tt.want)
		}
	}
}

func TestCount(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{{0, "0"}, {999, "999"}, {1000, "1,000"}, {1234567, "1,234,567"}, {-12345, "-12,345"}}
	for _, tt := range tests {
		if got := Count(tt.n); got != tt.want {
			t.Errorf("Count(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestFit(t *testing.T) {
	tests := []struct {
		s     string
		width int
		want  string
	}{{"⠋ abcdef", 0, "⠋ abcdef"}, {"⠋ abcdef", 9, "⠋ abcdef"}, {"⠋ abcdef", 6, "⠋ abc"}}
	for _, tt := range tests {
		if got := fit(tt.s, tt.width); got != tt.want {
			t.Errorf("fit(%q, %d) = %q, want %q", tt.s, tt.width, got, tt.want)
		}
	}
}
