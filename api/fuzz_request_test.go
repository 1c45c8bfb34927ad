package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/api/apitest"
)

// fuzzMethods are the methods FuzzRequest picks from.
var fuzzMethods = []string{"GET", "POST", "DELETE", "PUT"}

// fuzzServer returns a leading node's handler over a fresh funded backend,
// with the admin endpoints on, and the fake cluster behind it.
func fuzzServer() (http.Handler, *fakeCluster) {
	f := newFake(funded(true))
	cfg := api.TestConfig()
	cfg.AdminToken = adminToken
	return api.New(f, cfg).Handler(), f
}

// FuzzRequest sends arbitrary requests (method, path and query, body,
// content type, with or without the admin token) through the whole
// handler: every path value and query parameter parser, the body
// decoders, the admin bodies. Nothing panics or becomes an internal error,
// and every error is JSON with a code, a message and the code's status.
func FuzzRequest(f *testing.F) {
	tx := apitest.Transfer(alice, 0, bob.Address, 5)
	single, _ := json.Marshal(api.NewTxJSON(tx))
	seeds := []struct {
		method uint8
		target string
		ct     string
		body   []byte
	}{
		{0, "/v1/status", "", nil},
		{0, "/v1/blocks?from=1&to=3", "", nil},
		{0, "/v1/blocks/1?writes=true", "", nil},
		{0, "/v1/blocks/latest", "", nil},
		{0, "/v1/transactions/" + tx.ID().String(), "", nil},
		{0, "/v1/accounts/" + alice.Address.String() + "?consistency=strong", "", nil},
		{0, "/v1/cold/accounts/" + alice.Address.String(), "", nil},
		{0, "/v1/cold/proofs/" + alice.Address.String() + "?height=1", "", nil},
		{0, "/v1/cold/blocks/1", "", nil},
		{0, "/v1/bridge/transfers/" + tx.ID().String(), "", nil},
		{0, "/v1/audit", "", nil},
		{0, "/v1/admin/members", "", nil},
		{0, "/v1/admin/raft/log?from=1&to=9&every=2", "", nil},
		{1, "/v1/transactions?wait=commit", api.MediaJSON, single},
		{1, "/v1/transactions", api.MediaCBOR, tx.Encode()},
		{1, "/v1/admin/members", api.MediaJSON, []byte(`{"id":"n3","raft_addr":"h:1","url":"http://h:2","voter":true}`)},
		{1, "/v1/admin/leadership", api.MediaJSON, []byte(`{"to":"n2"}`)},
		{2, "/v1/admin/members/n2", "", nil},
		{3, "/v1/status", "", nil},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.ct, s.body, true)
	}
	f.Fuzz(func(t *testing.T, method uint8, target, ct string, body []byte, token bool) {
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		req, err := http.NewRequest(fuzzMethods[int(method)%len(fuzzMethods)], "http://node"+target, bytes.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		req.Header.Set("Content-Type", ct)
		if token {
			req.Header.Set("Authorization", "Bearer "+adminToken)
		}
		h, _ := fuzzServer()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkFuzzAnswer(t, req, rec)
	})
}

// checkFuzzAnswer fails unless an answer is no internal error, and an
// error answer is a JSON error whose code maps to its status.
func checkFuzzAnswer(t *testing.T, req *http.Request, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("%s %s = %d %s, want no server error", req.Method, req.URL, rec.Code, rec.Body)
	}
	if rec.Code < 400 {
		return
	}
	var e api.ErrorResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("%s %s = %d %q, want a JSON error with a code and a message", req.Method, req.URL, rec.Code, rec.Body)
	}
	if e.Error.Code != api.CodeRejected && api.StatusFor(e.Error.Code) != rec.Code {
		t.Fatalf("%s %s = %d with code %s, whose status is %d", req.Method, req.URL, rec.Code, e.Error.Code, api.StatusFor(e.Error.Code))
	}
}

// FuzzAdminMember sends arbitrary bodies to POST /v1/admin/members: the
// cluster is asked to add a member exactly when the body is one strict
// JSON member with an id, a Raft address and a URL, and then with that
// member.
func FuzzAdminMember(f *testing.F) {
	for _, s := range []string{
		`{"id":"n3","raft_addr":"127.0.0.1:7003","url":"http://127.0.0.1:8003","voter":true}`,
		`{"id":"e1","raft_addr":"h:1","url":"http://h:2"}`,
		`{"id":"n3","raft_addr":"h:1","url":"http://h:2","votr":true}`,
		`{"id":"n3"}`, `{}`, `[]`, `null`, ``, `{"id":"n3","raft_addr":"h:1","url":"http://h:2"}{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		h, fc := fuzzServer()
		req := httptest.NewRequest("POST", "/v1/admin/members", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkFuzzAnswer(t, req, rec)
		var m api.Member
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		valid := dec.Decode(&m) == nil && !dec.More() && m.ID != "" && m.RaftAddr != "" && m.URL != ""
		calls := fc.recorded()
		switch {
		case valid && rec.Code != http.StatusOK:
			t.Fatalf("member %q = %d %s, want 200", body, rec.Code, rec.Body)
		case !valid && rec.Code == http.StatusOK:
			t.Fatalf("member %q = 200, want it refused", body)
		case rec.Code == http.StatusOK && (len(calls) != 1 || !strings.HasPrefix(calls[0], "AddMember")):
			t.Fatalf("member %q: cluster calls %q, want one AddMember", body, calls)
		case rec.Code != http.StatusOK && len(calls) != 0:
			t.Fatalf("refused member %q: cluster calls %q, want none", body, calls)
		}
	})
}
