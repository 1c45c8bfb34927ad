package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/dualchain/dualchain/client"
)

// Admin's client sends the token, the one it came from does not; RaftLog
// asks for the range it is given and decodes the answer.
func TestAdminRaftLog(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("Authorization")+" "+r.URL.RequestURI())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"first_index":1,"last_index":9,"commit_index":8,"floor_index":0,"digests":[{"index":8,"digest":"` +
			"0100000000000000000000000000000000000000000000000000000000000000" + `"}]}`))
	}))
	defer srv.Close()
	plain := client.New(srv.URL)
	lg, err := plain.Admin("tok").RaftLog(context.Background(), 2, 8, 4)
	if err != nil || lg.CommitIndex != 8 || len(lg.Digests) != 1 || lg.Digests[0].Index != 8 || lg.Digests[0].Digest[0] != 1 {
		t.Fatalf("RaftLog = %+v, %v; want commit 8 and one digest at 8", lg, err)
	}
	if _, err := plain.RaftLog(context.Background(), 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	want := []string{"Bearer tok /v1/admin/raft/log?from=2&to=8&every=4", " /v1/admin/raft/log?from=0&to=0&every=0"}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("requests = %q, want %q", got, want)
	}
}
