package robustness

import (
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/internal/localcluster"
)

func TestTrailingLogs(t *testing.T) {
	tests := []struct {
		args []string
		want uint64
	}{
		{[]string{"dualchain", "node", "--trailing-logs", "128"}, 128},
		{[]string{"dualchain", "node", "--trailing-logs=64", "--data", "d"}, 64},
		{[]string{"dualchain", "node", "--data", "d"}, raftTrailingLogs},
		{[]string{"dualchain", "node", "--trailing-logs"}, raftTrailingLogs},
		{[]string{"dualchain", "node", "--trailing-logs", "x"}, raftTrailingLogs},
		{append([]string{"dualchain", "node"}, DefaultNodeArgs...), 128},
	}
	for _, tt := range tests {
		if got := trailingLogs(tt.args); got != tt.want {
			t.Errorf("trailingLogs(%q) = %d, want %d", tt.args, got, tt.want)
		}
	}
}

// TestCoveredWithout: a node may be removed only if every page of hot
// blocks is held by another.
func TestCoveredWithout(t *testing.T) {
	held := [][]bool{
		{true, true, true},   // n1 holds every page
		{false, true, true},  // n2 joined from a snapshot
		{false, false, true}, // n3 too, later
	}
	for i, want := range []bool{false, true, true} {
		if got := coveredWithout(held, i); got != want {
			t.Errorf("coveredWithout(%v, %d) = %v, want %v", held, i, got, want)
		}
	}
	gaps := [][]bool{{true, false}, {false, true}, {false, false}}
	for i, want := range []bool{false, false, true} {
		if got := coveredWithout(gaps, i); got != want {
			t.Errorf("coveredWithout(%v, %d) = %v, want %v", gaps, i, got, want)
		}
	}
	if !coveredWithout([][]bool{nil, nil}, 0) {
		t.Errorf("coveredWithout of no blocks = false, want true")
	}
}

func TestLeaderOf(t *testing.T) {
	ids := []string{"n1", "n2", "n3"}
	tests := []struct {
		sts  []*api.Status
		want string
	}{
		{[]*api.Status{nil, nil, nil}, ""},
		{[]*api.Status{{Term: 3}, {Leader: true, Term: 3}, nil}, "n2"},
		{[]*api.Status{{Leader: true, Term: 2}, {Leader: true, Term: 4}, {Term: 4}}, "n2"}, // a paused old leader
		{[]*api.Status{{Leader: true, Term: 5}, nil, {Leader: true, Term: 4}}, "n1"},
	}
	for _, tt := range tests {
		if got := leaderOf(ids, tt.sts); got != tt.want {
			t.Errorf("leaderOf(%v) = %q, want %q", tt.sts, got, tt.want)
		}
	}
}

func TestLogHas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.log")
	before := "msg=\"Installed remote snapshot\" earlier\n"
	if err := os.WriteFile(path, []byte(before+"msg=other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if ok, err := logHas(path, 0, logInstalled); !ok || err != nil {
		t.Errorf("logHas(from 0) = %v, %v; want true", ok, err)
	}
	from := int64(len(before))
	if ok, err := logHas(path, from, logInstalled); ok || err != nil {
		t.Errorf("logHas(from %d) = %v, %v; want false: the line is before", from, ok, err)
	}
	if ok, err := logHas(filepath.Join(t.TempDir(), "none"), 0, logInstalled); ok || err == nil {
		t.Errorf("logHas(no file) = %v, %v; want an error", ok, err)
	}
	if got := fileSize(path); got != int64(len(before)+len("msg=other\n")) {
		t.Errorf("fileSize = %d, want %d", got, len(before)+len("msg=other\n"))
	}
}

// TestEndpointsMembers: the members change under readers, a removed
// node's clients stay, and members() never changes a slice it handed out.
func TestEndpointsMembers(t *testing.T) {
	ep := newEndpoints([]localcluster.Node{{ID: "n1", URL: "http://a"}, {ID: "n2", URL: "http://b"}, {ID: "n3", URL: "http://c"}})
	held := ep.members()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for a := range 200 {
				if id := ep.node(a, a); ep.local(id) == nil || ep.strong(id) == nil {
					t.Errorf("node(%d, %d) = %q, which has no client", a, a, id)
					return
				}
			}
		})
	}
	ep.remove("n2")
	ep.add(localcluster.Node{ID: "n4", URL: "http://d"})
	ep.add(localcluster.Node{ID: "n4", URL: "http://d"})
	wg.Wait()
	if got := ep.members(); !slices.Equal(got, []string{"n1", "n3", "n4"}) {
		t.Errorf("members() = %v, want [n1 n3 n4]", got)
	}
	if !slices.Equal(held, []string{"n1", "n2", "n3"}) {
		t.Errorf("members() handed out before the change became %v, want [n1 n2 n3]", held)
	}
	if ep.local("n2") == nil {
		t.Errorf("local(n2) of a removed node = nil, want its client kept")
	}
}
