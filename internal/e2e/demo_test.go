package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dualchain/dualchain/internal/demo"
	"github.com/dualchain/dualchain/internal/localcluster"
)

// demoLimit is how long `dualchain demo` may take: the two minutes.
const demoLimit = 2 * time.Minute

// TestDemo runs `dualchain demo --nodes 3 --json` as a user would, and
// checks its verdicts: exit status 0, every step and check passed, real
// Redis used when redis-server is installed (CI must have it), every
// process it started gone, its temporary directory removed, and all of
// it within two minutes.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a three-node cluster for about ten seconds")
	}
	_, lookErr := exec.LookPath(localcluster.RedisServer)
	if lookErr != nil && os.Getenv("CI") == "true" {
		t.Fatalf("%s not found on PATH (install Debian's redis-server): %v", localcluster.RedisServer, lookErr)
	}
	tmp := t.TempDir()
	rep, stderr, took := runDemo(t, tmp)
	if t.Failed() {
		t.Logf("the demo's narration:\n%s", stderr)
	}
	checkDemoReport(t, rep, lookErr == nil)
	checkNothingLeft(t, rep, tmp)
	if took > demoLimit {
		t.Errorf("the demo took %v, want under %v", took.Round(time.Second), demoLimit)
	}
	t.Logf("demo: %v on %s, %d steps, %d checks", took.Round(100*time.Millisecond), rep.Store, len(rep.Steps), len(rep.Checks))
}

// runDemo runs the demo with its temporary directories under tmp, and
// returns its report, its narration and how long it ran.
func runDemo(t *testing.T, tmp string) (demo.Report, string, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), demoLimit+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), "demo", "--nodes", "3", "--json")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	t.Cleanup(func() { stopLeftovers(t, tmp) })
	if err != nil {
		t.Errorf("dualchain demo --json = %v, want exit status 0; stderr ends:\n%s", err, lastLines(stderr.String(), 40))
	}
	var rep demo.Report
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if derr := dec.Decode(&rep); derr != nil {
		t.Fatalf("stdout is not the demo's report: %v\n%s", derr, stdout.String())
	}
	return rep, stderr.String(), took
}

// checkDemoReport checks that every step and check passed, on Redis when
// it is installed; without it, the one step that needs Redis is skipped.
func checkDemoReport(t *testing.T, rep demo.Report, haveRedis bool) {
	t.Helper()
	wantStore := localcluster.StoreMemory
	if haveRedis {
		wantStore = localcluster.StoreRedis
	}
	if !rep.Pass || rep.Store != wantStore || rep.Nodes != 3 || rep.Kept {
		t.Errorf("report: pass %v, store %q (%s), %d nodes, kept %v; want a pass on %s with 3 nodes, not kept",
			rep.Pass, rep.Store, rep.StoreReason, rep.Nodes, rep.Kept, wantStore)
	}
	if len(rep.Steps) != 9 {
		t.Errorf("report has %d steps, want 9", len(rep.Steps))
	}
	for _, s := range rep.Steps {
		skipOK := !haveRedis && s.Name == "redis wiped"
		if s.Status != demo.StatusPass && !(skipOK && s.Status == demo.StatusSkipped) {
			t.Errorf("step %d (%s) %s: %s", s.N, s.Name, s.Status, s.Summary)
		}
	}
	names := make(map[string]bool)
	for _, c := range rep.Checks {
		names[c.Check] = true
		if !c.Pass {
			t.Errorf("check %q on %s failed: %s", c.Check, c.Node, c.Detail)
		}
	}
	for _, want := range []string{"conservation", "mirror", "cold roots equal", "hot commitments equal",
		demo.CheckAgree, demo.CheckFound, demo.CheckHeld, demo.CheckOnce, demo.CheckNonces, demo.CheckStopped} {
		if !names[want] {
			t.Errorf("report has no %q check", want)
		}
	}
	if tx, ok := rep.Steps[1].Figures["tx_per_second"].(float64); !ok || tx <= 0 {
		t.Errorf("step 2's figures = %v, want a positive tx_per_second", rep.Steps[1].Figures)
	}
}

// checkNothingLeft checks that no process the demo reported starting
// runs, that it started the nodes and (with Redis) a redis-server each,
// and that its temporary directory is gone.
func checkNothingLeft(t *testing.T, rep demo.Report, tmp string) {
	t.Helper()
	programs := make(map[string]int)
	for _, p := range rep.Processes {
		programs[p.Program]++
		if cmd, ok := running(p.PID); ok && strings.Contains(cmd, p.Program) {
			t.Errorf("%s's %s (pid %d) still runs after the demo: %s", p.Node, p.Program, p.PID, cmd)
		}
	}
	if programs[demo.ProgramNode] < 3 || rep.Store == localcluster.StoreRedis && programs[demo.ProgramRedis] < 3 {
		t.Errorf("report lists processes %v, want at least 3 nodes (and 3 redis-servers on Redis)", programs)
	}
	if !rep.DirRemoved || !strings.HasPrefix(rep.Dir, tmp) {
		t.Errorf("report: dir %s, removed %v; want a temporary directory under %s, removed", rep.Dir, rep.DirRemoved, tmp)
	}
	if _, err := os.Stat(rep.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the demo's directory %s is still there (%v)", rep.Dir, err)
	}
}

// running returns pid's command line if it runs and is not a zombie.
func running(pid int) (string, bool) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", false
	}
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && bytes.HasPrefix(stat[i+1:], []byte(" Z")) {
		return "", false
	}
	cmd, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return string(bytes.ReplaceAll(cmd, []byte{0}, []byte{' '})), err == nil
}

// stopLeftovers stops, by PID through localcluster, any cluster a failed
// demo left under tmp, so that a failing test leaves no process behind.
func stopLeftovers(t *testing.T, tmp string) {
	dirs, _ := filepath.Glob(filepath.Join(tmp, "dualchain-demo-*"))
	for _, dir := range dirs {
		c, err := localcluster.Load(dir)
		if err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		if err := c.Down(ctx); err != nil {
			t.Errorf("stop the cluster the demo left in %s: %v", dir, err)
		}
		cancel()
	}
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
