package robustness

import (
	"slices"
	"testing"

	"github.com/dualchain/dualchain/internal/netfault"
)

func TestDropWithoutNetns(t *testing.T) {
	net := []string{"partition-leader", "partition-follower", "flaky-links"}
	tests := []struct {
		name     string
		r        *runner
		wantKept bool
	}{
		{"no namespaces", &runner{o: Options{}.withDefaults(), noNet: "not root"}, false},
		{"namespaces", &runner{o: Options{}.withDefaults(), net: &netfault.Net{}}, true},
	}
	for _, tt := range tests {
		kept, skipped := tt.r.dropWithoutNetns(Faults(), []string{"redis-kill"})
		var names []string
		for _, f := range kept {
			names = append(names, f.Name())
		}
		for _, n := range net {
			if slices.Contains(names, n) != tt.wantKept || slices.Contains(skipped, n) == tt.wantKept {
				t.Errorf("%s: dropWithoutNetns kept %v, skipped %v; want %s kept %v", tt.name, names, skipped, n, tt.wantKept)
			}
		}
		if !slices.Contains(skipped, "redis-kill") || !slices.Contains(names, "leader-kill") {
			t.Errorf("%s: dropWithoutNetns kept %v, skipped %v; want leader-kill kept and redis-kill still skipped", tt.name, names, skipped)
		}
	}
}

func TestSetupNetOff(t *testing.T) {
	r := &runner{o: Options{Netns: NetnsOff}.withDefaults()}
	place, err := r.setupNet(t.Context())
	if place != nil || err != nil || r.net != nil || r.noNet == "" {
		t.Errorf("setupNet(NetnsOff) = place %v, %v, net %v, reason %q; want nothing made and a reason", place != nil, err, r.net, r.noNet)
	}
	if err := (Options{Binary: "b", Dir: "d", Netns: NetnsOff + 1}).Validate(); err == nil {
		t.Errorf("Validate(Netns %d) = nil, want an error", NetnsOff+1)
	}
}
