package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/ledger"
)

// raftLogFake is a fakeCluster that serves Raft log digests and records
// the range each RaftLog call asked for.
type raftLogFake struct {
	*fakeCluster
	mu   sync.Mutex
	args [][3]uint64
}

var _ api.RaftLogBackend = (*raftLogFake)(nil)

func (f *raftLogFake) RaftLog(_ context.Context, from, to, every uint64) (api.RaftLog, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.args = append(f.args, [3]uint64{from, to, every})
	lg := api.RaftLog{FirstIndex: 3, LastIndex: 90, CommitIndex: 80, From: max(from, 3), To: min(to, 80), Every: every}
	if every > 0 {
		lg.Digests = []api.RaftLogDigest{{Index: 64, Digest: ledger.Hash{1}}, {Index: 80, Digest: ledger.Hash{2}}}
	}
	return lg, nil
}

func (f *raftLogFake) calls() [][3]uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][3]uint64(nil), f.args...)
}

// GET /v1/admin/raft/log wants the admin token, reads from, to and every
// (every 64 unless given; 0 for the bounds only), refuses what is not a
// range, and answers on the node asked: a follower does not forward it.
func TestRaftLog(t *testing.T) {
	tests := []struct {
		name   string
		query  string
		auth   string
		status int
		code   string
		want   [3]uint64 // the backend's arguments, when it is called
	}{
		{"defaults", "", adminToken, 200, "", [3]uint64{0, 0, api.DefaultRaftLogEvery}},
		{"range", "?from=10&to=70&every=16", adminToken, 200, "", [3]uint64{10, 70, 16}},
		{"bounds only", "?every=0", adminToken, 200, "", [3]uint64{0, 0, 0}},
		{"open end", "?from=5", adminToken, 200, "", [3]uint64{5, 0, api.DefaultRaftLogEvery}},
		{"no token", "", "", 401, api.CodeUnauthorized, [3]uint64{}},
		{"wrong token", "", "guess", 401, api.CodeUnauthorized, [3]uint64{}},
		{"from past to", "?from=9&to=8", adminToken, 400, api.CodeBadRequest, [3]uint64{}},
		{"negative", "?from=-1", adminToken, 400, api.CodeBadRequest, [3]uint64{}},
		{"not a number", "?every=x", adminToken, 400, api.CodeBadRequest, [3]uint64{}},
		{"overflow", "?to=18446744073709551616", adminToken, 400, api.CodeBadRequest, [3]uint64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &raftLogFake{fakeCluster: newFake(funded(false))}
			f.setLeader(follows("http://127.0.0.1:1")) // a follower: a forward would fail
			n := startNode(t, f, clusterConfig(t, adminToken))
			auth := ""
			if tt.auth != "" {
				auth = "Bearer " + tt.auth
			}
			r := send(t, "GET", n.url+"/v1/admin/raft/log"+tt.query, nil, "Authorization", auth)
			calls := f.calls()
			if tt.status != 200 {
				wantError(t, r, tt.status, tt.code)
				if len(calls) != 0 {
					t.Errorf("RaftLog called %v for a refused request", calls)
				}
				return
			}
			if r.code != http.StatusOK || len(calls) != 1 || calls[0] != tt.want {
				t.Fatalf("GET%s = %d %s, calls %v; want 200 and one call with %v", tt.query, r.code, r.body, calls, tt.want)
			}
			var lg api.RaftLog
			if err := json.Unmarshal(r.body, &lg); err != nil {
				t.Fatal(err)
			}
			if lg.CommitIndex != 80 || (tt.want[2] > 0) != (len(lg.Digests) == 2) || len(lg.Digests) > 0 && lg.Digests[1].Digest != (ledger.Hash{2}) {
				t.Fatalf("answer = %+v, want the backend's", lg)
			}
		})
	}
}

// A backend that is not a Raft node has no digests to give.
func TestRaftLogUnsupported(t *testing.T) {
	n := startNode(t, newFake(funded(false)), clusterConfig(t, adminToken))
	r := send(t, "GET", n.url+"/v1/admin/raft/log", nil, "Authorization", "Bearer "+adminToken)
	wantError(t, r, http.StatusNotFound, api.CodeNotFound)
}
