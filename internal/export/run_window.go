package export

import (
	"context"
	"sync"
)

// Bounds of the window of chunks fetched ahead of the writer.
const (
	// minWindow chunks may always be ahead, however many transactions
	// they hold: the head chunk and the one after it.
	minWindow = 2
	// maxWindow caps the chunks ahead; with range requests each keeps one
	// worker busy, so the window is 2 per worker up to this.
	maxWindow = 256
	// windowTxs is the transactions the chunks ahead of the writer may
	// hold before new chunks and further pages wait (about 100 MB of views
	// with their traces): enough to keep 10,000 per-tx workers busy.
	windowTxs = 1 << 17
)

// window bounds what is fetched ahead of the writer, so that an export's
// memory stays bounded however far the fetching could run ahead of a slow
// chunk or however full the blocks are. The scheduler starts chunks in
// height order while there are fewer than maxChunks ahead and they hold
// fewer than maxTxs transactions; a chunk asks for its next page of
// blocks only under maxTxs too, unless it is the chunk the writer waits
// for, which is never held back. A chunk leaves the window when the
// writer takes it, so the next ones are fetched while it is written. What
// is held then is about maxTxs plus one page per worker, the head chunk
// and the chunk being written.
type window struct {
	mu                sync.Mutex
	chunks, txs       int    // ahead of the writer: started, and listed in their pages
	head              uint64 // the chunk the writer waits for (chunks written so far)
	maxChunks, maxTxs int
	released          chan struct{} // closed and replaced at each release
}

func newWindow(workers int) *window {
	return &window{maxChunks: min(max(2*workers, minWindow), maxWindow), maxTxs: windowTxs, released: make(chan struct{})}
}

// acquire waits for room for one more chunk.
func (w *window) acquire(ctx context.Context) error {
	return w.wait(ctx, func() bool {
		if w.chunks >= minWindow && (w.chunks >= w.maxChunks || w.txs >= w.maxTxs) {
			return false
		}
		w.chunks++
		return true
	})
}

// room waits until chunk seq may fetch another page.
func (w *window) room(ctx context.Context, seq uint64) error {
	return w.wait(ctx, func() bool { return seq == w.head || w.txs < w.maxTxs })
}

// wait waits until ok, called with mu held, says yes.
func (w *window) wait(ctx context.Context, ok func() bool) error {
	for {
		w.mu.Lock()
		yes, released := ok(), w.released
		w.mu.Unlock()
		if yes {
			return nil
		}
		select {
		case <-released:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// addTxs counts n transactions listed in a page of a chunk ahead.
func (w *window) addTxs(n int) {
	w.mu.Lock()
	w.txs += n
	w.mu.Unlock()
}

// release gives back the room of the chunk the writer just took, of txs
// transactions, and makes the next chunk the head.
func (w *window) release(txs int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.chunks--
	w.txs -= txs
	w.head++
	close(w.released)
	w.released = make(chan struct{})
}
