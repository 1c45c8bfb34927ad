package consensustest

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
)

// Logger returns a logger that writes to t's log until t's cleanups run;
// after that (Raft's goroutines may still log while they stop) it drops
// records instead of failing the test. Register it before anything that
// logs to it, so its cleanup runs last.
func Logger(t testing.TB, level slog.Level) *slog.Logger {
	h := &testHandler{Handler: slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: level}), done: new(atomic.Bool)}
	t.Cleanup(func() { h.done.Store(true) })
	return slog.New(h)
}

type testHandler struct {
	slog.Handler
	done *atomic.Bool
}

func (h *testHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return !h.done.Load() && h.Handler.Enabled(ctx, l)
}

func (h *testHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.done.Load() {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h *testHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &testHandler{Handler: h.Handler.WithAttrs(as), done: h.done}
}

func (h *testHandler) WithGroup(name string) slog.Handler {
	return &testHandler{Handler: h.Handler.WithGroup(name), done: h.done}
}
