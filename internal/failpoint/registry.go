package failpoint

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// CrashExitCode is the exit status of a process a crash action stopped.
const CrashExitCode = 86

// Registry holds the armed points and how often each fired. A failpoints
// build has one, behind Inject and Offset; tests make their own.
type Registry struct {
	armed atomic.Int32 // points armed: 0 makes Eval a single load
	// exit ends the process at a crash action.
	exit func(name string)
	// log gets a line for every error injected (os.Stderr, the node's
	// log), written before the error is returned: the caller may die of
	// it in a way that loses the error (Pebble panics on a failed WAL
	// close, and its deferred unlock then dies of "unlock of unlocked
	// mutex", printing no message).
	log io.Writer

	mu     sync.Mutex
	points map[string]*point
}

type point struct {
	term  Term
	on    bool
	fired int   // times the current term fired, for its count
	hits  int64 // times any term fired, never reset
}

// Status is one point's state as the debug API reports it.
type Status struct {
	Action string `json:"action"` // "" when not armed
	Hits   int64  `json:"hits"`
}

// New returns a registry of the points in Points, none armed. Its crash
// action writes a line to stderr and exits with CrashExitCode at once:
// no deferred function runs and no buffer is flushed, as after kill -9.
func New() *Registry {
	r := &Registry{exit: crashNow, log: os.Stderr, points: make(map[string]*point, len(Points))}
	for _, name := range Points {
		r.points[name] = &point{}
	}
	return r
}

func crashNow(name string) {
	fmt.Fprintf(os.Stderr, "failpoint %s: crash: the process exits now (status %d), as kill -9 would\n", name, CrashExitCode)
	os.Exit(CrashExitCode)
}

// Arm sets name's action.
func (r *Registry) Arm(name string, t Term) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.points[name]
	if !ok {
		return fmt.Errorf("%w: %q (known: %v)", ErrUnknown, name, Points)
	}
	if t.Kind == Off {
		r.disarmLocked(p)
		return nil
	}
	if !p.on {
		r.armed.Add(1)
	}
	p.term, p.on, p.fired = t, true, 0
	return nil
}

// ArmList arms every name=term of list (ParseList's form), or none if
// one does not parse or names an unknown point.
func (r *Registry) ArmList(list string) error {
	terms, err := ParseList(list)
	if err != nil {
		return err
	}
	for name := range terms {
		if _, ok := r.points[name]; !ok {
			return fmt.Errorf("%w: %q (known: %v)", ErrUnknown, name, Points)
		}
	}
	for name, t := range terms {
		if err := r.Arm(name, t); err != nil {
			return err
		}
	}
	return nil
}

// Disarm turns name off; its hit count stays.
func (r *Registry) Disarm(name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.points[name]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknown, name)
	}
	r.disarmLocked(p)
	return nil
}

func (r *Registry) disarmLocked(p *point) {
	if p.on {
		r.armed.Add(-1)
	}
	p.term, p.on = Term{}, false
}

// fire reports the term name fires with now, if any, and counts the hit.
// A term past its count turns off.
func (r *Registry) fire(name string) (Term, bool) {
	if r.armed.Load() == 0 {
		return Term{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.points[name]
	if p == nil || !p.on || p.term.Percent < 100 && rand.Float64()*100 >= p.term.Percent {
		return Term{}, false
	}
	t := p.term
	p.fired++
	p.hits++
	if t.Count > 0 && p.fired >= t.Count {
		r.disarmLocked(p)
	}
	return t, true
}

// Eval runs name's action if it fires: crash exits the process, error
// writes "failpoint NAME: error: ..." to the registry's log and returns an
// error wrapping ErrInjected, sleep sleeps. Otherwise, and for skew (read
// by Offset), it returns nil.
func (r *Registry) Eval(name string) error {
	t, ok := r.fire(name)
	if !ok {
		return nil
	}
	switch t.Kind {
	case Crash:
		r.exit(name)
	case Error:
		err := fmt.Errorf("%w at %s", ErrInjected, name)
		fmt.Fprintf(r.log, "failpoint %s: error: %v\n", name, err)
		return err
	case Sleep:
		time.Sleep(t.Arg)
	}
	return nil
}

// Offset returns the duration of name's skew action if it fires, else 0.
func (r *Registry) Offset(name string) time.Duration {
	t, ok := r.fire(name)
	if !ok || t.Kind != Skew {
		return 0
	}
	return t.Arg
}

// Status returns name's state.
func (r *Registry) Status(name string) (Status, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.points[name]
	if !ok {
		return Status{}, fmt.Errorf("%w: %q", ErrUnknown, name)
	}
	return p.status(), nil
}

// All returns every point's state, by name.
func (r *Registry) All() map[string]Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]Status, len(r.points))
	for name, p := range r.points {
		out[name] = p.status()
	}
	return out
}

func (p *point) status() Status {
	s := Status{Hits: p.hits}
	if p.on {
		s.Action = p.term.String()
	}
	return s
}
