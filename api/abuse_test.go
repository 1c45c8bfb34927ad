package api_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
)

// abuseWait bounds waits for what must happen; nothing here is timed.
const abuseWait = 30 * time.Second

// TestAdminBodiesStrict checks admin bodies are decoded as strictly as
// submissions: an unknown field (a misspelt "voter" once added an edge
// node instead of a voter), trailing data and an oversized body are
// refused with a clear error, and the cluster is not asked to change.
func TestAdminBodiesStrict(t *testing.T) {
	member := `{"id":"n3","raft_addr":"127.0.0.1:7003","url":"http://127.0.0.1:8003"`
	tests := []struct {
		name, path, body string
		status           int
		code, msg        string
	}{
		{"member, misspelt field", "/v1/admin/members", member + `,"votr":true}`, 400, api.CodeBadRequest, `member: malformed JSON: json: unknown field "votr"`},
		{"member, trailing data", "/v1/admin/members", member + `}{}`, 400, api.CodeBadRequest, "member: malformed JSON: trailing data"},
		{"member, two objects", "/v1/admin/members", member + `} ` + member + `}`, 400, api.CodeBadRequest, "trailing data"},
		{"member, not an object", "/v1/admin/members", `[]`, 400, api.CodeBadRequest, "member: malformed JSON"},
		{"member, too large", "/v1/admin/members", `{"id":"` + strings.Repeat("n", 64<<10) + `"}`, 413, api.CodeTooLarge, "larger than 65536 bytes"},
		{"leadership, unknown field", "/v1/admin/leadership", `{"to":"n2","force":true}`, 400, api.CodeBadRequest, `leadership: malformed JSON: json: unknown field "force"`},
		{"leadership, trailing data", "/v1/admin/leadership", `{"to":"n2"}x`, 400, api.CodeBadRequest, "trailing data"},
		{"leadership, too large", "/v1/admin/leadership", `{"to":"` + strings.Repeat("n", 4<<10) + `"}`, 413, api.CodeTooLarge, "larger than 4096 bytes"},
	}
	for _, tt := range tests {
		for _, chunked := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/chunked=%v", tt.name, chunked), func(t *testing.T) {
				f := newFake(funded(true))
				n := startNode(t, f, clusterConfig(t, adminToken))
				r := sendAdmin(t, "POST", n.url+tt.path, tt.body, chunked)
				e := wantError(t, r, tt.status, tt.code)
				if !strings.Contains(e.Message, tt.msg) {
					t.Errorf("message = %q, want it to contain %q", e.Message, tt.msg)
				}
				wantCalls(t, "cluster", f.recorded())
			})
		}
	}
}

// TestOversizedBodyStopsReading sends, over TCP, a chunked body past the
// limit and then stops sending without ending it, as a client that waits
// for an answer before sending more does. The 413 comes at once, saying
// the connection closes: the node does not first read on into the refused
// body (which, with no read timeout, would wait forever). The connection
// itself is closed when the client closes it or the node's read timeout
// ends it, as net/http reads a little of the rest first.
func TestOversizedBodyStopsReading(t *testing.T) {
	f := newFake(funded(true))
	n := startNode(t, f, clusterConfig(t, adminToken))
	limit := api.TestConfig().MaxBodyBytes
	for _, tt := range []struct{ method, path string }{
		{"POST", "/v1/transactions"},
		{"POST", "/v1/admin/members"},
	} {
		t.Run(tt.path, func(t *testing.T) {
			conn, err := net.Dial("tcp", strings.TrimPrefix(n.url, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if err := conn.SetDeadline(time.Now().Add(abuseWait)); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: n\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
				tt.method, tt.path, adminToken)
			chunk := strings.Repeat(" ", int(limit)+1)
			fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk) // and no last chunk
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("read answer: %v, want a 413", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			wantError(t, response{resp.StatusCode, resp.Header, body}, 413, api.CodeTooLarge)
			if !resp.Close {
				t.Errorf("answer does not close the connection; want it closed after refusing the body")
			}
		})
	}
}

// TestLimitListener holds n connections open: a further one is not
// accepted until one of them closes, and closing the listener ends a
// waiting Accept.
func TestLimitListener(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const n = 3
	ln := api.LimitListener(inner, n)
	accepted := make(chan net.Conn, n+1)
	acceptErr := make(chan error, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				acceptErr <- err
				return
			}
			accepted <- c
		}
	}()
	for range n + 1 {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	var served []net.Conn
	for range n {
		select {
		case c := <-accepted:
			served = append(served, c)
		case <-time.After(abuseWait):
			t.Fatalf("accepted %d connections, want %d", len(served), n)
		}
	}
	select {
	case <-accepted:
		t.Fatalf("accepted connection %d with %d open, want it to wait", n+1, n)
	case <-time.After(100 * time.Millisecond): // it never comes while they are open
	}
	served[0].Close()
	served[0].Close() // a second Close must not free a second slot
	select {
	case c := <-accepted:
		defer c.Close()
	case <-time.After(abuseWait):
		t.Fatal("a freed slot did not let the waiting connection in")
	}
	extra, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	select {
	case <-accepted:
		t.Fatalf("accepted another connection after one was closed twice, want one slot freed, not two")
	case <-time.After(100 * time.Millisecond):
	}
	ln.Close()
	select {
	case err := <-acceptErr:
		if !strings.Contains(err.Error(), "closed") {
			t.Errorf("Accept after Close = %v, want a closed-listener error", err)
		}
	case <-time.After(abuseWait):
		t.Fatal("Accept went on waiting after Close")
	}
}

// TestProxyOversizedBody sends a follower an admin body past its
// MaxBodyBytes: the follower, which proxies admin requests to the leader,
// refuses it itself with 413 too_large (it was 400 bad_request with
// net/http's text), and the leader never hears of it.
func TestProxyOversizedBody(t *testing.T) {
	lb, fb := newFake(funded(false)), newFake(funded(false))
	leader, follower := pair(t, lb, fb, clusterConfig(t, adminToken), clusterConfig(t, adminToken))
	body := `{"id":"` + strings.Repeat("n", int(api.TestConfig().MaxBodyBytes)) + `"}`
	for _, chunked := range []bool{false, true} {
		r := sendAdmin(t, "POST", follower.url+"/v1/admin/members", body, chunked)
		wantError(t, r, 413, api.CodeTooLarge)
	}
	wantCalls(t, "leader", lb.recorded())
	wantCalls(t, "leader HTTP", leader.requests())
}
