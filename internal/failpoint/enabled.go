//go:build failpoints

package failpoint

import (
	"fmt"
	"net/http"
	"os"
	"time"
)

// Enabled reports whether this build has failpoints (the failpoints tag).
const Enabled = true

// EnvVar arms points when the process starts: "name=term;name=term".
const EnvVar = "DUALCHAIN_FAILPOINTS"

// global is the process's registry.
var global = New()

// init arms the points of EnvVar. Configuration is read in cmd/ only
// (STYLE guideline 5), but a failpoint must be armed before the node
// opens its stores, and only a failpoints build reads this: it is a test
// harness's switch, not the node's configuration. A bad list stops the
// process: a test that arms nothing would pass for the wrong reason.
func init() {
	list := os.Getenv(EnvVar)
	if list == "" {
		return
	}
	if err := global.ArmList(list); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", EnvVar, err)
		os.Exit(2)
	}
	fmt.Fprintf(os.Stderr, "failpoints armed from %s: %s\n", EnvVar, list)
}

// Inject runs the action armed at name (Registry.Eval).
func Inject(name string) error { return global.Eval(name) }

// Offset returns the skew armed at name (Registry.Offset).
func Offset(name string) time.Duration { return global.Offset(name) }

// DebugHandler serves the process's registry (Handler).
func DebugHandler() http.Handler { return Handler(global) }
