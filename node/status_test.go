package node

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/dualchain/dualchain/internal/redistest"
)

// getHTTP GETs url from the node's API and returns the status and body.
func getHTTP(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp.StatusCode, body
}

// TestStatusStoreAndExec: GET /v1/status names the node's store and how it
// runs calls with a native function.
func TestStatusStoreAndExec(t *testing.T) {
	tests := []struct{ store, exec string }{
		{"memory", ExecNative},
		{"pebble", ExecVM},
		{"redis", ExecBoth},
	}
	for _, tt := range tests {
		t.Run(tt.store+"/"+tt.exec, func(t *testing.T) {
			cfg := TestConfig(t.TempDir())
			cfg.Store, cfg.Exec = tt.store, tt.exec
			if tt.store == "redis" {
				cfg.RedisURL = redistest.Start(t).URL()
			}
			n := startNode(t, cfg)
			code, body := getHTTP(t, n.URL()+"/v1/status")
			var st struct{ Store, Exec string }
			if err := json.Unmarshal(body, &st); code != http.StatusOK || err != nil {
				t.Fatalf("GET /v1/status = %d %s (%v)", code, body, err)
			}
			if st.Store != tt.store || st.Exec != tt.exec {
				t.Errorf("status store %q exec %q, want %q and %q", st.Store, st.Exec, tt.store, tt.exec)
			}
		})
	}
}

// TestPprofFlag: net/http/pprof is served on the API's listener only with
// Config.Pprof.
func TestPprofFlag(t *testing.T) {
	for _, on := range []bool{false, true} {
		cfg := TestConfig(t.TempDir())
		cfg.Pprof = on
		n := startNode(t, cfg)
		want := http.StatusNotFound
		if on {
			want = http.StatusOK
		}
		for _, path := range []string{"/debug/pprof/", "/debug/pprof/goroutine?debug=1"} {
			if code, body := getHTTP(t, n.URL()+path); code != want {
				t.Errorf("Pprof %v: GET %s = %d %.200s, want %d", on, path, code, body, want)
			}
		}
	}
}
