package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/api/apitest"
	"github.com/dualchain/dualchain/ledger"
)

// fakeCluster is an apitest.Backend that plays one node of a cluster
// with no Raft: the test sets who leads and what the cluster methods
// answer, and it records the calls that matter (Submit, the reads, the
// cluster methods) in order, Leader apart (route polls it).
type fakeCluster struct {
	*apitest.Backend

	mu         sync.Mutex
	leader     func(call int) (url string, self bool, err error) // nil: this node leads
	leaderN    int                                               // Leader calls so far
	linearize  error
	waitHeight func(ctx context.Context) error // nil: applied at once
	heights    []uint64                        // if set, Wait reports the ith record at heights[i]
	members    []api.Member
	adminErr   error // the answer of AddMember, RemoveMember and TransferLeadership
	calls      []string
}

var _ api.Cluster = (*fakeCluster)(nil)

func newFake(b *apitest.Backend) *fakeCluster { return &fakeCluster{Backend: b} }

func (f *fakeCluster) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

// recorded returns the calls so far, Leader apart.
func (f *fakeCluster) recorded() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// reset forgets the calls so far.
func (f *fakeCluster) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls, f.leaderN = nil, 0
}

func (f *fakeCluster) leaderCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.leaderN
}

func (f *fakeCluster) setLeader(fn func(call int) (string, bool, error)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.leader = fn
}

func (f *fakeCluster) Leader(ctx context.Context) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.leaderN
	f.leaderN++
	if f.leader == nil {
		return "", true, nil
	}
	return f.leader(n)
}

func (f *fakeCluster) Linearize(ctx context.Context) error {
	f.record("Linearize")
	return f.linearize
}

func (f *fakeCluster) WaitHeight(ctx context.Context, height uint64) error {
	f.record("WaitHeight %d", height)
	if f.waitHeight == nil {
		return nil
	}
	return f.waitHeight(ctx)
}

func (f *fakeCluster) Members(ctx context.Context) ([]api.Member, error) {
	f.record("Members")
	return f.members, nil
}

func (f *fakeCluster) AddMember(ctx context.Context, m api.Member) error {
	f.record("AddMember %+v", m)
	return f.adminErr
}

func (f *fakeCluster) RemoveMember(ctx context.Context, id string) error {
	f.record("RemoveMember %q", id)
	return f.adminErr
}

func (f *fakeCluster) TransferLeadership(ctx context.Context, id string) error {
	f.record("TransferLeadership %q", id)
	return f.adminErr
}

func (f *fakeCluster) Submit(ctx context.Context, txs []*ledger.Tx) ([]ledger.Hash, []error) {
	f.record("%s", submitCall(api.SignaturesVerified(ctx), txs...))
	return f.Backend.Submit(ctx, txs)
}

// submitCall is how fakeCluster records a Submit of txs.
func submitCall(verified bool, txs ...*ledger.Tx) string {
	ids := make([]string, len(txs))
	for i, tx := range txs {
		id := tx.ID()
		ids[i] = fmt.Sprintf("%x", id[:4])
	}
	return fmt.Sprintf("Submit verified=%v %s", verified, strings.Join(ids, " "))
}

func (f *fakeCluster) Wait(ctx context.Context, ids []ledger.Hash) []api.WaitResult {
	out := f.Backend.Wait(ctx, ids)
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range out {
		if out[i].Record != nil && i < len(f.heights) {
			rec := *out[i].Record
			rec.Height = f.heights[i]
			out[i].Record = &rec
		}
	}
	return out
}

func (f *fakeCluster) Tx(ctx context.Context, id ledger.Hash) (*ledger.TxRecord, error) {
	f.record("Tx")
	return f.Backend.Tx(ctx, id)
}

func (f *fakeCluster) Block(ctx context.Context, h uint64) (*ledger.Block, error) {
	f.record("Block %d", h)
	return f.Backend.Block(ctx, h)
}

func (f *fakeCluster) Account(ctx context.Context, a ledger.Address) (ledger.Account, error) {
	f.record("Account")
	return f.Backend.Account(ctx, a)
}

// follows makes a node's Leader answer that the leader is at url.
func follows(url string) func(int) (string, bool, error) {
	return func(int) (string, bool, error) { return url, false, nil }
}

var errNoLeader = apitest.Errorf(api.CodeNoLeader, "no leader: an election is under way")

// electedAfter makes Leader fail with no_leader n times, then answer
// url (or self if url is "").
func electedAfter(n int, url string) func(int) (string, bool, error) {
	return func(call int) (string, bool, error) {
		if call < n {
			return "", false, errNoLeader
		}
		return url, url == "", nil
	}
}

// node is one API server of a test cluster, on a real HTTP listener.
type node struct {
	url string

	mu   sync.Mutex
	reqs []string // the requests it received, "METHOD URI", " forwarded" if marked
}

func clusterConfig(t *testing.T, tok string) api.Config {
	cfg := api.TestConfig()
	cfg.Logger = testLogger(t)
	cfg.AdminToken = tok
	return cfg
}

// startNode serves b over HTTP until the test ends.
func startNode(t *testing.T, b api.Backend, cfg api.Config) *node {
	n := &node{}
	h := api.New(b, cfg).Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		line := r.Method + " " + r.URL.RequestURI()
		if r.Header.Get(api.HeaderForwarded) != "" {
			line += " forwarded"
		}
		n.mu.Lock()
		n.reqs = append(n.reqs, line)
		n.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	n.url = srv.URL
	return n
}

func (n *node) reset() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.reqs = nil
}

func (n *node) requests() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.reqs...)
}

// pair starts a leader over lb and a follower over fb that knows it.
func pair(t *testing.T, lb, fb *fakeCluster, leaderCfg, followerCfg api.Config) (leader, follower *node) {
	leader = startNode(t, lb, leaderCfg)
	fb.setLeader(follows(leader.url))
	return leader, startNode(t, fb, followerCfg)
}

// funded returns a fresh backend where alice and bob hold 100.
func funded(autoCommit bool) *apitest.Backend { return apitest.Funded(autoCommit, 100, alice, bob) }

const adminToken = "s3cret"

var clusterClient = &http.Client{Timeout: 10 * time.Second}

// send makes one request over HTTP; header holds name, value pairs.
func send(t *testing.T, method, url string, body []byte, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] != "" {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := clusterClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: data}
}

// submitResponse decodes a submission's answer, JSON or CBOR.
func submitResponse(t *testing.T, r response) api.SubmitResponse {
	t.Helper()
	if r.header.Get("Content-Type") != api.MediaCBOR {
		return decode[api.SubmitResponse](t, r)
	}
	var resp api.SubmitResponse
	if err := ledger.Unmarshal(r.body, &resp); err != nil {
		t.Fatalf("decode CBOR answer: %v", err)
	}
	return resp
}

func mempool(t *testing.T, b api.Backend) int {
	t.Helper()
	st, err := b.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st.Mempool
}

func wantCalls(t *testing.T, who string, got []string, want ...string) {
	t.Helper()
	if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
		t.Errorf("%s calls = %q, want %q", who, got, want)
	}
}

// badTxs returns a badly signed transaction and a malformed one.
func badTxs() (tampered, invalid *ledger.Tx) {
	tampered = apitest.Transfer(carol, 0, bob.Address, 5)
	tampered.Nonce = 7 // the signature no longer matches
	invalid = apitest.Transfer(bob, 0, alice.Address, 5)
	invalid.Function = ""
	invalid.Sign(bob.Private)
	return tampered, invalid
}

// TestClusterForwardSubmit checks that a follower answers a submission as
// the leader alone would (a differential test against a plain server),
// handing the leader only the well-formed, well-signed transactions.
func TestClusterForwardSubmit(t *testing.T) {
	good0, good1 := apitest.Transfer(alice, 0, bob.Address, 5), apitest.Transfer(alice, 1, bob.Address, 6)
	fromBob := apitest.Transfer(bob, 0, alice.Address, 1)
	gap := apitest.Transfer(alice, 9, bob.Address, 1) // the leader refuses it: nonce_too_high
	tampered, invalid := badTxs()
	tests := []struct {
		name      string
		ct        string
		accept    string
		body      []byte
		status    int
		forwarded []*ledger.Tx // what the leader's Submit gets; nil: nothing reaches the leader
	}{
		{"json single", api.MediaJSON, "", jsonTx(t, good0), 200, []*ledger.Tx{good0}},
		{"json batch", api.MediaJSON, "", jsonBatch(t, good0, tampered, invalid, good1), 200, []*ledger.Tx{good0, good1}},
		{"cbor single", api.MediaCBOR, "", good0.Encode(), 200, []*ledger.Tx{good0}},
		{"cbor batch", api.MediaCBOR, "", cborBatch(t, tampered, good0, fromBob, invalid, good1), 200, []*ledger.Tx{good0, fromBob, good1}},
		{"cbor batch, cbor answer", api.MediaCBOR, api.MediaCBOR, cborBatch(t, good0, tampered, fromBob), 200, []*ledger.Tx{good0, fromBob}},
		{"leader refuses some", api.MediaCBOR, "", cborBatch(t, good0, gap, tampered), 200, []*ledger.Tx{good0, gap}},
		{"leader refuses all", api.MediaCBOR, "", cborBatch(t, gap), 409, []*ledger.Tx{gap}},
		{"refused here and there", api.MediaCBOR, "", cborBatch(t, gap, tampered), 400, []*ledger.Tx{gap}},
		{"badly signed", api.MediaJSON, "", jsonTx(t, tampered), 400, nil},
		{"malformed tx", api.MediaJSON, "", jsonTx(t, invalid), 400, nil},
		{"none valid", api.MediaCBOR, "", cborBatch(t, invalid, tampered), 400, nil},
		{"malformed body", api.MediaJSON, "", []byte(`{"chain_id":`), 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lb, fb := newFake(funded(false)), newFake(funded(false))
			leader, follower := pair(t, lb, fb, clusterConfig(t, adminToken), clusterConfig(t, adminToken))
			ref := funded(false)
			alone := startNode(t, ref, clusterConfig(t, ""))

			hdr := []string{"Content-Type", tt.ct, "Accept", tt.accept}
			got := send(t, "POST", follower.url+"/v1/transactions", tt.body, hdr...)
			want := send(t, "POST", alone.url+"/v1/transactions", tt.body, hdr...)
			if got.code != tt.status || want.code != tt.status {
				t.Fatalf("status = %d, alone %d, want %d (%s)", got.code, want.code, tt.status, got.body)
			}
			if ct, wct := got.header.Get("Content-Type"), want.header.Get("Content-Type"); ct != wct {
				t.Errorf("Content-Type = %q, alone %q", ct, wct)
			}
			if g, w := submitResponse(t, got), submitResponse(t, want); !reflect.DeepEqual(g, w) {
				t.Errorf("follower answered %+v, a leader alone %+v", g, w)
			}

			if tt.forwarded == nil {
				wantCalls(t, "leader", lb.recorded())
				wantCalls(t, "leader HTTP", leader.requests())
			} else {
				wantCalls(t, "leader", lb.recorded(), submitCall(true, tt.forwarded...))
				wantCalls(t, "leader HTTP", leader.requests(), "POST /v1/transactions forwarded")
			}
			wantCalls(t, "follower", fb.recorded())
			if n, want := mempool(t, lb), mempool(t, ref); n != want {
				t.Errorf("leader's mempool = %d, want %d", n, want)
			}
			if n := mempool(t, fb); n != 0 {
				t.Errorf("follower's mempool = %d, want 0", n)
			}
		})
	}
}

// TestClusterForwardToken checks what the leader makes of a forward: it
// trusts the follower's signature checks only with the cluster's token,
// refuses a forward with a wrong or missing one when it has a token, and
// checks again when it has none.
func TestClusterForwardToken(t *testing.T) {
	good := apitest.Transfer(alice, 0, bob.Address, 5)
	tampered, _ := badTxs()
	tests := []struct {
		name                       string
		leaderToken, followerToken string
		status                     int
		code                       string // the client's error, if any
		verified                   bool   // SignaturesVerified on the leader
	}{
		{"same token", adminToken, adminToken, 200, "", true},
		// The nodes' tokens differ: a misconfigured cluster, an internal
		// error to the client (and logged), not the client's fault.
		{"wrong token", adminToken, "guess", 500, api.CodeInternal, false},
		{"follower without token", adminToken, "", 500, api.CodeInternal, false},
		{"leader without token", "", adminToken, 200, "", false},
		{"no token", "", "", 200, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lb, fb := newFake(funded(false)), newFake(funded(false))
			leader, follower := pair(t, lb, fb, clusterConfig(t, tt.leaderToken), clusterConfig(t, tt.followerToken))
			r := send(t, "POST", follower.url+"/v1/transactions", cborBatch(t, good, tampered), "Content-Type", api.MediaCBOR)
			wantCalls(t, "leader HTTP", leader.requests(), "POST /v1/transactions forwarded")
			wantCalls(t, "follower", fb.recorded())
			if tt.code != "" {
				wantError(t, r, tt.status, tt.code)
				wantCalls(t, "leader", lb.recorded())
				return
			}
			if r.code != tt.status {
				t.Fatalf("status = %d, want %d (%s)", r.code, tt.status, r.body)
			}
			checkItems(t, decode[api.SubmitResponse](t, r).Results, []*ledger.Tx{good, tampered}, []string{"", api.CodeBadSignature})
			wantCalls(t, "leader", lb.recorded(), submitCall(tt.verified, good))
		})
	}
}

// TestClusterForwardWaitCommit checks ?wait=commit through a follower: the
// leader waits for the commit, and the follower for the highest block the
// results are in, answering the results even if it has not applied it.
func TestClusterForwardWaitCommit(t *testing.T) {
	good0, good1 := apitest.Transfer(alice, 0, bob.Address, 5), apitest.Transfer(alice, 1, bob.Address, 6)
	fromBob := apitest.Transfer(bob, 0, alice.Address, 1)
	tampered, _ := badTxs()
	body := cborBatch(t, good0, tampered, good1, fromBob)
	txs := []*ledger.Tx{good0, tampered, good1, fromBob}
	tests := []struct {
		name       string
		heights    []uint64 // the leader's record heights, by position among the forwarded
		waitHeight func(context.Context) error
		blocks     []uint64 // each result's block; 0: not committed
		applied    uint64   // the height the follower waits for
		slow       bool     // the follower's wait times out
	}{
		{"one block", nil, nil, []uint64{1, 0, 1, 1}, 1, false},
		{"highest block", []uint64{4, 9, 6}, nil, []uint64{4, 0, 9, 6}, 9, false},
		{"not applied in time", nil, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, []uint64{1, 0, 1, 1}, 1, true},
		{"apply fails", nil, func(context.Context) error { return errors.New("raft: shut down") }, []uint64{1, 0, 1, 1}, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lb, fb := newFake(funded(true)), newFake(funded(false))
			lb.heights, fb.waitHeight = tt.heights, tt.waitHeight
			fcfg := clusterConfig(t, adminToken)
			fcfg.WaitTimeout = 50 * time.Millisecond
			leader, follower := pair(t, lb, fb, clusterConfig(t, adminToken), fcfg)
			start := time.Now()
			r := send(t, "POST", follower.url+"/v1/transactions?wait=commit", body, "Content-Type", api.MediaCBOR)
			if r.code != 200 {
				t.Fatalf("status = %d, want 200 (%s)", r.code, r.body)
			}
			if d := time.Since(start); tt.slow && d < fcfg.WaitTimeout {
				t.Errorf("answered after %v, before the follower's wait of %v ended", d, fcfg.WaitTimeout)
			}
			res := decode[api.SubmitResponse](t, r).Results
			checkCommitted(t, res, txs, tt.blocks)
			wantCalls(t, "leader HTTP", leader.requests(), "POST /v1/transactions?wait=commit forwarded")
			wantCalls(t, "leader", lb.recorded(), submitCall(true, good0, good1, fromBob))
			wantCalls(t, "follower", fb.recorded(), fmt.Sprintf("WaitHeight %d", tt.applied))
		})
	}
	t.Run("as a leader alone", func(t *testing.T) {
		_, follower := pair(t, newFake(funded(true)), newFake(funded(false)), clusterConfig(t, adminToken), clusterConfig(t, adminToken))
		alone := startNode(t, funded(true), clusterConfig(t, ""))
		got := send(t, "POST", follower.url+"/v1/transactions?wait=commit", body, "Content-Type", api.MediaCBOR, "Accept", api.MediaCBOR)
		want := send(t, "POST", alone.url+"/v1/transactions?wait=commit", body, "Content-Type", api.MediaCBOR, "Accept", api.MediaCBOR)
		if got.code != 200 || want.code != 200 || !bytes.Equal(got.body, want.body) {
			t.Errorf("follower answered %d %x, a leader alone %d %x", got.code, got.body, want.code, want.body)
		}
	})
	t.Run("nothing committed", func(t *testing.T) {
		lb, fb := newFake(funded(false)), newFake(funded(false))
		lcfg := clusterConfig(t, adminToken)
		lcfg.WaitTimeout = 20 * time.Millisecond
		_, follower := pair(t, lb, fb, lcfg, clusterConfig(t, adminToken))
		r := send(t, "POST", follower.url+"/v1/transactions?wait=commit", body, "Content-Type", api.MediaCBOR)
		if r.code != 200 {
			t.Fatalf("status = %d, want 200 (%s)", r.code, r.body)
		}
		checkItems(t, decode[api.SubmitResponse](t, r).Results, txs, []string{"", api.CodeBadSignature, "", ""})
		wantCalls(t, "follower", fb.recorded())
	})
}

// checkCommitted checks that result i is committed in blocks[i] with its
// receipt, or rejected where blocks[i] is 0.
func checkCommitted(t *testing.T, res []api.TxResult, txs []*ledger.Tx, blocks []uint64) {
	t.Helper()
	if len(res) != len(blocks) {
		t.Fatalf("%d results, want %d", len(res), len(blocks))
	}
	for i, h := range blocks {
		switch {
		case res[i].ID != txs[i].ID():
			t.Errorf("result %d id = %s, want %s", i, res[i].ID, txs[i].ID())
		case h == 0 && res[i].Status != api.StatusRejected:
			t.Errorf("result %d = %+v, want rejected", i, res[i])
		case h != 0 && (res[i].Status != api.StatusCommitted || res[i].Block != h || res[i].Receipt == nil || res[i].Receipt.TxID != txs[i].ID()):
			t.Errorf("result %d = %+v, want committed in block %d with its receipt", i, res[i], h)
		}
	}
}

// clusterRequest is one request of each kind a follower hands the leader.
type clusterRequest struct {
	name, method, path string
	body               []byte
	ct                 string
	tx                 *ledger.Tx // submitted, if any
	calls              []string   // the serving backend's calls, but Submit
}

func clusterRequests() []clusterRequest {
	tx := apitest.Transfer(alice, 0, bob.Address, 5)
	n3 := api.Member{ID: "n3", RaftAddr: "127.0.0.1:7003", URL: "http://127.0.0.1:8003", Voter: true}
	return []clusterRequest{
		{name: "submit", method: "POST", path: "/v1/transactions", body: tx.Encode(), ct: api.MediaCBOR, tx: tx},
		{name: "strong read", method: "GET", path: "/v1/accounts/" + alice.Address.String() + "?consistency=strong",
			calls: []string{"Linearize", "Account"}},
		{name: "add member", method: "POST", path: "/v1/admin/members", ct: api.MediaJSON,
			body:  []byte(`{"id":"n3","raft_addr":"127.0.0.1:7003","url":"http://127.0.0.1:8003","voter":true}`),
			calls: []string{fmt.Sprintf("AddMember %+v", n3)}},
		{name: "remove member", method: "DELETE", path: "/v1/admin/members/n3", calls: []string{`RemoveMember "n3"`}},
		{name: "transfer leadership", method: "POST", path: "/v1/admin/leadership", calls: []string{`TransferLeadership ""`}},
	}
}

// served returns the calls the backend that serves rq records; verified
// is what a Submit sees.
func (rq clusterRequest) served(verified bool) []string {
	if rq.tx != nil {
		return []string{submitCall(verified, rq.tx)}
	}
	return rq.calls
}

// TestClusterForwardedToFollower checks that a request another node
// forwarded is never forwarded again: a node that does not lead answers
// not_leader, even when it knows the leader.
func TestClusterForwardedToFollower(t *testing.T) {
	for _, rq := range clusterRequests() {
		t.Run(rq.name, func(t *testing.T) {
			lb, fb := newFake(funded(false)), newFake(funded(false))
			leader, follower := pair(t, lb, fb, clusterConfig(t, adminToken), clusterConfig(t, adminToken))
			r := send(t, rq.method, follower.url+rq.path, rq.body, "Content-Type", rq.ct,
				api.HeaderForwarded, "1", "Authorization", "Bearer "+adminToken)
			wantError(t, r, http.StatusServiceUnavailable, api.CodeNotLeader)
			wantCalls(t, "leader HTTP", leader.requests())
			wantCalls(t, "follower", fb.recorded())
			if n := fb.leaderCalls(); n != 1 {
				t.Errorf("follower's Leader called %d times, want 1", n)
			}
		})
	}
	// A follower forwards to a node that no longer leads: the client gets
	// not_leader (it resends), and the real leader hears nothing.
	t.Run("stale leader", func(t *testing.T) {
		real, stale, fb := newFake(funded(false)), newFake(funded(false)), newFake(funded(false))
		realNode := startNode(t, real, clusterConfig(t, adminToken))
		stale.setLeader(follows(realNode.url))
		staleNode, follower := pair(t, stale, fb, clusterConfig(t, adminToken), clusterConfig(t, adminToken))
		r := send(t, "POST", follower.url+"/v1/transactions", apitest.Transfer(alice, 0, bob.Address, 5).Encode(), "Content-Type", api.MediaCBOR)
		wantError(t, r, http.StatusServiceUnavailable, api.CodeNotLeader)
		wantCalls(t, "stale leader HTTP", staleNode.requests(), "POST /v1/transactions forwarded")
		wantCalls(t, "leader HTTP", realNode.requests())
		for _, b := range []*fakeCluster{real, stale, fb} {
			wantCalls(t, "backend", b.recorded())
		}
	})
}

// TestClusterElection checks that a request waits for an election that
// ends within the wait, and then goes where the new leader is: to the
// leader elected, or served here when this node was.
func TestClusterElection(t *testing.T) {
	for _, rq := range clusterRequests() {
		for _, self := range []bool{false, true} {
			name := rq.name + ", another node elected"
			if self {
				name = rq.name + ", this node elected"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel() // each waits 100 ms for its election
				lb, fb := newFake(funded(false)), newFake(funded(false))
				leader, follower := pair(t, lb, fb, clusterConfig(t, adminToken), clusterConfig(t, adminToken))
				serving, idle := lb, fb
				wantLeader := []string{rq.method + " " + rq.path + " forwarded"}
				if self {
					fb.setLeader(electedAfter(2, ""))
					serving, idle, wantLeader = fb, lb, nil
				} else {
					fb.setLeader(electedAfter(2, leader.url))
				}
				r := send(t, rq.method, follower.url+rq.path, rq.body, "Content-Type", rq.ct, "Authorization", "Bearer "+adminToken)
				if r.code != 200 && r.code != 204 {
					t.Fatalf("status = %d, want 200 or 204 (%s)", r.code, r.body)
				}
				if n := fb.leaderCalls(); n != 3 {
					t.Errorf("follower's Leader called %d times, want 3", n)
				}
				wantCalls(t, "serving backend", serving.recorded(), rq.served(!self)...)
				wantCalls(t, "the other backend", idle.recorded())
				wantCalls(t, "leader HTTP", leader.requests(), wantLeader...)
			})
		}
	}
}

// TestClusterNoLeader checks that a request that finds no leader for the
// whole wait (3 s) answers no_leader. It is the one test that waits it out.
func TestClusterNoLeader(t *testing.T) {
	t.Parallel()
	fb := newFake(funded(false))
	fb.setLeader(electedAfter(1<<30, ""))
	follower := startNode(t, fb, clusterConfig(t, adminToken))
	start := time.Now()
	r := send(t, "POST", follower.url+"/v1/transactions", apitest.Transfer(alice, 0, bob.Address, 5).Encode(), "Content-Type", api.MediaCBOR)
	wantError(t, r, http.StatusServiceUnavailable, api.CodeNoLeader)
	if d := time.Since(start); d < 3*time.Second {
		t.Errorf("answered no_leader after %v, want after the 3 s wait", d)
	}
	if n := fb.leaderCalls(); n < 10 {
		t.Errorf("Leader called %d times in 3 s, want it polled", n)
	}
	wantCalls(t, "follower", fb.recorded())
}

// TestClusterLeaderUnreachable checks that a leader that cannot be reached
// is no_leader (retry), for a submission and a proxied request alike.
func TestClusterLeaderUnreachable(t *testing.T) {
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	for _, rq := range clusterRequests() {
		t.Run(rq.name, func(t *testing.T) {
			fb := newFake(funded(false))
			fb.setLeader(follows(gone.URL))
			follower := startNode(t, fb, clusterConfig(t, adminToken))
			r := send(t, rq.method, follower.url+rq.path, rq.body, "Content-Type", rq.ct, "Authorization", "Bearer "+adminToken)
			wantError(t, r, http.StatusServiceUnavailable, api.CodeNoLeader)
			wantCalls(t, "follower", fb.recorded())
		})
	}
}

// strongReadSetup starts a leader whose chain has block 1 and a follower
// still at genesis with other balances, so their answers differ.
func strongReadSetup(t *testing.T) (lb, fb *fakeCluster, leader, follower *node, paths []string) {
	tx := apitest.Transfer(alice, 0, bob.Address, 5)
	inner := funded(true)
	if _, errs := inner.Submit(context.Background(), []*ledger.Tx{tx}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	lb, fb = newFake(inner), newFake(apitest.Funded(false, 7, alice))
	leader, follower = pair(t, lb, fb, clusterConfig(t, adminToken), clusterConfig(t, adminToken))
	paths = []string{
		"/v1/accounts/" + alice.Address.String(),
		"/v1/transactions/" + tx.ID().String(),
		"/v1/blocks/1",
		"/v1/blocks/latest",
		"/v1/blocks?from=0",
	}
	return lb, fb, leader, follower, paths
}

func TestClusterStrongReads(t *testing.T) {
	lb, fb, leader, follower, paths := strongReadSetup(t)
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			lb.reset()
			fb.reset()
			leader.reset()
			want := send(t, "GET", leader.url+path, nil) // local on the leader
			local := send(t, "GET", follower.url+path, nil)
			if want.code != 200 || bytes.Equal(local.body, want.body) {
				t.Fatalf("leader answers %d %s, follower %d %s: want 200 and a difference", want.code, want.body, local.code, local.body)
			}
			lb.reset()
			fb.reset()
			leader.reset()

			onLeader := send(t, "GET", leader.url+path+withQuery(path, "consistency=strong"), nil)
			if onLeader.code != 200 || !bytes.Equal(onLeader.body, want.body) {
				t.Errorf("strong read on the leader = %d %s, want 200 %s", onLeader.code, onLeader.body, want.body)
			}
			if calls := lb.recorded(); len(calls) < 2 || calls[0] != "Linearize" || count(calls, "Linearize") != 1 {
				t.Errorf("leader calls = %q, want Linearize once, before the read", calls)
			}
			lb.reset()
			leader.reset()

			proxied := send(t, "GET", follower.url+path+withQuery(path, "consistency=strong"), nil)
			if proxied.code != 200 || !bytes.Equal(proxied.body, want.body) {
				t.Errorf("strong read on the follower = %d %s, want the leader's 200 %s", proxied.code, proxied.body, want.body)
			}
			wantCalls(t, "leader HTTP", leader.requests(), "GET "+path+withQuery(path, "consistency=strong")+" forwarded")
			if calls := lb.recorded(); len(calls) < 2 || calls[0] != "Linearize" || count(calls, "Linearize") != 1 {
				t.Errorf("leader calls = %q, want Linearize once, before the read", calls)
			}
			wantCalls(t, "follower", fb.recorded())
		})
	}
}

func withQuery(path, q string) string {
	if strings.Contains(path, "?") {
		return "&" + q
	}
	return "?" + q
}

func count(calls []string, name string) int {
	n := 0
	for _, c := range calls {
		if c == name {
			n++
		}
	}
	return n
}

// TestClusterLocalReads checks that reads without consistency=strong, or
// with consistency=local, are this node's and never involve the leader.
func TestClusterLocalReads(t *testing.T) {
	lb, fb, leader, follower, paths := strongReadSetup(t)
	for _, path := range paths {
		onLeader := send(t, "GET", leader.url+path, nil)
		def := send(t, "GET", follower.url+path, nil)
		local := send(t, "GET", follower.url+path+withQuery(path, "consistency=local"), nil)
		if def.code != local.code || !bytes.Equal(def.body, local.body) {
			t.Errorf("GET %s = %d %s, with consistency=local %d %s, want the same", path, def.code, def.body, local.code, local.body)
		}
		if bytes.Equal(def.body, onLeader.body) {
			t.Errorf("GET %s on the follower = %s, the leader's answer", path, def.body)
		}
	}
	for _, b := range []*fakeCluster{lb, fb} {
		if n := count(b.recorded(), "Linearize"); n != 0 {
			t.Errorf("Linearize called %d times for local reads, want 0", n)
		}
	}
	if calls := fb.recorded(); len(calls) < 2*len(paths) {
		t.Errorf("follower's backend calls = %q, want it to serve every read", calls)
	}
	if n := fb.leaderCalls(); n != 0 {
		t.Errorf("Leader called %d times for local reads, want 0", n)
	}
	for _, r := range leader.requests() {
		if strings.HasSuffix(r, "forwarded") {
			t.Errorf("the leader received %q", r)
		}
	}
}

// TestClusterStrongReadErrors checks that Linearize's error is the
// answer, with no read, and that a consistency other than local or strong
// is refused before anything else.
func TestClusterStrongReadErrors(t *testing.T) {
	path := "/v1/accounts/" + alice.Address.String()
	tests := []struct {
		name      string
		query     string
		linearize error
		viaFollow bool
		status    int
		code      string
		calls     []string // the leader's
	}{
		{"lost leadership", "strong", apitest.Errorf(api.CodeNotLeader, "lost leadership"), false, 503, api.CodeNotLeader, []string{"Linearize"}},
		{"lost leadership, proxied", "strong", apitest.Errorf(api.CodeNotLeader, "lost leadership"), true, 503, api.CodeNotLeader, []string{"Linearize"}},
		{"uncoded", "strong", errors.New("raft: quorum lost"), false, 500, api.CodeInternal, []string{"Linearize"}},
		{"timeout", "strong", fmt.Errorf("verify leader: %w", context.DeadlineExceeded), false, 504, api.CodeTimeout, []string{"Linearize"}},
		{"bogus", "bogus", nil, false, 400, api.CodeBadRequest, nil},
		{"bogus on a follower", "bogus", nil, true, 400, api.CodeBadRequest, nil},
		{"upper case, on a follower", "STRONG", nil, true, 400, api.CodeBadRequest, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lb, fb := newFake(funded(false)), newFake(funded(false))
			lb.linearize = tt.linearize
			leader, follower := pair(t, lb, fb, clusterConfig(t, adminToken), clusterConfig(t, adminToken))
			target := leader
			if tt.viaFollow {
				target = follower
			}
			r := send(t, "GET", target.url+path+"?consistency="+tt.query, nil)
			wantError(t, r, tt.status, tt.code)
			wantCalls(t, "leader", lb.recorded(), tt.calls...)
			wantCalls(t, "follower", fb.recorded())
			if tt.code == api.CodeBadRequest {
				if n := fb.leaderCalls() + lb.leaderCalls(); n != 0 {
					t.Errorf("Leader called %d times for a bad request, want 0", n)
				}
				var want []string // a bad request is not proxied
				if !tt.viaFollow {
					want = []string{"GET " + path + "?consistency=" + tt.query}
				}
				wantCalls(t, "leader HTTP", leader.requests(), want...)
			}
		})
	}
}

// adminEndpoints are the admin endpoints, each with a valid request.
var adminEndpoints = []struct {
	method, path, body string
}{
	{"GET", "/v1/admin/members", ""},
	{"POST", "/v1/admin/members", `{"id":"n3","raft_addr":"127.0.0.1:7003","url":"http://127.0.0.1:8003"}`},
	{"DELETE", "/v1/admin/members/n3", ""},
	{"POST", "/v1/admin/leadership", ""},
}

func TestClusterAdminAuth(t *testing.T) {
	tests := []struct {
		name   string
		token  string // the node's
		auth   string // the request's Authorization
		status int
		code   string
	}{
		{"disabled", "", "", 403, api.CodeAdminDisabled},
		{"disabled, with a bearer", "", "Bearer " + adminToken, 403, api.CodeAdminDisabled},
		{"disabled, empty bearer", "", "Bearer ", 403, api.CodeAdminDisabled},
		{"missing", adminToken, "", 401, api.CodeUnauthorized},
		{"wrong", adminToken, "Bearer guess", 401, api.CodeUnauthorized},
		{"prefix of the token", adminToken, "Bearer " + adminToken[:3], 401, api.CodeUnauthorized},
		{"longer than the token", adminToken, "Bearer " + adminToken + "x", 401, api.CodeUnauthorized},
		{"empty", adminToken, "Bearer ", 401, api.CodeUnauthorized},
		{"lower-case scheme", adminToken, "bearer " + adminToken, 401, api.CodeUnauthorized},
		{"basic", adminToken, "Basic " + adminToken, 401, api.CodeUnauthorized},
		{"bare token", adminToken, adminToken, 401, api.CodeUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lb, fb := newFake(funded(false)), newFake(funded(false))
			lb.members = []api.Member{{ID: "n1"}}
			leader, follower := pair(t, lb, fb, clusterConfig(t, tt.token), clusterConfig(t, tt.token))
			for _, n := range []*node{leader, follower} {
				for _, e := range adminEndpoints {
					r := send(t, e.method, n.url+e.path, []byte(e.body), "Authorization", tt.auth, "Content-Type", api.MediaJSON)
					wantError(t, r, tt.status, tt.code)
				}
			}
			wantCalls(t, "leader", lb.recorded())
			wantCalls(t, "follower", fb.recorded())
			wantCalls(t, "leader HTTP", leader.requests(), "GET /v1/admin/members", "POST /v1/admin/members", "DELETE /v1/admin/members/n3", "POST /v1/admin/leadership")
			if n := lb.leaderCalls() + fb.leaderCalls(); n != 0 {
				t.Errorf("Leader called %d times for refused requests, want 0", n)
			}
		})
	}
}

// TestClusterAdmin runs each admin request on the leader and on a
// follower, which must answer alike: membership changes run on the
// leader's backend, the member list on the node asked.
func TestClusterAdmin(t *testing.T) {
	members := []api.Member{
		{ID: "n1", RaftAddr: "127.0.0.1:7001", URL: "http://127.0.0.1:8001", Voter: true},
		{ID: "e1", RaftAddr: "127.0.0.1:7101", Voter: false},
	}
	n3 := api.Member{ID: "n3", RaftAddr: "127.0.0.1:7003", URL: "http://127.0.0.1:8003", Voter: true}
	tests := []struct {
		name         string
		method, path string
		body         string
		chunked      bool // sent with no Content-Length
		adminErr     error
		status       int
		code         string   // the error's, if any
		want         any      // the JSON answer, if any
		calls        []string // on the leader, or the node asked for a read
		onLeader     bool     // the calls are the leader's even when a follower is asked
	}{
		{name: "members", method: "GET", path: "/v1/admin/members", status: 200,
			want: map[string][]api.Member{"members": members}, calls: []string{"Members"}},
		{name: "add", method: "POST", path: "/v1/admin/members", body: `{"id":"n3","raft_addr":"127.0.0.1:7003","url":"http://127.0.0.1:8003","voter":true}`,
			status: 200, want: n3, calls: []string{fmt.Sprintf("AddMember %+v", n3)}, onLeader: true},
		{name: "add edge", method: "POST", path: "/v1/admin/members", body: `{"id":"e2","raft_addr":"h:1","url":"http://h:2"}`,
			status: 200, want: api.Member{ID: "e2", RaftAddr: "h:1", URL: "http://h:2"},
			calls: []string{fmt.Sprintf("AddMember %+v", api.Member{ID: "e2", RaftAddr: "h:1", URL: "http://h:2"})}, onLeader: true},
		{name: "add without id", method: "POST", path: "/v1/admin/members", body: `{"raft_addr":"h:1","url":"http://h:2"}`, status: 400, code: api.CodeBadRequest, onLeader: true},
		{name: "add without raft_addr", method: "POST", path: "/v1/admin/members", body: `{"id":"n3","url":"http://h:2"}`, status: 400, code: api.CodeBadRequest, onLeader: true},
		{name: "add without url", method: "POST", path: "/v1/admin/members", body: `{"id":"n3","raft_addr":"h:1"}`, status: 400, code: api.CodeBadRequest, onLeader: true},
		{name: "add, malformed", method: "POST", path: "/v1/admin/members", body: `{"id":`, status: 400, code: api.CodeBadRequest, onLeader: true},
		{name: "add, no body", method: "POST", path: "/v1/admin/members", status: 400, code: api.CodeBadRequest, onLeader: true},
		{name: "add refused", method: "POST", path: "/v1/admin/members", body: `{"id":"n3","raft_addr":"127.0.0.1:7003","url":"http://127.0.0.1:8003","voter":true}`,
			adminErr: apitest.Errorf("member_exists", "n3 is at another address"), status: 400, code: "member_exists",
			calls: []string{fmt.Sprintf("AddMember %+v", n3)}, onLeader: true},
		{name: "remove", method: "DELETE", path: "/v1/admin/members/n3", status: 204, calls: []string{`RemoveMember "n3"`}, onLeader: true},
		{name: "remove fails", method: "DELETE", path: "/v1/admin/members/n3", adminErr: errors.New("raft: configuration changed"),
			status: 500, code: api.CodeInternal, calls: []string{`RemoveMember "n3"`}, onLeader: true},
		{name: "leadership to n2", method: "POST", path: "/v1/admin/leadership", body: `{"to":"n2"}`, status: 204,
			calls: []string{`TransferLeadership "n2"`}, onLeader: true},
		{name: "leadership to n2, chunked", method: "POST", path: "/v1/admin/leadership", body: `{"to":"n2"}`, chunked: true, status: 204,
			calls: []string{`TransferLeadership "n2"`}, onLeader: true},
		{name: "leadership, no body", method: "POST", path: "/v1/admin/leadership", status: 204,
			calls: []string{`TransferLeadership ""`}, onLeader: true},
		{name: "leadership, empty object", method: "POST", path: "/v1/admin/leadership", body: `{}`, status: 204,
			calls: []string{`TransferLeadership ""`}, onLeader: true},
		{name: "leadership, malformed", method: "POST", path: "/v1/admin/leadership", body: `{"to":`, status: 400, code: api.CodeBadRequest, onLeader: true},
	}
	for _, tt := range tests {
		for _, viaFollower := range []bool{false, true} {
			name := tt.name + map[bool]string{false: " on the leader", true: " on a follower"}[viaFollower]
			t.Run(name, func(t *testing.T) {
				lb, fb := newFake(funded(false)), newFake(funded(false))
				lb.members, fb.members = members, members
				lb.adminErr, fb.adminErr = tt.adminErr, tt.adminErr
				leader, follower := pair(t, lb, fb, clusterConfig(t, adminToken), clusterConfig(t, adminToken))
				target := leader
				if viaFollower {
					target = follower
				}
				r := sendAdmin(t, tt.method, target.url+tt.path, tt.body, tt.chunked)
				checkAdminAnswer(t, r, tt.status, tt.code, tt.want)

				served, other := lb, fb
				if viaFollower && !tt.onLeader {
					served, other = fb, lb
				}
				wantCalls(t, "serving node", served.recorded(), tt.calls...)
				wantCalls(t, "other node", other.recorded())
				wantLeader := []string{tt.method + " " + tt.path}
				if viaFollower {
					wantLeader = nil
					if tt.onLeader {
						wantLeader = []string{tt.method + " " + tt.path + " forwarded"}
					}
				}
				wantCalls(t, "leader HTTP", leader.requests(), wantLeader...)
			})
		}
	}
}

func sendAdmin(t *testing.T, method, url, body string, chunked bool) response {
	t.Helper()
	var rd io.Reader = strings.NewReader(body)
	if chunked {
		rd = io.MultiReader(rd) // hides the length: sent chunked
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", api.MediaJSON)
	resp, err := clusterClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: data}
}

func checkAdminAnswer(t *testing.T, r response, status int, code string, want any) {
	t.Helper()
	switch {
	case code != "":
		wantError(t, r, status, code)
	case r.code != status:
		t.Errorf("status = %d, want %d (%s)", r.code, status, r.body)
	case want == nil && len(r.body) != 0:
		t.Errorf("body = %s, want none", r.body)
	case want != nil:
		wantJSON, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if got := bytes.TrimSpace(r.body); !bytes.Equal(got, wantJSON) {
			t.Errorf("body = %s, want %s", got, wantJSON)
		}
	}
}

// TestNotACluster checks a server whose backend is not a Cluster: it
// serves every submission and read itself, strong reads included, and has
// no admin endpoints.
func TestNotACluster(t *testing.T) {
	b := funded(true)
	n := startNode(t, b, clusterConfig(t, adminToken))
	tx := apitest.Transfer(alice, 0, bob.Address, 5)

	r := send(t, "POST", n.url+"/v1/transactions?wait=commit", tx.Encode(), "Content-Type", api.MediaCBOR)
	if r.code != 200 {
		t.Fatalf("submit = %d, want 200 (%s)", r.code, r.body)
	}
	checkCommitted(t, decode[api.SubmitResponse](t, r).Results, []*ledger.Tx{tx}, []uint64{1})

	// Marked forwarded, with the token: still served here.
	tx1 := apitest.Transfer(alice, 1, bob.Address, 5)
	r = send(t, "POST", n.url+"/v1/transactions", tx1.Encode(), "Content-Type", api.MediaCBOR,
		api.HeaderForwarded, "1", "Authorization", "Bearer "+adminToken)
	if r.code != 200 {
		t.Fatalf("forwarded submit = %d, want 200 (%s)", r.code, r.body)
	}
	checkItems(t, decode[api.SubmitResponse](t, r).Results, []*ledger.Tx{tx1}, []string{""})

	path := "/v1/accounts/" + alice.Address.String()
	local := send(t, "GET", n.url+path, nil)
	strong := send(t, "GET", n.url+path+"?consistency=strong", nil)
	if local.code != 200 || strong.code != 200 || !bytes.Equal(local.body, strong.body) {
		t.Errorf("strong read = %d %s, want the local 200 %s", strong.code, strong.body, local.body)
	}
	wantError(t, send(t, "GET", n.url+path+"?consistency=bogus", nil), 400, api.CodeBadRequest)

	for _, e := range adminEndpoints {
		wantError(t, sendAdmin(t, e.method, n.url+e.path, e.body, false), 404, api.CodeNotFound)
	}
}
