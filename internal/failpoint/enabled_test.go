//go:build failpoints

package failpoint

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestArmedFromEnv: a failpoints build arms DUALCHAIN_FAILPOINTS's points
// when it starts, and a bad list stops it there.
func TestArmedFromEnv(t *testing.T) {
	if os.Getenv("FAILPOINT_ENV_CHILD") != "" {
		if !Enabled || Inject(RaftLogStore) == nil || Offset(ClockSkew) == 0 || DebugHandler() == nil {
			os.Exit(4)
		}
		os.Exit(0)
	}
	run := func(list string) (string, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestArmedFromEnv$")
		cmd.Env = append(os.Environ(), "FAILPOINT_ENV_CHILD=1", EnvVar+"="+list)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("raft-log-store=error;clock-skew=skew(+3s)"); err != nil || !strings.Contains(out, "failpoints armed from") {
		t.Errorf("child with %s set = %v, output %q; want it armed", EnvVar, err, out)
	}
	if out, err := run("raft-log-store=boom"); err == nil || !strings.Contains(out, EnvVar) {
		t.Errorf("child with a bad %s = %v, output %q; want it stopped naming %s", EnvVar, err, out, EnvVar)
	}
}
