package e2e

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/dualchain/dualchain/internal/robustness"
)

// Flags of the robustness runs: go test ./internal/e2e -run
// TestRobustnessSoak -robustness.duration=30m -robustness.seed=N.
var (
	robustnessDuration = flag.Duration("robustness.duration", 0, "run TestRobustnessSoak for this long (it is skipped without)")
	robustnessSeed     = flag.Int64("robustness.seed", 0, "seed of the robustness runs' faults and workload (0: the time)")
	robustnessDir      = flag.String("robustness.dir", "", "directory of a robustness run (default: a new one in the temp dir, removed if the run passes)")
	robustnessFaults   = flag.String("robustness.faults", "", "comma-separated faults to inject (default: every one)")
)

// shortRobustness is the CI tier's workload time: about two minutes with
// the cluster's start, the final heal and the check.
const shortRobustness = 90 * time.Second

// TestRobustnessShort is issue 8's CI tier: three node processes, a
// redis-server each, four clients, and every fault of
// internal/robustness (seven kinds, each shown to take effect) injected
// from a seeded schedule for about a minute and a half; it fails on any
// violation the checker finds, or a fault not survived.
func TestRobustnessShort(t *testing.T) {
	if testing.Short() {
		t.Skip("a real-process run of a few minutes")
	}
	needRedisServer(t)
	runRobustness(t, shortRobustness)
}

// TestRobustnessSoak is the long randomized run of `make robustness`,
// skipped unless -robustness.duration is given.
func TestRobustnessSoak(t *testing.T) {
	if *robustnessDuration <= 0 {
		t.Skip("give -robustness.duration (and -robustness.seed) to soak")
	}
	needRedisServer(t)
	runRobustness(t, *robustnessDuration)
}

func runRobustness(t *testing.T, d time.Duration) {
	seed := *robustnessSeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("robustness seed %d (rerun with -robustness.seed=%d)", seed, seed)
	dir := *robustnessDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "dualchain-robustness-"); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := robustness.Run(t.Context(), robustness.Options{
		Seed: seed, Duration: d, Binary: failpointsBinary(t), Dir: dir, Nodes: 3, Clients: 4,
		Store: localcluster.StoreRedis, Log: testLog{t}, Keep: *robustnessDir != "", Faults: faultList(*robustnessFaults),
	})
	t.Logf("summary:\n%s", sum)
	if err != nil {
		logNodeTails(t, dir)
		t.Fatalf("robustness.Run(seed %d) = %v", seed, err)
	}
	want := 4
	if fs := faultList(*robustnessFaults); fs != nil {
		want = min(want, len(fs))
	}
	if len(sum.Faults) < want {
		t.Errorf("robustness.Run(seed %d) injected %d kinds of fault, want at least %d", seed, len(sum.Faults), want)
	}
	if *robustnessDir == "" && !t.Failed() {
		os.RemoveAll(dir)
	}
}

// logNodeTails prints the end of every node's log of a failed run.
func logNodeTails(t *testing.T, dir string) {
	logs, _ := filepath.Glob(filepath.Join(dir, "cluster", "*", localcluster.NodeLogFile))
	for _, path := range logs {
		t.Logf("end of %s:\n%s", path, strings.TrimSpace(tail(path, clusterLogBytes)))
	}
}

// faultList splits -robustness.faults; "" is every fault (nil).
func faultList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
