//go:build !failpoints

package node

import (
	"net/http"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/jonboulle/clockwork"
)

// Without the failpoints tag a node has no failpoints: these return what
// they are given.

func failpointClock(c clockwork.Clock) clockwork.Clock { return c }
func failpointFS(fs vfs.FS) vfs.FS                     { return fs }
func failpointAPI(h http.Handler) http.Handler         { return h }
