package robustness

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/dualchain/dualchain/ledger"
)

// fakeLog serves GET /v1/admin/raft/log for a node whose log holds
// first..commit, digesting index i as {byte(i)} (or tampered at bad), and
// records the digest requests.
func fakeLog(t *testing.T, first, commit, bad uint64, asked *[]string, mu *sync.Mutex) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		q := r.URL.Query()
		from, _ := strconv.ParseUint(q.Get("from"), 10, 64)
		to, _ := strconv.ParseUint(q.Get("to"), 10, 64)
		every, _ := strconv.ParseUint(q.Get("every"), 10, 64)
		lg := api.RaftLog{FirstIndex: first, LastIndex: commit + 3, CommitIndex: commit}
		if every > 0 {
			mu.Lock()
			*asked = append(*asked, r.URL.RawQuery)
			mu.Unlock()
			for i := max(from, first); i <= min(to, commit); i++ {
				d := ledger.Hash{byte(i)}
				if i == bad {
					d[1] = 1
				}
				lg.Digests = append(lg.Digests, api.RaftLogDigest{Index: i, Digest: d})
			}
		}
		json.NewEncoder(w).Encode(lg)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Nodes asks every member for digests over the range all of them hold,
// with one step, and the checker's points come out of it: equal where the
// logs are, different at a tampered index.
func TestClusterLedgerLogReports(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	n1 := fakeLog(t, 3, 40, 0, &asked, &mu)
	n2 := fakeLog(t, 10, 35, 20, &asked, &mu)
	l := &ClusterLedger{ep: newEndpoints([]localcluster.Node{{ID: "n1", URL: n1.URL}, {ID: "n2", URL: n2.URL}}), token: "tok"}
	logs, errs, err := l.logReports(t.Context(), []string{"n1", "n2"})
	if len(errs) != 0 || err != nil {
		t.Fatalf("logReports errors = %v, %v", errs, err)
	}
	if from, to, n := l.LogRange(); from != 10 || to != 35 || n != 26 {
		t.Fatalf("LogRange() = %d, %d, %d; want 10, 35, 26", from, to, n)
	}
	want := "from=10&to=35&every=1"
	if len(asked) != 2 || asked[0] != want || asked[1] != want {
		t.Fatalf("digest requests = %q, want two of %q", asked, want)
	}
	if len(logs["n1"]) != 26 || len(logs["n2"]) != 26 {
		t.Fatalf("points: n1 %d, n2 %d; want 26 each", len(logs["n1"]), len(logs["n2"]))
	}
	differ := 0
	for k, p := range logs["n1"] {
		if p != logs["n2"][k] {
			differ++
		}
	}
	if differ != 1 {
		t.Fatalf("%d points differ, want 1 (the tampered index 20)", differ)
	}

	// Without the token the ledger reports no digests, and says it could
	// not: a run must not pass with nothing compared.
	l.token = ""
	if logs, errs, err := l.logReports(t.Context(), []string{"n1", "n2"}); len(logs) != 0 || len(errs) != 0 || !errors.Is(err, errNoToken) {
		t.Fatalf("logReports without a token = %v, %v, %v; want no points and %v", logs, errs, err, errNoToken)
	}
}

// Members whose logs share no committed range (n1 committed up to 8, n2
// holds entries from 10 on) cannot be compared: that is an error naming
// what each holds, not a report of nothing.
func TestClusterLedgerNoLogRange(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	n1 := fakeLog(t, 1, 8, 0, &asked, &mu)
	n2 := fakeLog(t, 10, 35, 0, &asked, &mu)
	l := &ClusterLedger{ep: newEndpoints([]localcluster.Node{{ID: "n1", URL: n1.URL}, {ID: "n2", URL: n2.URL}}), token: "tok"}
	logs, errs, err := l.logReports(t.Context(), []string{"n1", "n2"})
	if len(logs) != 0 || len(errs) != 0 || !errors.Is(err, errNoLogRange) || !strings.Contains(fmt.Sprint(err), "n1 1..8, n2 10..35") {
		t.Fatalf("logReports(no shared range) = %v, %v, %v; want no points and %v naming n1 1..8, n2 10..35", logs, errs, err, errNoLogRange)
	}
	if len(asked) != 0 {
		t.Errorf("digest requests = %q, want none", asked)
	}
}
