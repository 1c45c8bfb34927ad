package consensus

import (
	"context"
	"log/slog"
	"slices"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// recordHandler keeps every record with its attributes, flattened.
type recordHandler struct {
	level   slog.Level
	attrs   []slog.Attr
	records *[]string
}

func (h recordHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h recordHandler) Handle(_ context.Context, r slog.Record) error {
	line := r.Level.String() + " " + r.Message
	for _, a := range h.attrs {
		line += " " + a.String()
	}
	r.Attrs(func(a slog.Attr) bool { line += " " + a.String(); return true })
	*h.records = append(*h.records, line)
	return nil
}

func (h recordHandler) WithAttrs(as []slog.Attr) slog.Handler {
	h.attrs = append(slices.Clone(h.attrs), as...)
	return h
}

func (h recordHandler) WithGroup(string) slog.Handler { return h }

func TestRaftLogger(t *testing.T) {
	var got []string
	root := newRaftLogger(slog.New(recordHandler{level: slog.LevelDebug, records: &got}))
	root.Trace("dropped")
	root.Debug("debug", "k", 1)
	net := root.Named("raft").Named("net").With("peer", "n2")
	net.Warn("warn")
	net.ResetNamed("snapshot").Error("error", "err", "boom")
	root.Log(hclog.Off, "off")
	want := []string{
		"DEBUG debug k=1",
		"WARN warn subsystem=raft.net peer=n2",
		"ERROR error subsystem=snapshot peer=n2 err=boom",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("records = %q, want %q", got, want)
	}
	if lv := root.GetLevel(); lv != hclog.Debug {
		t.Errorf("GetLevel() = %v, want %v", lv, hclog.Debug)
	}
	if root.IsTrace() || !root.IsDebug() {
		t.Errorf("IsTrace(), IsDebug() = %v, %v, want false, true", root.IsTrace(), root.IsDebug())
	}
	if name := net.Name(); name != "raft.net" {
		t.Errorf("Name() = %q, want %q", name, "raft.net")
	}
	if args := net.ImpliedArgs(); !slices.Equal(args, []any{"peer", "n2"}) {
		t.Errorf("ImpliedArgs() = %v, want [peer n2]", args)
	}
	root.StandardLogger(nil).Print("std")
	if last := got[len(got)-1]; last != "INFO std" {
		t.Errorf("StandardLogger record = %q, want %q", last, "INFO std")
	}
}
