package e2e

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/dualchain/dualchain/internal/netfault"
	"github.com/dualchain/dualchain/internal/robustness"
)

// netFaults are internal/robustness's network faults.
var netFaults = []string{"partition-leader", "partition-follower", "flaky-links"}

// TestRobustnessNetwork is the network faults' CI tier: five node
// processes, each with its redis-server in a network namespace of its
// own, four clients on the bridge, and only the network faults (the
// leader cut off with one follower, 2|3; a follower cut off; every link
// losing, delaying and reordering packets), each injected at least once
// and survived, the history checked. It needs root, ip and iptables: it
// is skipped without them, and fails without them under CI=true.
func TestRobustnessNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("a real-process run of about two minutes")
	}
	needRedisServer(t)
	if err := netfault.Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("network namespaces under CI: %v", err)
		}
		t.Skipf("needs network namespaces: %v", err)
	}
	seed := *robustnessSeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("robustness seed %d (rerun with -robustness.seed=%d)", seed, seed)
	dir, err := os.MkdirTemp("", "dualchain-robustness-net-")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := robustness.Run(t.Context(), robustness.Options{
		Seed: seed, Duration: 75 * time.Second, Binary: binary(t), Dir: dir, Nodes: 5, Clients: 4,
		Store: localcluster.StoreRedis, Faults: netFaults, Netns: robustness.NetnsOn, Log: testLog{t},
	})
	reportRobustness(t, sum)
	if err != nil {
		logNodeTails(t, dir)
		t.Fatalf("robustness.Run(seed %d) = %v", seed, err)
	}
	var injected []string
	for _, f := range sum.Faults {
		if f.Survived > 0 {
			injected = append(injected, f.Fault)
		}
	}
	for _, name := range netFaults {
		if !slices.Contains(injected, name) {
			t.Errorf("robustness.Run(seed %d) survived %v, want %s among them", seed, injected, name)
		}
	}
	if !t.Failed() {
		os.RemoveAll(dir)
	}
}
