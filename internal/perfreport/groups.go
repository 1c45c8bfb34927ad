package perfreport

import (
	"path"
	"strings"
)

// The groups a CPU profile's samples are sorted into, named for a reader
// who does not know the code.
const (
	GroupVerify    = "signature verification"
	GroupHTTP      = "HTTP and CBOR"
	GroupRedis     = "Redis client"
	GroupRaft      = "Raft and log"
	GroupCold      = "cold chain and Pebble"
	GroupExec      = "execution"
	GroupProduce   = "block production"
	GroupGC        = "GC and runtime"
	GroupSyscalls  = "syscalls and network"
	GroupOther     = "other"
	modulePath     = "github.com/dualchain/dualchain"
	moduleSlashed  = modulePath + "/"
	runtimePackage = "runtime"
)

// frame is one function on a sample's stack.
type frame struct {
	fn   string // full symbol: "github.com/x/y.(*T).M"
	file string // source file, as the binary recorded it
}

// rule sends a frame to a group.
type rule struct {
	group string
	match func(pkg string, f frame) bool
}

// rules are tried in order on each frame; the first match wins. Order
// matters where a package's functions split between groups (ledger,
// hotchain, node) and where one prefix contains another (net, net/http).
var rules = []rule{
	{GroupVerify, func(pkg string, f frame) bool {
		return under(pkg, "github.com/oasisprotocol/curve25519-voi", "github.com/hdevalence/ed25519consensus",
			"filippo.io/edwards25519", "crypto/ed25519", "crypto/internal/fips140/edwards25519", "crypto/internal/fips140/ed25519") ||
			inFile(pkg, f, "ledger", "verify.go")
	}},
	{GroupHTTP, func(pkg string, f frame) bool {
		if pkg == "encoding/binary" {
			return false // a helper everyone calls (curve25519-voi too): charged to its caller
		}
		return under(pkg, "net/http", "net/url", "net/textproto", "mime", "github.com/fxamacker/cbor", "encoding", modulePath+"/api") ||
			inFile(pkg, f, "ledger", "txcodec.go", "encoding.go")
	}},
	{GroupRedis, func(pkg string, f frame) bool {
		return under(pkg, "github.com/redis/go-redis") || (pkg == modulePath+"/hotchain" && strings.HasPrefix(path.Base(f.file), "redis_"))
	}},
	{GroupRaft, func(pkg string, f frame) bool {
		return under(pkg, "github.com/hashicorp/raft", "github.com/hashicorp/raft-boltdb", "github.com/hashicorp/raft-wal",
			"github.com/hashicorp/go-msgpack", "go.etcd.io/bbolt", "github.com/boltdb/bolt", modulePath+"/consensus")
	}},
	{GroupCold, func(pkg string, f frame) bool {
		return under(pkg, "github.com/cockroachdb/pebble", modulePath+"/coldchain", modulePath+"/bridge")
	}},
	{GroupExec, func(pkg string, f frame) bool {
		return under(pkg, modulePath+"/contracts", modulePath+"/vm", "github.com/tetratelabs/wazero") ||
			inFile(pkg, f, "node", "dispatch.go", "executor.go")
	}},
	{GroupProduce, func(pkg string, f frame) bool {
		return under(pkg, modulePath+"/hotchain", modulePath+"/node")
	}},
	{GroupSyscalls, func(pkg string, f frame) bool {
		return under(pkg, "syscall", "internal/poll", "net", "internal/syscall", "golang.org/x/sys")
	}},
}

// classify names the group of one sample, its stack leaf first, and the
// frame that decided it. A GC worker or assist anywhere on the stack
// makes the sample GC's. Otherwise the first frame, from the leaf, that a
// rule matches decides, so runtime helpers (allocation, memmove) are
// charged to the code that called them. A stack no rule matches is GC
// and runtime's if its leaf is in the runtime, and other's if not.
func classify(stack []frame) (string, frame) {
	if len(stack) == 0 {
		return GroupOther, frame{}
	}
	for _, f := range stack {
		if isGC(f.fn) {
			return GroupGC, stack[0]
		}
	}
	for _, f := range stack {
		pkg := packageOf(f.fn)
		for _, r := range rules {
			if r.match(pkg, f) {
				return r.group, f
			}
		}
	}
	if isRuntime(packageOf(stack[0].fn), stack[0].fn) {
		return GroupGC, stack[0]
	}
	return GroupOther, stack[0]
}

// gcPrefixes are the runtime's garbage-collection functions, after
// "runtime.".
var gcPrefixes = []string{"gc", "GC", "bgsweep", "bgscavenge", "sweepone", "(*sweepLocked)", "(*mspan).sweep",
	"markroot", "scan", "greyobject", "wbBuf", "bulkBarrier", "(*gcWork)", "(*gcControllerState)"}

// isGC reports whether fn is part of the garbage collector.
func isGC(fn string) bool {
	name, ok := strings.CutPrefix(fn, "runtime.")
	if !ok {
		return false
	}
	for _, p := range gcPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// isRuntime reports whether pkg is the Go runtime or one of its internal
// packages, or fn the race detector's C runtime (a -race build's
// profile has samples in it with no Go frames).
func isRuntime(pkg, fn string) bool {
	return pkg == runtimePackage || under(pkg, "internal/runtime") ||
		strings.HasPrefix(fn, "racecall") || strings.HasPrefix(fn, "__tsan_")
}

// packageOf returns the import path of a symbol: everything before the
// first dot after the last slash ("net/http.(*conn).serve" → "net/http").
// Type arguments, which may hold dots and slashes, are ignored.
func packageOf(fn string) string {
	if i := strings.IndexByte(fn, '['); i >= 0 {
		fn = fn[:i]
	}
	slash := strings.LastIndexByte(fn, '/')
	dot := strings.IndexByte(fn[slash+1:], '.')
	if dot < 0 {
		return fn
	}
	return fn[:slash+1+dot]
}

// under reports whether pkg is one of roots or a package below one.
func under(pkg string, roots ...string) bool {
	for _, r := range roots {
		if pkg == r || strings.HasPrefix(pkg, r+"/") {
			return true
		}
	}
	return false
}

// inFile reports whether f is in the module's package rel and in one of
// the named source files.
func inFile(pkg string, f frame, rel string, files ...string) bool {
	if pkg != moduleSlashed+rel {
		return false
	}
	base := path.Base(strings.ReplaceAll(f.file, `\`, "/"))
	for _, name := range files {
		if base == name {
			return true
		}
	}
	return false
}
