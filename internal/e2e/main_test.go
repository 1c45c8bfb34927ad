package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dualchain/dualchain/internal/localcluster"
)

// binDir holds the dualchain binary built for this run; TestMain removes it.
var binDir string

// builds are the binaries built, by kind: the plain one and the one with
// failpoints.
var build, fpBuild struct {
	once sync.Once
	path string
	err  error
}

// TestMain tethers the nodes and redis-servers the tests start through
// localcluster in this process, so that none outlives a test binary that
// dies (a -timeout panic, a SIGKILL); those a `dualchain` subprocess
// starts, as `cluster up` or `demo`, are not tethered.
func TestMain(m *testing.M) {
	localcluster.TetherChildren()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "dualchain-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = dir
	return m.Run()
}

// binary returns the path of the dualchain binary, building it on first use
// from the module this package belongs to. The binary is built with this
// test binary's invariants tag, so the node runs its expensive checks too.
func binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() { build.path, build.err = buildBinary("dualchain") })
	if build.err != nil {
		t.Fatalf("build dualchain: %v", build.err)
	}
	return build.path
}

// failpointsBinary returns the path of a dualchain binary built with the
// failpoints tag too (its /debug/failpoints API arms crash points, disk
// faults and clock skew), for the robustness runs.
func failpointsBinary(t testing.TB) string {
	t.Helper()
	fpBuild.once.Do(func() { fpBuild.path, fpBuild.err = buildBinary("dualchain-failpoints", "failpoints") })
	if fpBuild.err != nil {
		t.Fatalf("build dualchain with failpoints: %v", fpBuild.err)
	}
	return fpBuild.path
}

// buildBinary builds ./cmd/dualchain as name in binDir, with tags and
// this test binary's invariants tag.
func buildBinary(name string, tags ...string) (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("go env GOMOD = %q, want the module's go.mod", gomod)
	}
	path := filepath.Join(binDir, name)
	args := []string{"build", "-o", path}
	if invariants {
		tags = append(tags, "invariants")
	}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.Command("go", append(args, "./cmd/dualchain")...)
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(cmd.Args[1:], " "), err, out)
	}
	return path, nil
}
