//go:build failpoints

package node

import (
	"net/http"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/dualchain/dualchain/internal/failpoint"
	"github.com/jonboulle/clockwork"
)

// failpointClock lets the clock-skew failpoint move c's time.
func failpointClock(c clockwork.Clock) clockwork.Clock {
	return skewClock{Clock: c, offset: func() time.Duration { return failpoint.Offset(failpoint.ClockSkew) }}
}

// failpointFS is the cold chain's filesystem: the operating system's, its
// writes and syncs subject to the pebble-write and pebble-sync failpoints.
func failpointFS(fs vfs.FS) vfs.FS {
	if fs == nil {
		fs = vfs.Default
	}
	return errorfs.Wrap(fs, pebbleInjector{eval: failpoint.Inject})
}

// failpointAPI serves /debug/failpoints in front of h.
func failpointAPI(h http.Handler) http.Handler { return withDebug(h, failpoint.DebugHandler()) }

// pebbleInjector maps the cold chain's file operations to the pebble-write
// and pebble-sync failpoints, evaluated by eval.
type pebbleInjector struct{ eval func(name string) error }

func (p pebbleInjector) String() string { return "failpoints pebble-write, pebble-sync" }

func (p pebbleInjector) MaybeError(op errorfs.Op) error {
	switch op.Kind {
	case errorfs.OpFileWrite, errorfs.OpFileWriteAt:
		return p.eval(failpoint.PebbleWrite)
	case errorfs.OpFileSync, errorfs.OpFileSyncData, errorfs.OpFileSyncTo:
		return p.eval(failpoint.PebbleSync)
	}
	return nil
}
