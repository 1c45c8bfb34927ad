package vm

import (
	"sync"
	"time"
)

// watchdog cancels the context of an instance whose call has run past the
// deadline; wazero then closes the instance and the call fails. It is the
// backstop Config.Deadline describes. One goroutine per VM scans the live
// instances a few times per deadline, so a call pays two atomic stores for
// it rather than a timer of its own. A zero deadline makes a watchdog that
// does nothing.
type watchdog struct {
	deadline time.Duration
	epoch    time.Time // calls' start times are monotonic offsets from it

	mu        sync.Mutex
	instances map[*instance]struct{}

	quit chan struct{}
	done chan struct{}
}

func startWatchdog(deadline time.Duration) *watchdog {
	w := &watchdog{deadline: deadline, epoch: time.Now(), instances: make(map[*instance]struct{})}
	if deadline <= 0 {
		return w
	}
	w.quit, w.done = make(chan struct{}), make(chan struct{})
	go w.run()
	return w
}

func (w *watchdog) run() {
	defer close(w.done)
	t := time.NewTicker(max(w.deadline/4, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-w.quit:
			return
		case <-t.C:
			w.scan(w.now())
		}
	}
}

// now is the monotonic time since the epoch, never 0: 0 marks an idle
// instance.
func (w *watchdog) now() int64 { return int64(time.Since(w.epoch)) + 1 }

// begin and end bracket a call on in. end reports whether the watchdog
// claimed the call: its context is cancelled, so the instance must go.
func (w *watchdog) begin(in *instance) { in.started.Store(w.now()) }
func (w *watchdog) end(in *instance) (claimed bool) {
	return in.started.Swap(0) == claimedCall
}

// claimedCall marks a call the watchdog has stopped.
const claimedCall = -1

// scan stops every call started more than the deadline before now. It
// claims a call before cancelling it, so a call that ended meanwhile (and
// its instance, back in the pool) is never touched.
func (w *watchdog) scan(now int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for in := range w.instances {
		s := in.started.Load()
		if s > 0 && now-s > int64(w.deadline) && in.started.CompareAndSwap(s, claimedCall) {
			in.cancel()
		}
	}
}

func (w *watchdog) add(in *instance) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.instances[in] = struct{}{}
}

func (w *watchdog) remove(in *instance) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.instances, in)
}

// stop ends the goroutine; a second call does nothing.
func (w *watchdog) stop() {
	if w.quit == nil {
		return
	}
	select {
	case <-w.quit:
	default:
		close(w.quit)
		<-w.done
	}
}
