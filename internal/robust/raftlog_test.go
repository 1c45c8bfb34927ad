package robust

import (
	"testing"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/ledger"
)

func TestLogRange(t *testing.T) {
	tests := []struct {
		name     string
		logs     []api.RaftLog
		from, to uint64
		ok       bool
	}{
		{"none", nil, 0, 0, false},
		{"one", []api.RaftLog{{FirstIndex: 3, LastIndex: 20, CommitIndex: 18}}, 3, 18, true},
		{"compacted apart", []api.RaftLog{{FirstIndex: 3, CommitIndex: 18}, {FirstIndex: 9, CommitIndex: 30}}, 9, 18, true},
		{"floor above first", []api.RaftLog{{FirstIndex: 3, FloorIndex: 11, CommitIndex: 18}, {FirstIndex: 1, CommitIndex: 20}}, 12, 18, true},
		{"empty log", []api.RaftLog{{}, {FirstIndex: 1, CommitIndex: 5}}, 1, 0, false},
		{"nothing shared", []api.RaftLog{{FirstIndex: 30, CommitIndex: 40}, {FirstIndex: 1, CommitIndex: 20}}, 30, 20, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, to, ok := LogRange(tt.logs)
			if ok != tt.ok || ok && (from != tt.from || to != tt.to) {
				t.Fatalf("LogRange = %d, %d, %v; want %d, %d, %v", from, to, ok, tt.from, tt.to, tt.ok)
			}
		})
	}
}

func TestLogEvery(t *testing.T) {
	tests := []struct {
		from, to uint64
		max      int
		want     uint64
	}{
		{1, 100, 1000, 1}, {1, 1000, 1000, 1}, {1, 1001, 1000, 2}, {10, 5, 1000, 1}, {1, 5000, 0, 1}, {1, 4096, 512, 8},
	}
	for _, tt := range tests {
		if got := LogEvery(tt.from, tt.to, tt.max); got != tt.want {
			t.Errorf("LogEvery(%d, %d, %d) = %d, want %d", tt.from, tt.to, tt.max, got, tt.want)
		}
	}
}

// Digests that differ at a shared index are a violation of the raft log
// row; digests at indexes only one node reports are not compared.
func TestLogPointsChecked(t *testing.T) {
	a := api.RaftLog{Digests: []api.RaftLogDigest{{Index: 4, Digest: ledger.Hash{1}}, {Index: 8, Digest: ledger.Hash{2}}}}
	b := api.RaftLog{Digests: []api.RaftLogDigest{{Index: 4, Digest: ledger.Hash{1}}, {Index: 8, Digest: ledger.Hash{3}}, {Index: 12, Digest: ledger.Hash{4}}}}
	c := &checker{rows: map[string]*Invariant{InvRaftLog: {Name: InvRaftLog}}}
	c.nodes = []NodeReport{{Node: "n1", Log: LogPoints(a)}, {Node: "n2", Log: LogPoints(b)}}
	if n := c.agree(InvRaftLog, "log index", func(n *NodeReport) []Point { return n.Log }); n != 2 {
		t.Errorf("agree compared %d indexes, want 2 (4 and 8)", n)
	}
	if row := c.rows[InvRaftLog]; row.Violations != 1 {
		t.Errorf("violations = %d, want 1 (index 8)", row.Violations)
	}
}
