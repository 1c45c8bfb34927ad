package perfreport

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// Machine is what the report says about the machine that ran the bench.
type Machine struct {
	Cores  int       // logical CPUs the Go runtime sees
	CPU    string    // model name from /proc/cpuinfo; "" if unknown
	Go     string    // runtime.Version()
	OS     string    // runtime.GOOS
	Arch   string    // runtime.GOARCH
	Date   time.Time // when the run was made, UTC
	Commit string    // git commit of the code measured; "" if unknown
	Dirty  bool      // the working tree had changes not committed
}

// gitTimeout bounds DetectMachine's calls to git.
const gitTimeout = 5 * time.Second

// DetectMachine describes the machine it runs on, now. The commit comes
// from the binary's build information when it has one (go build stamps
// it), else from git in the current directory, asked with a short
// timeout; it stays empty when neither knows.
func DetectMachine() Machine {
	m := Machine{Cores: runtime.NumCPU(), CPU: cpuModel("/proc/cpuinfo"), Go: runtime.Version(),
		OS: runtime.GOOS, Arch: runtime.GOARCH, Date: time.Now().UTC()}
	m.Commit, m.Dirty = buildCommit()
	if m.Commit == "" {
		m.Commit, m.Dirty = gitCommit()
	}
	return m
}

// String is the machine in one line, as the report's first paragraph
// gives it.
func (m Machine) String() string {
	cpu := m.CPU
	if cpu == "" {
		cpu = "unknown CPU"
	}
	s := fmt.Sprintf("%d cores (%s), %s/%s, %s", m.Cores, cpu, m.OS, m.Arch, m.Go)
	if m.Commit != "" {
		s += ", commit " + m.Commit[:min(12, len(m.Commit))]
		if m.Dirty {
			s += " with uncommitted changes"
		}
	}
	if !m.Date.IsZero() {
		s += ", " + m.Date.UTC().Format("2006-01-02 15:04 UTC")
	}
	return s
}

// cpuModel returns the first model name in a /proc/cpuinfo file, or ""
// when there is none (another OS, or an ARM kernel that lists none).
func cpuModel(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(key) == "model name" {
			return strings.Join(strings.Fields(value), " ")
		}
	}
	return ""
}

// buildCommit reads the commit go build stamped into the binary.
func buildCommit() (commit string, dirty bool) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", false
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	return commit, dirty
}

// gitCommit asks git for HEAD and whether the working tree differs.
func gitCommit() (commit string, dirty bool) {
	ctx, cancel := context.WithTimeout(context.Background(), gitTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "", false
	}
	status, err := exec.CommandContext(ctx, "git", "status", "--porcelain").Output()
	return strings.TrimSpace(string(out)), err == nil && len(bytes.TrimSpace(status)) > 0
}
