package node

import (
	"sync"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/ledger"
)

// recentOutcomes is how many finished transactions the tracker remembers, so
// a client that waits just after its transaction committed still finds it
// without a store lookup.
const recentOutcomes = 1 << 16

// tracker tells waiting clients when their transactions commit or drop.
// Finishing and registering take the same lock, so an outcome is either
// seen in recent or delivered to the waiter, never missed.
type tracker struct {
	mu      sync.Mutex
	stopped error // once set, every waiter gets it
	waiters map[ledger.Hash][]chan api.WaitResult
	recent  map[ledger.Hash]api.WaitResult
	order   []ledger.Hash // ring of recent's keys, oldest at next
	next    int
}

func newTracker() *tracker {
	return &tracker{
		waiters: make(map[ledger.Hash][]chan api.WaitResult),
		recent:  make(map[ledger.Hash]api.WaitResult, recentOutcomes),
		order:   make([]ledger.Hash, 0, recentOutcomes),
	}
}

// finish delivers outcomes to their waiters and remembers them.
func (t *tracker) finish(ids []ledger.Hash, results []api.WaitResult) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, id := range ids {
		for _, ch := range t.waiters[id] {
			ch <- results[i]
		}
		delete(t.waiters, id)
		t.remember(id, results[i])
	}
}

func (t *tracker) remember(id ledger.Hash, r api.WaitResult) {
	if len(t.order) < recentOutcomes {
		t.order = append(t.order, id)
	} else {
		delete(t.recent, t.order[t.next])
		t.order[t.next] = id
		t.next = (t.next + 1) % recentOutcomes
	}
	t.recent[id] = r
}

// watch returns, for each id, a known outcome or a channel that will get one.
func (t *tracker) watch(ids []ledger.Hash) ([]api.WaitResult, []chan api.WaitResult) {
	t.mu.Lock()
	defer t.mu.Unlock()
	known := make([]api.WaitResult, len(ids))
	chans := make([]chan api.WaitResult, len(ids))
	for i, id := range ids {
		if r, ok := t.recent[id]; ok {
			known[i] = r
			continue
		}
		if t.stopped != nil {
			known[i] = api.WaitResult{Err: t.stopped}
			continue
		}
		chans[i] = make(chan api.WaitResult, 1)
		t.waiters[id] = append(t.waiters[id], chans[i])
	}
	return known, chans
}

// watched reports whether a client waits for id.
func (t *tracker) watched(id ledger.Hash) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.waiters[id]) > 0
}

// unwatch removes channels that were not delivered to.
func (t *tracker) unwatch(ids []ledger.Hash, chans []chan api.WaitResult) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, id := range ids {
		if chans[i] == nil {
			continue
		}
		ws := t.waiters[id]
		for j, ch := range ws {
			if ch == chans[i] {
				ws = append(ws[:j], ws[j+1:]...)
				break
			}
		}
		if len(ws) == 0 {
			delete(t.waiters, id)
		} else {
			t.waiters[id] = ws
		}
	}
}

// forget drops a remembered failure of id, which is being submitted again:
// a waiter must wait for the new attempt, not read the old outcome.
// Remembered commits stay: a committed transaction cannot be resubmitted.
func (t *tracker) forget(id ledger.Hash) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if r, ok := t.recent[id]; ok && r.Record == nil {
		delete(t.recent, id)
	}
}

// stop answers every waiter, present and future, with err.
func (t *tracker) stop(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = err
	for id, chans := range t.waiters {
		for _, ch := range chans {
			ch <- api.WaitResult{Err: err}
		}
		delete(t.waiters, id)
	}
}
