package coldchain

import (
	"fmt"
	"log/slog"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Config configures a State.
type Config struct {
	// Dir is the Pebble database's directory.
	Dir string
	// FS is the filesystem; nil means the operating system's. Tests use
	// vfs.NewMem or vfs.NewCrashableMem.
	FS vfs.FS
	// CacheSize is Pebble's block cache, in bytes; 0 means Pebble's default.
	CacheSize int64
	// KeepVersions is how many roots ProveAt can prove against: the roots
	// of the last KeepVersions applies (the current one included). The
	// database keeps their trees' pages, about the pages of one Apply per
	// root (DESIGN.md). 0 means DefaultKeepVersions.
	KeepVersions int
	// Logger receives Pebble's logs; nil discards them.
	Logger *slog.Logger
}

// DefaultKeepVersions is KeepVersions unless set: the roots of the last
// 128 cold blocks.
const DefaultKeepVersions = 128

// DefaultConfig returns the configuration for a state on disk in dir.
func DefaultConfig(dir string) Config {
	return Config{Dir: dir, CacheSize: 256 << 20, KeepVersions: DefaultKeepVersions}
}

// TestConfig returns a configuration for a state in memory.
func TestConfig() Config {
	return Config{Dir: "cold", FS: vfs.NewMem(), KeepVersions: 4}
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if c.Dir == "" {
		return fmt.Errorf("%w: no directory", ErrBadConfig)
	}
	if c.KeepVersions < 0 {
		return fmt.Errorf("%w: keep %d versions", ErrBadConfig, c.KeepVersions)
	}
	if c.CacheSize < 0 {
		return fmt.Errorf("%w: negative cache size", ErrBadConfig)
	}
	return nil
}

func (c Config) keepVersions() int {
	if c.KeepVersions == 0 {
		return DefaultKeepVersions
	}
	return c.KeepVersions
}

// pebbleLogger sends Pebble's logs to slog.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) { p.l.Debug(fmt.Sprintf(format, args...)) }
func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...))
}
func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...))
	panic(fmt.Sprintf(format, args...)) // Pebble's contract: Fatalf does not return.
}
