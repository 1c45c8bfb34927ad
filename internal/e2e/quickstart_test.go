package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The quickstart is run as its reader would run it: the commands of its
// ```sh blocks, in order, in one bash, from a directory that holds
// bin/dualchain and contracts/ as the repository's root does.
const (
	quickstartDoc     = "../../docs/quickstart.md" // from this package's directory
	quickstartDirLine = "DC=/tmp/dc"               // the command that names the cluster's directory
	quickstartTimeout = 90 * time.Second           // the whole script; it takes 6-7 s
	quickstartMarker  = "quickstart$ "             // starts the transcript's line before each command
	quickstartDown    = 45 * time.Second           // the cleanup's cluster down
)

// quickstartChecks are what the story must have printed, beyond every
// command exiting 0.
var quickstartChecks = []struct {
	what string
	re   *regexp.Regexp
}{
	{"cluster up says it uses redis-server", regexp.MustCompile(`(?m)^store: redis \(`)},
	{"the settle is checkpointed", regexp.MustCompile(`(?m)^checkpointed +yes, in cold block \d+`)},
	{"proof verify says valid", regexp.MustCompile(`(?m)^valid +yes`)},
	{"a proof about another account is refused", regexp.MustCompile(`(?m)^refused, as it should be$`)},
	{"the deposit is credited", regexp.MustCompile(`(?m)^credited +yes, in hot block \d+`)},
	{"the wiped follower rebuilt its store", regexp.MustCompile(`msg="store rebuilt`)},
	{"three nodes with one commitment", regexp.MustCompile(`(?m)^ *3 [0-9a-f]{12}$`)},
	{"balances unchanged by the restart", regexp.MustCompile(`(?m)^balances unchanged$`)},
	{"the audit's verdict is PASS", regexp.MustCompile(`(?m)^verdict: PASS$`)},
}

// TestQuickstart runs every command of docs/quickstart.md's ```sh blocks,
// in order, in one `bash -euo pipefail`, with the cluster's directory
// (DC) in a temporary directory, then checks what they printed. A command
// that fails stops the script, and the test shows it with its output. The
// cluster is stopped when the test ends, however it ends.
func TestQuickstart(t *testing.T) {
	needRedisServer(t)
	doc, err := os.ReadFile(quickstartDoc)
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := shellCommands(string(doc))
	if err != nil {
		t.Fatalf("%s: %v", quickstartDoc, err)
	}
	work := t.TempDir()
	dc := filepath.Join(work, "dc")
	script, err := quickstartScript(cmds, dc)
	if err != nil {
		t.Fatalf("%s: %v", quickstartDoc, err)
	}
	quickstartTree(t, work)
	t.Cleanup(func() { stopQuickstart(t, work, dc) })
	start := time.Now()
	out, err := runScript(work, script)
	t.Logf("transcript of %d commands, %v:\n%s", len(cmds), time.Since(start).Round(time.Millisecond), out)
	if err != nil {
		cmd, output := lastCommand(out)
		t.Fatalf("the quickstart failed (%v) at\n  %s\nwhich printed:\n%s", err, cmd, output)
	}
	for _, c := range quickstartChecks {
		if !c.re.MatchString(out) {
			t.Errorf("%s: nothing in the transcript matches %q", c.what, c.re)
		}
	}
}

// shellCommands returns the commands of doc's ```sh blocks, in order: one
// per line, a line ending in a backslash joined with the next, blank lines
// and lines starting with # left out. Other blocks (```text, ```bash) are
// not commands.
func shellCommands(doc string) ([]string, error) {
	var cmds []string
	in, pending := false, ""
	for i, line := range strings.Split(doc, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case !in:
			in = trimmed == "```sh"
		case strings.HasPrefix(trimmed, "```"):
			if pending != "" {
				return nil, fmt.Errorf("line %d: the block ends in a continued line", i+1)
			}
			in = false
		case pending == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")):
		case strings.HasSuffix(trimmed, `\`):
			pending += strings.TrimSuffix(trimmed, `\`)
		default:
			cmds = append(cmds, pending+trimmed)
			pending = ""
		}
	}
	if in {
		return nil, errors.New("a ```sh block is not closed")
	}
	return cmds, nil
}

// quickstartScript is the bash script that runs cmds with DC set to dc:
// before each command it prints the command after quickstartMarker. The
// command quickstartDirLine must be among cmds.
func quickstartScript(cmds []string, dc string) (string, error) {
	var b strings.Builder
	found := false
	for _, c := range cmds {
		if c == quickstartDirLine && !found {
			c, found = "DC="+shellQuote(dc), true
		}
		fmt.Fprintf(&b, "printf '%%s\\n' %s\n%s\n", shellQuote(quickstartMarker+c), c)
	}
	if !found {
		return "", fmt.Errorf("no command %q in a ```sh block: the test cannot move the cluster's directory", quickstartDirLine)
	}
	return b.String(), nil
}

// shellQuote quotes s as one word for bash.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// quickstartTree makes work look like the repository's root to the
// quickstart: bin/dualchain is the binary under test, contracts/ the
// repository's.
func quickstartTree(t *testing.T, work string) {
	t.Helper()
	contracts, err := filepath.Abs(filepath.Join(filepath.Dir(quickstartDoc), "..", "contracts"))
	if err != nil {
		t.Fatal(err)
	}
	bin := binary(t)
	if err := os.Mkdir(filepath.Join(work, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"bin/dualchain": bin, "contracts": contracts} {
		if err := os.Symlink(target, filepath.Join(work, link)); err != nil {
			t.Fatal(err)
		}
	}
}

// runScript runs script with bash -euo pipefail in dir and returns
// everything it printed, stdout and stderr as they came. It kills the
// script's process group, every command it still runs included, when
// quickstartTimeout passes.
func runScript(dir, script string) (string, error) {
	path := filepath.Join(dir, "quickstart.sh")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		return "", err
	}
	out, err := os.Create(filepath.Join(dir, "transcript.txt"))
	if err != nil {
		return "", err
	}
	defer out.Close()
	ctx, cancel := context.WithTimeout(context.Background(), quickstartTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", path)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DUALCHAIN_NODE=") // only the documented --cluster and --dir say where
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	runErr := cmd.Run()
	if ctx.Err() != nil {
		runErr = fmt.Errorf("killed after %v: %w", quickstartTimeout, runErr)
	}
	data, err := os.ReadFile(out.Name())
	return string(data), errors.Join(runErr, err)
}

// lastCommand returns the last command the transcript out shows starting,
// and what it printed.
func lastCommand(out string) (cmd, output string) {
	i := strings.LastIndex("\n"+out, "\n"+quickstartMarker)
	if i < 0 {
		return "(none: the script failed before its first command)", out
	}
	cmd, output, _ = strings.Cut(out[i+len(quickstartMarker):], "\n")
	return cmd, output
}

// stopQuickstart stops the cluster in dc as the quickstart does, with
// `cluster down`, whatever state the script left it in, and then checks,
// by their recorded PIDs, that no node or redis-server of it runs.
func stopQuickstart(t *testing.T, work, dc string) {
	if _, err := os.Stat(filepath.Join(dc, "cluster.json")); err != nil {
		return // the script failed before cluster up made it
	}
	ctx, cancel := context.WithTimeout(context.Background(), quickstartDown)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(work, "bin", "dualchain"), "cluster", "down", "--dir", dc)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("dualchain cluster down --dir %s: %v\n%s", dc, err, out)
	}
	downBridgeCluster(t, dc)
}

// TestShellCommands checks which lines of a document the quickstart test
// runs.
func TestShellCommands(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      []string
		err       bool
	}{
		{"sh blocks only", "a\n```sh\none\n```\n```text\nout\n```\n```bash\nmake build\n```\n```sh\ntwo\n```\n",
			[]string{"one", "two"}, false},
		{"comments and blank lines", "```sh\n# say\n\n  three   # a comment bash ignores\n```\n",
			[]string{"three   # a comment bash ignores"}, false},
		{"continued lines", "```sh\nfour \\\n  --flag\n```\n", []string{"four --flag"}, false},
		{"unclosed", "```sh\nfive\n", nil, true},
		{"continued into the end", "```sh\nsix \\\n```\n", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := shellCommands(tc.doc)
			if (err != nil) != tc.err || strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("shellCommands(%q) = %q, %v; want %q, error %v", tc.doc, got, err, tc.want, tc.err)
			}
		})
	}
}

// TestLastCommand checks how a failed quickstart names its command.
func TestLastCommand(t *testing.T) {
	out := quickstartMarker + "a\nA\n" + quickstartMarker + "b\nB1\nB2\n"
	cmd, output := lastCommand(out)
	if cmd != "b" || output != "B1\nB2\n" {
		t.Errorf("lastCommand(%q) = %q, %q; want %q, %q", out, cmd, output, "b", "B1\nB2\n")
	}
}
