package progress

import (
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/term"
)

// Defaults of Options.
const (
	DefaultRedraw = 100 * time.Millisecond // a terminal line's redraw
	DefaultEvery  = 2 * time.Second        // a plain line's interval
)

// Options configures a Display. The zero value is usable.
type Options struct {
	// Terminal redraws one line in place; false writes plain lines.
	Terminal bool
	// Width is the terminal's width in columns; lines are cut to fit.
	// 0 means no limit.
	Width int
	// Indent starts every line.
	Indent string
	// Redraw is how often a terminal line is redrawn (DefaultRedraw if 0);
	// Every how often a plain line is written (DefaultEvery if 0).
	Redraw, Every time.Duration
	// Clock is the time source (the real clock if nil).
	Clock clockwork.Clock
}

// Display writes the progress of one task at a time to a writer.
type Display struct {
	w io.Writer
	o Options
}

// New returns a Display on w that redraws a line when w is a terminal and
// writes plain lines otherwise.
func New(w io.Writer, indent string) *Display {
	tty, width := Terminal(w)
	return NewWith(w, Options{Terminal: tty, Width: width, Indent: indent})
}

// NewWith returns a Display on w configured by o.
func NewWith(w io.Writer, o Options) *Display {
	if o.Redraw <= 0 {
		o.Redraw = DefaultRedraw
	}
	if o.Every <= 0 {
		o.Every = DefaultEvery
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	return &Display{w: w, o: o}
}

// Terminal reports whether w is a terminal, and its width in columns (0
// if unknown).
func Terminal(w io.Writer) (bool, int) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false, 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return true, 0
	}
	return true, width
}

// IsTerminal reports whether the display redraws a line in place.
func (d *Display) IsTerminal() bool { return d.o.Terminal }

// Task is one operation being shown. Make one with Display.Start; end it
// with Done.
type Task struct {
	d     *Display
	label string
	total int64
	start time.Time
	n     atomic.Int64

	mu    sync.Mutex // guards the writer and drawn
	drawn bool       // a terminal line is on screen
	stop  chan struct{}
	ended chan struct{}
	once  sync.Once
}

// Start shows label and starts counting towards total; a total of 0 is a
// wait, shown with the time it has taken.
func (d *Display) Start(label string, total int64) *Task {
	t := &Task{d: d, label: label, total: total, start: d.o.Clock.Now(),
		stop: make(chan struct{}), ended: make(chan struct{})}
	every := d.o.Every
	if d.o.Terminal {
		every = d.o.Redraw
		t.draw(t.start)
	}
	go t.run(d.o.Clock.NewTicker(every))
	return t
}

// Add counts n more done.
func (t *Task) Add(n int64) { t.n.Add(n) }

// Count is how many are done so far.
func (t *Task) Count() int64 { return t.n.Load() }

// Done stops the task, erases its line on a terminal, and returns the
// count and the time since Start.
func (t *Task) Done() (int64, time.Duration) {
	t.once.Do(func() { close(t.stop) })
	<-t.ended
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.drawn {
		io.WriteString(t.d.w, "\r\x1b[K")
		t.drawn = false
	}
	return t.n.Load(), t.d.o.Clock.Since(t.start)
}

// run redraws on every tick until Done.
func (t *Task) run(tick clockwork.Ticker) {
	defer close(t.ended)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case now := <-tick.Chan():
			t.draw(now)
		}
	}
}

// draw writes the task's line as of now.
func (t *Task) draw(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	line := Line(t.label, t.n.Load(), t.total, now.Sub(t.start))
	if !t.d.o.Terminal {
		io.WriteString(t.d.w, t.d.o.Indent+line+"\n")
		return
	}
	frame := spinner[int(now.Sub(t.start)/t.d.o.Redraw)%len(spinner)]
	io.WriteString(t.d.w, "\r"+fit(t.d.o.Indent+string(frame)+" "+line, t.d.o.Width)+"\x1b[K")
	t.drawn = true
}

// spinner's frames, one per redraw.
var spinner = []rune("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")

// fit cuts s to width-1 columns (one rune a column), so that the cursor
// never wraps; width 0 is no limit.
func fit(s string, width int) string {
	r := []rune(s)
	if width <= 1 || len(r) < width {
		return s
	}
	return string(r[:width-1])
}
