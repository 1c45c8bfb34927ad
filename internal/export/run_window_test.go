package export

import (
	"context"
	"errors"
	"testing"
	"time"
)

// blocked reports whether wait is still waiting after a moment.
func blocked(t *testing.T, wait func(context.Context) error) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	err := wait(ctx)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait = %v", err)
	}
	return err != nil
}

// TestWindow: chunks start while fewer than maxChunks hold fewer than
// maxTxs (two always may); pages wait past maxTxs, but the head chunk's.
func TestWindow(t *testing.T) {
	w := newWindow(2) // 4 chunks
	w.maxTxs = 100
	for i := range 4 {
		if blocked(t, w.acquire) {
			t.Fatalf("acquire %d of 4 waits", i+1)
		}
	}
	if !blocked(t, w.acquire) {
		t.Fatal("a 5th chunk started, want at most 4")
	}
	w.release(0) // chunk 0 written
	w.addTxs(150)
	if !blocked(t, w.acquire) {
		t.Fatal("a chunk started with 150 txs ahead, want none past 100")
	}
	if !blocked(t, func(ctx context.Context) error { return w.room(ctx, 2) }) {
		t.Fatal("chunk 2 got room for a page past 100 txs, want it held back")
	}
	if blocked(t, func(ctx context.Context) error { return w.room(ctx, 1) }) {
		t.Fatal("chunk 1, the head, waits for room, want it never held back")
	}
	done := make(chan error)
	go func() { done <- w.room(t.Context(), 2) }()
	w.release(100) // chunk 1 written: 50 txs ahead, chunk 2 is the head
	if err := <-done; err != nil {
		t.Fatalf("room(2) after the release = %v", err)
	}
	w.release(50)
	w.release(0)
	// Two chunks always start, however many txs they hold.
	w.addTxs(1000)
	for i := range 2 {
		if blocked(t, w.acquire) {
			t.Fatalf("acquire %d with 1,000 txs ahead waits, want 2 to start", i+1)
		}
	}
}
