package consensus

import (
	"context"
	"io"
	"log"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// levelTrace is hclog's Trace in slog's terms, one step below Debug.
const levelTrace = slog.LevelDebug - 4

// raftLogger routes hashicorp's hclog calls into a *slog.Logger. hclog
// (v1.6) has no slog output of its own, only an io.Writer, so without this
// its records would be text to re-parse. The level is the slog handler's:
// SetLevel is a no-op and GetLevel reports the lowest level it enables.
// A name from Named becomes the "subsystem" attribute ("raft", "raft.net").
type raftLogger struct {
	root    *slog.Logger // as passed in: no subsystem, no implied args
	name    string
	implied []any
	l       *slog.Logger // root with the subsystem and the implied args
}

var _ hclog.Logger = (*raftLogger)(nil)

func newRaftLogger(root *slog.Logger) *raftLogger {
	return makeRaftLogger(root, "", nil)
}

func makeRaftLogger(root *slog.Logger, name string, implied []any) *raftLogger {
	l := root
	if name != "" {
		l = l.With("subsystem", name)
	}
	return &raftLogger{root: root, name: name, implied: implied, l: l.With(implied...)}
}

func slogLevel(level hclog.Level) slog.Level {
	switch level {
	case hclog.Trace:
		return levelTrace
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

func (r *raftLogger) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Off {
		return
	}
	r.l.Log(context.Background(), slogLevel(level), msg, args...)
}

func (r *raftLogger) Trace(msg string, args ...any) { r.Log(hclog.Trace, msg, args...) }
func (r *raftLogger) Debug(msg string, args ...any) { r.Log(hclog.Debug, msg, args...) }
func (r *raftLogger) Info(msg string, args ...any)  { r.Log(hclog.Info, msg, args...) }
func (r *raftLogger) Warn(msg string, args ...any)  { r.Log(hclog.Warn, msg, args...) }
func (r *raftLogger) Error(msg string, args ...any) { r.Log(hclog.Error, msg, args...) }

func (r *raftLogger) enabled(level hclog.Level) bool {
	return r.l.Enabled(context.Background(), slogLevel(level))
}

func (r *raftLogger) IsTrace() bool { return r.enabled(hclog.Trace) }
func (r *raftLogger) IsDebug() bool { return r.enabled(hclog.Debug) }
func (r *raftLogger) IsInfo() bool  { return r.enabled(hclog.Info) }
func (r *raftLogger) IsWarn() bool  { return r.enabled(hclog.Warn) }
func (r *raftLogger) IsError() bool { return r.enabled(hclog.Error) }

func (r *raftLogger) ImpliedArgs() []any { return r.implied }

func (r *raftLogger) With(args ...any) hclog.Logger {
	implied := append(append([]any(nil), r.implied...), args...)
	return makeRaftLogger(r.root, r.name, implied)
}

func (r *raftLogger) Name() string { return r.name }

func (r *raftLogger) Named(name string) hclog.Logger {
	if r.name != "" {
		name = r.name + "." + name
	}
	return r.ResetNamed(name)
}

// ResetNamed replaces the name. slog attributes only accumulate, so the
// sub-logger is built again from the root.
func (r *raftLogger) ResetNamed(name string) hclog.Logger {
	return makeRaftLogger(r.root, name, r.implied)
}

func (r *raftLogger) SetLevel(hclog.Level) {}

func (r *raftLogger) GetLevel() hclog.Level {
	for _, lv := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn, hclog.Error} {
		if r.enabled(lv) {
			return lv
		}
	}
	return hclog.Off
}

func (r *raftLogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	level := slog.LevelInfo
	if opts != nil && opts.ForceLevel != hclog.NoLevel {
		level = slogLevel(opts.ForceLevel)
	}
	return slog.NewLogLogger(r.l.Handler(), level)
}

func (r *raftLogger) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	return r.StandardLogger(opts).Writer()
}
