package failpoint

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	var crashed []string
	r := testRegistry(&crashed)
	srv := httptest.NewServer(Handler(r))
	defer srv.Close()
	do := func(method, path, body string) (int, string) {
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		method, path, body string
		code               int
	}{
		{"PUT", "/debug/failpoints/raft-log-store", "sleep(1ms)", 204},
		{"PUT", "/debug/failpoints/raft-log-store", "boom", 400},
		{"PUT", "/debug/failpoints/nope", "crash", 404},
		{"GET", "/debug/failpoints/nope", "", 404},
		{"DELETE", "/debug/failpoints/nope", "", 404},
		{"POST", "/debug/failpoints/raft-log-store", "crash", 405},
	}
	for _, tt := range tests {
		if code, body := do(tt.method, tt.path, tt.body); code != tt.code {
			t.Errorf("%s %s %q = %d %q, want %d", tt.method, tt.path, tt.body, code, body, tt.code)
		}
	}
	r.Eval(RaftLogStore)
	code, body := do("GET", "/debug/failpoints/raft-log-store", "")
	var st Status
	if err := json.Unmarshal([]byte(body), &st); code != 200 || err != nil || st != (Status{Action: "sleep(1ms)", Hits: 1}) {
		t.Errorf("GET one = %d %q (%v), want 200 with sleep(1ms), 1 hit", code, body, err)
	}
	if code, _ := do("DELETE", "/debug/failpoints/raft-log-store", ""); code != 204 {
		t.Errorf("DELETE = %d, want 204", code)
	}
	code, body = do("GET", "/debug/failpoints", "")
	var all map[string]Status
	if err := json.Unmarshal([]byte(body), &all); code != 200 || err != nil || len(all) != len(Points) || all[RaftLogStore] != (Status{Hits: 1}) {
		t.Errorf("GET all = %d %q (%v), want every point, %s off with 1 hit", code, body, err, RaftLogStore)
	}
}
