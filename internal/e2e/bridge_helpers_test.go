package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dualchain/dualchain/internal/localcluster"
)

// cliTimeout bounds one dualchain command, waits included: the commands
// get a shorter --timeout where they talk to a node, so that they give up
// and say why before the test kills them.
const cliTimeout = 45 * time.Second

// cli runs the dualchain binary as a user would, against the local cluster
// in dir.
type cli struct {
	t   *testing.T
	bin string
	dir string // the cluster's directory: --dir and --cluster
	tmp string // where the user keeps key and proof files
}

// cliResult is what one command did.
type cliResult struct {
	line           string // the command line, for messages
	stdout, stderr string
	exit           int // -1 if it did not run or was killed
	err            error
	took           time.Duration
}

// String shows the command and everything it printed.
func (r cliResult) String() string {
	return fmt.Sprintf("$ %s\nexit %d (%v) after %v\n--- stdout:\n%s--- stderr:\n%s", r.line, r.exit, r.err,
		r.took.Round(time.Millisecond), r.stdout, r.stderr)
}

// run runs dualchain with args and returns what it did.
func (c *cli) run(args ...string) cliResult {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Dir = c.tmp
	cmd.Env = append(os.Environ(), "DUALCHAIN_NODE=") // only --node and --cluster say where
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := cliResult{line: "dualchain " + strings.Join(args, " "), stdout: stdout.String(), stderr: stderr.String(),
		exit: -1, err: err, took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
		r.exit = 0
	case errors.As(err, &ee) && ee.Exited():
		r.exit = ee.ExitCode()
	}
	c.t.Logf("$ %s  (exit %d, %v)", r.line, r.exit, r.took.Round(time.Millisecond))
	return r
}

// ok runs dualchain with args and fails the test unless it exits 0.
func (c *cli) ok(args ...string) cliResult {
	c.t.Helper()
	r := c.run(args...)
	if r.exit != 0 {
		c.t.Fatalf("command failed, want exit 0:\n%s", r)
	}
	return r
}

// okJSON runs dualchain with args and --json, fails the test unless it
// exits 0, and decodes its stdout into v.
func (c *cli) okJSON(v any, args ...string) cliResult {
	c.t.Helper()
	r := c.ok(append(args, "--json")...)
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		c.t.Fatalf("decode the JSON of %q into %T: %v\n%s", r.line, v, err, r)
	}
	return r
}

// fails runs dualchain with args and fails the test unless it exits 1
// with an error line ("error: MESSAGE (CODE)") of one of the codes, or of
// any code if there are none.
func (c *cli) fails(codes []string, args ...string) cliResult {
	c.t.Helper()
	r := c.run(args...)
	line := strings.TrimSpace(r.stderr)
	ok := r.exit == 1 && strings.HasPrefix(line, "error: ") && strings.HasSuffix(line, ")")
	if ok && len(codes) > 0 {
		ok = slices.ContainsFunc(codes, func(code string) bool { return strings.HasSuffix(line, "("+code+")") })
	}
	if !ok {
		c.t.Fatalf("command did not fail as it should: want exit 1 and an error line of code %q:\n%s", codes, r)
	}
	c.t.Logf("  refused, as it should: %s", line)
	return r
}

// path is the path of a user's file named name.
func (c *cli) path(name string) string { return filepath.Join(c.tmp, name) }

// nodeStatuses returns every node's status as 'cluster status --json'
// reports it.
func (c *cli) nodeStatuses() ([]localcluster.NodeStatus, cliResult) {
	r := c.run("cluster", "status", "--dir", c.dir, "--json")
	var sts []localcluster.NodeStatus
	if r.exit == 0 {
		if err := json.Unmarshal([]byte(r.stdout), &sts); err != nil {
			r.err, r.exit = fmt.Errorf("decode: %w", err), -1
		}
	}
	return sts, r
}

// waitAgreed waits until 'cluster status' shows every node running,
// caught up and at the same height and commitment as the one leader all of
// them name, and returns the statuses.
func (c *cli) waitAgreed(what string) []localcluster.NodeStatus {
	c.t.Helper()
	var sts []localcluster.NodeStatus
	waitUntil(c.t, what, waitTimeout, func() (bool, string) {
		var r cliResult
		if sts, r = c.nodeStatuses(); r.exit != 0 {
			return false, r.String()
		}
		why := statusesAgree(sts)
		return why == "", why
	})
	return sts
}

// statusesAgree returns "" if the nodes agree (see waitAgreed), else why
// they do not.
func statusesAgree(sts []localcluster.NodeStatus) string {
	var leaders, views []string
	for _, s := range sts {
		switch {
		case !s.Running || s.Status == nil:
			return fmt.Sprintf("%s: running %v, no status", s.ID, s.Running)
		case s.Redis != nil && !s.Redis.Running:
			return fmt.Sprintf("%s: its redis-server is not running", s.ID)
		case !s.Status.CaughtUp:
			return fmt.Sprintf("%s has not caught up: applied index %d, commit index %d", s.ID, s.Status.AppliedIndex, s.Status.CommitIndex)
		case s.Status.Leader:
			leaders = append(leaders, s.ID)
		}
		views = append(views, fmt.Sprintf("%s: height %d commitment %s leader %q", s.ID, s.Status.Height, s.Status.Commitment, s.Status.LeaderID))
	}
	if len(leaders) != 1 {
		return fmt.Sprintf("leaders %v, want one: %s", leaders, strings.Join(views, "; "))
	}
	first := sts[0].Status
	for _, s := range sts {
		if s.Status.Height != first.Height || s.Status.Commitment != first.Commitment || s.Status.LeaderID != leaders[0] {
			return "nodes differ: " + strings.Join(views, "; ")
		}
	}
	return ""
}

// auditReport is what 'dualchain audit --json' prints.
type auditReport struct {
	Pass  bool `json:"pass"`
	Nodes []struct {
		ID    string `json:"id"`
		Audit *struct {
			HotHeight     uint64 `json:"hot_height"`
			HotCommitment string `json:"hot_commitment"`
			ColdHeight    uint64 `json:"cold_height"`
			ColdRoot      string `json:"cold_root"`
		} `json:"audit"`
	} `json:"nodes"`
	Checks []struct {
		Check  string `json:"check"`
		Node   string `json:"node"`
		Pass   bool   `json:"pass"`
		Detail string `json:"detail"`
	} `json:"checks"`
}

// The audit's checks across nodes, which this test needs to see run.
var crossNodeChecks = []string{"cold roots equal", "hot commitments equal"}

// audit runs 'dualchain audit --cluster DIR --json' and fails the test
// unless it exits 0 and every check of its report passes, on each of
// nodes nodes and across them.
func (c *cli) audit(nodes int) auditReport {
	c.t.Helper()
	var rep auditReport
	r := c.okJSON(&rep, "audit", "--cluster", c.dir)
	if why := rep.problem(nodes); why != "" {
		c.t.Fatalf("audit: %s\n%s", why, r)
	}
	return rep
}

// problem returns "" if every check passed, nodes nodes answered and the
// checks across nodes ran, else what is wrong.
func (rep auditReport) problem(nodes int) string {
	var failed []string
	seen := make(map[string]bool)
	for _, ch := range rep.Checks {
		seen[ch.Check] = true
		if !ch.Pass {
			failed = append(failed, fmt.Sprintf("%s on %s: %s", ch.Check, ch.Node, ch.Detail))
		}
	}
	switch {
	case !rep.Pass || len(failed) > 0:
		return fmt.Sprintf("pass %v, failed checks %q", rep.Pass, failed)
	case len(rep.Nodes) != nodes:
		return fmt.Sprintf("%d nodes in the report, want %d", len(rep.Nodes), nodes)
	}
	for _, ch := range crossNodeChecks {
		if !seen[ch] {
			return fmt.Sprintf("no %q check in the report", ch)
		}
	}
	for _, n := range rep.Nodes {
		if n.Audit == nil {
			return n.ID + " has no audit in the report"
		}
	}
	return ""
}

// auditAtRest audits until every node reports the same hot and cold
// heights (the cluster is quiet: the last checkpoint is made), failing the
// test if any audit fails on the way; then every node must report the same
// hot commitment and cold root.
func (c *cli) auditAtRest(nodes int) auditReport {
	c.t.Helper()
	var rep auditReport
	waitUntil(c.t, "every node at the same hot and cold heights in the audit", waitTimeout, func() (bool, string) {
		rep = c.audit(nodes)
		first := rep.Nodes[0].Audit
		for _, n := range rep.Nodes {
			if n.Audit.HotHeight != first.HotHeight || n.Audit.ColdHeight != first.ColdHeight {
				return false, fmt.Sprintf("%s at hot %d cold %d, %s at hot %d cold %d", rep.Nodes[0].ID,
					first.HotHeight, first.ColdHeight, n.ID, n.Audit.HotHeight, n.Audit.ColdHeight)
			}
		}
		return true, ""
	})
	first := rep.Nodes[0].Audit
	for _, n := range rep.Nodes {
		if n.Audit.HotCommitment != first.HotCommitment || n.Audit.ColdRoot != first.ColdRoot {
			c.t.Fatalf("at hot height %d, cold height %d: %s has commitment %s, cold root %s; %s has %s, %s",
				first.HotHeight, first.ColdHeight, rep.Nodes[0].ID, first.HotCommitment, first.ColdRoot,
				n.ID, n.Audit.HotCommitment, n.Audit.ColdRoot)
		}
	}
	c.t.Logf("audit passed; every node at hot height %d (commitment %s), cold height %d (root %s)",
		first.HotHeight, first.HotCommitment, first.ColdHeight, first.ColdRoot)
	return rep
}

// changeByte returns a copy of data with one byte changed: the last digit
// of the value of the first "key": in it (a number, or a hex string), so
// that the JSON still reads and only what it says changes.
func changeByte(data []byte, key string) ([]byte, error) {
	i := bytes.Index(data, []byte(`"`+key+`":`))
	if i < 0 {
		return nil, fmt.Errorf("no %q in %s", key, data)
	}
	i += len(key) + 3
	if i < len(data) && data[i] == '[' { // a list: its first element
		i++
	}
	if i < len(data) && data[i] == '"' {
		i++
	}
	j := i
	for j < len(data) && isHexDigit(data[j]) {
		j++
	}
	if j == i {
		return nil, fmt.Errorf("the value of %q is not a number or hex string: %s", key, data[i:])
	}
	out := bytes.Clone(data)
	if out[j-1] == '0' {
		out[j-1] = '1'
	} else {
		out[j-1] = '0'
	}
	return out, nil
}

func isHexDigit(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'f'
}
