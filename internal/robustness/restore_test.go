package robustness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/internal/localcluster"
)

// fakeNode serves the two things restoredAfterRestart reads of a node:
// its refill counters in /metrics and its /v1/status.
func fakeNode(t *testing.T, rebuilds, restores float64, status func() api.Status) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/metrics":
			fmt.Fprintf(w, "# TYPE %s counter\n%s %v\n# TYPE %s counter\n%s %v\n",
				metricRebuilds, metricRebuilds, rebuilds, metricRestores, metricRestores, restores)
		case "/v1/status":
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(status())
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// envOf returns an Env over a one-node cluster whose node answers at url.
func envOf(t *testing.T, url string, effect time.Duration) *Env {
	t.Helper()
	dir := t.TempDir()
	m := map[string]any{"chain_id": "test", "store": "memory", "nodes": []localcluster.Node{{ID: "n1", URL: url, Data: dir, Args: []string{"/bin/false", "node"}}}}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, localcluster.ManifestFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := localcluster.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Cluster: c, Effect: effect}
}

// A node restarted on an empty Redis before it took any snapshot refills
// its store by replaying the log: no counter moves, but it catches up.
// The wait must end there, not at the Effect bound (which the first
// soak's 60-second "recovery" was).
func TestRestoredAfterRestartByLogReplay(t *testing.T) {
	var polls atomic.Int32
	srv := fakeNode(t, 0, 0, func() api.Status {
		if polls.Add(1) < 3 {
			return api.Status{Height: 0}
		}
		return api.Status{Height: 42, CaughtUp: true}
	})
	e := envOf(t, srv.URL, time.Minute)
	start := time.Now()
	got, err := e.restoredAfterRestart(context.Background(), "n1", "n1 restarted")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "replaying the log") || !strings.Contains(got, "height 42") {
		t.Errorf("evidence %q: want the log replay and its height", got)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %v: the wait ran to its bound", d)
	}
}

func TestRestoredAfterRestartByRestore(t *testing.T) {
	srv := fakeNode(t, 0, 1, func() api.Status { return api.Status{} })
	got, err := envOf(t, srv.URL, time.Minute).restoredAfterRestart(context.Background(), "n1", "n1 restarted")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "refilled ("+metricRebuilds) {
		t.Errorf("evidence %q: want the counters", got)
	}
}

// A node that neither refills nor catches up has not recovered: that is
// an error now, where it used to pass with a note.
func TestRestoredAfterRestartNeverCaughtUp(t *testing.T) {
	srv := fakeNode(t, 0, 0, func() api.Status { return api.Status{Height: 9} })
	_, err := envOf(t, srv.URL, 300*time.Millisecond).restoredAfterRestart(context.Background(), "n1", "n1 restarted")
	if !errors.Is(err, ErrNotRecovered) {
		t.Fatalf("err %v: want ErrNotRecovered", err)
	}
}
