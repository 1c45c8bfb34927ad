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
	// NodeCacheDepth keeps the tree's nodes above this depth in memory
	// (at most about 2^(depth+1) nodes of 65 bytes and a hash); 0 keeps
	// none.
	NodeCacheDepth int
	// Logger receives Pebble's logs; nil discards them.
	Logger *slog.Logger
}

// DefaultConfig returns the configuration for a state on disk in dir.
func DefaultConfig(dir string) Config {
	return Config{Dir: dir, CacheSize: 256 << 20, NodeCacheDepth: 16}
}

// TestConfig returns a configuration for a state in memory.
func TestConfig() Config {
	return Config{Dir: "cold", FS: vfs.NewMem(), NodeCacheDepth: 4}
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	if c.Dir == "" {
		return fmt.Errorf("%w: no directory", ErrBadConfig)
	}
	if c.NodeCacheDepth < 0 || c.NodeCacheDepth > 24 {
		return fmt.Errorf("%w: node cache depth %d, want 0 to 24", ErrBadConfig, c.NodeCacheDepth)
	}
	if c.CacheSize < 0 {
		return fmt.Errorf("%w: negative cache size", ErrBadConfig)
	}
	return nil
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
