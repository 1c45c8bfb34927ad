package api

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dualchain/dualchain/ledger"
)

// Cluster is implemented by a backend that is one node of a replicated
// cluster, where one node, the leader, orders transactions. The server then
// forwards what only the leader can do: a follower checks a submission's
// signatures itself, hands the transactions to the leader and answers as
// the leader did, so a client sees no difference but latency.
type Cluster interface {
	// Leader returns the leader's API base URL, or self when this node is
	// the leader. With no leader known it fails with a coded error.
	Leader(ctx context.Context) (url string, self bool, err error)
	// Linearize confirms with a quorum that this node is the leader and
	// waits until it has applied every committed entry: a read after it
	// sees every write acknowledged before it began.
	Linearize(ctx context.Context) error
	// WaitHeight waits until this node has applied the hot block at height.
	WaitHeight(ctx context.Context, height uint64) error

	// Members lists the cluster's members; the leader changes them.
	Members(ctx context.Context) ([]Member, error)
	AddMember(ctx context.Context, m Member) error
	RemoveMember(ctx context.Context, id string) error
	// TransferLeadership hands leadership to member id, or to the most
	// up-to-date voter if id is empty.
	TransferLeadership(ctx context.Context, id string) error
}

// Member is one node of a cluster, as the admin endpoints show it.
type Member struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr"`
	URL      string `json:"url,omitempty"` // its API, when known
	Voter    bool   `json:"voter"`         // false: an edge node (a Raft non-voter)
}

// Headers between the nodes of a cluster.
const (
	// HeaderForwarded marks a request a node forwarded to the leader. The
	// leader never forwards it again: if it is no longer the leader it
	// answers not_leader, which reaches the client (the Go client resends).
	HeaderForwarded = "Dualchain-Forwarded"
)

// Codes of the cluster endpoints and of forwarding.
const (
	CodeNoLeader      = "no_leader"
	CodeNotLeader     = "not_leader"
	CodeUnauthorized  = "unauthorized"
	CodeAdminDisabled = "admin_disabled"
)

func init() {
	codeStatus[CodeNoLeader] = http.StatusServiceUnavailable
	codeStatus[CodeNotLeader] = http.StatusServiceUnavailable
	codeStatus[CodeUnauthorized] = http.StatusUnauthorized
	codeStatus[CodeAdminDisabled] = http.StatusForbidden
}

// verifiedKey marks a context whose transactions' signatures were checked
// by the node that forwarded them.
type verifiedKey struct{}

// SignaturesVerified reports whether the transactions of a Submit call
// were forwarded by another node of the cluster that checked their
// signatures (on a request carrying the cluster's token), so the backend
// need not check them again.
func SignaturesVerified(ctx context.Context) bool {
	v, _ := ctx.Value(verifiedKey{}).(bool)
	return v
}

// leaderWait bounds how long a request waits for an election to end.
const leaderWait = 3 * time.Second

// route tells where a request that needs the leader goes: "" to serve it
// here, or the leader's URL. It waits a little for an election to finish.
// A forwarded request is never forwarded again.
func (s *Server) route(r *http.Request) (string, error) {
	c, ok := s.b.(Cluster)
	if !ok {
		return "", nil
	}
	deadline := time.Now().Add(leaderWait)
	for {
		url, self, err := c.Leader(r.Context())
		switch {
		case err == nil && self:
			return "", nil
		case err == nil && r.Header.Get(HeaderForwarded) != "":
			return "", errorf(CodeNotLeader, "this node is not the leader (the leader is at "+url+"); retry", nil)
		case err == nil:
			return url, nil
		case time.Now().After(deadline) || r.Context().Err() != nil:
			return "", err
		}
		select {
		case <-r.Context().Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// authorized reports whether r carries the cluster's admin token.
func (s *Server) authorized(r *http.Request) error {
	if s.cfg.AdminToken == "" {
		return errorf(CodeAdminDisabled, "admin endpoints are disabled: start the node with an admin token", nil)
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.AdminToken)) != 1 {
		return errorf(CodeUnauthorized, "missing or wrong admin token (Authorization: Bearer TOKEN)", nil)
	}
	return nil
}

// forwardSubmit hands a submission to the leader at url. The signatures
// are checked here, once; the leader trusts a forward that carries the
// cluster's token. With wait, it also waits until this node has applied
// the blocks the leader reported, so a read here right after sees them.
func (s *Server) forwardSubmit(w http.ResponseWriter, r *http.Request, url string, txs []*ledger.Tx, wait bool) {
	sub := &submission{s: s, r: r, res: make([]TxResult, len(txs))}
	valid, at := sub.verified(txs)
	if len(valid) > 0 {
		if err := sub.forward(url, valid, at, wait); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	s.countSubmitted(sub.res)
	if wait {
		sub.waitApplied(txs)
	}
	s.logErrors(r, &sub.errs)
	s.writeSubmit(w, r, sub.res)
}

// verified rejects the transactions that are malformed or badly signed and
// returns the others with their positions.
func (sub *submission) verified(txs []*ledger.Tx) ([]*ledger.Tx, []int) {
	txs, pos := sub.validated(txs)
	ids, errs := ledger.VerifyBatch(txs)
	valid := make([]*ledger.Tx, 0, len(txs))
	at := make([]int, 0, len(txs))
	for j, tx := range txs {
		if errs[j] != nil {
			sub.reject(pos[j], ids[j], requestError(errs[j]))
			continue
		}
		valid, at = append(valid, tx), append(at, pos[j])
	}
	return valid, at
}

// forward posts txs to the leader and copies its results into place.
func (sub *submission) forward(url string, txs []*ledger.Tx, at []int, wait bool) error {
	body, err := ledger.Marshal(txs)
	if err != nil {
		return err
	}
	path := "/v1/transactions"
	if wait {
		path += "?wait=commit"
	}
	var resp SubmitResponse
	if err := sub.s.forwardRequest(sub.r, http.MethodPost, url+path, body, MediaCBOR, &resp); err != nil {
		return err
	}
	if len(resp.Results) != len(txs) {
		return fmt.Errorf("api: leader answered %d results for %d transactions", len(resp.Results), len(txs))
	}
	for j, i := range at {
		sub.res[i] = resp.Results[j]
	}
	return nil
}

// waitApplied waits until this node has applied the highest hot block,
// and the highest cold block, the leader reported one of txs committed in.
func (sub *submission) waitApplied(txs []*ledger.Tx) {
	var hot, cold uint64
	for i, res := range sub.res {
		switch {
		case res.Status != StatusCommitted:
		case txs[i].Chain == ledger.Cold:
			cold = max(cold, res.Block)
		default:
			hot = max(hot, res.Block)
		}
	}
	ctx, cancel := context.WithTimeout(sub.r.Context(), sub.s.cfg.WaitTimeout)
	defer cancel()
	if c, ok := sub.s.b.(Cluster); ok && hot > 0 {
		if err := c.WaitHeight(ctx, hot); err != nil {
			sub.s.log.Warn("forwarded transactions committed, but this node has not applied them yet", "height", hot, "err", err)
		}
	}
	if cb, ok := sub.s.b.(ColdBackend); ok && cold > 0 {
		for {
			if _, err := cb.ColdBlock(ctx, cold); err == nil {
				break
			}
			select {
			case <-ctx.Done():
				sub.s.log.Warn("forwarded cold transactions committed, but this node has not applied them yet", "cold_height", cold)
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
}

// forwardRequest sends one request to the leader, marked forwarded and
// carrying the cluster's token, and decodes its JSON answer into out. An
// error answer from the leader comes back as that coded error (its body,
// such as a rejected submission's results, is still decoded into out).
func (s *Server) forwardRequest(r *http.Request, method, url string, body []byte, contentType string, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(r.Context(), method, url, rd)
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", MediaJSON)
	req.Header.Set(HeaderForwarded, "1")
	if s.cfg.AdminToken != "" {
		req.Header.Set("Authorization", "Bearer "+s.cfg.AdminToken)
	}
	resp, err := s.forwarder.Do(req)
	if err != nil {
		return errorf(CodeNoLeader, fmt.Sprintf("forward to the leader at %s: %v; retry", url, err), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, s.cfg.MaxBodyBytes*4))
	if err != nil {
		return errorf(CodeNoLeader, fmt.Sprintf("read the leader's answer: %v; retry", err), err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return json.Unmarshal(data, out)
	}
	if err := json.Unmarshal(data, out); err == nil {
		if sr, ok := out.(*SubmitResponse); ok && len(sr.Results) > 0 {
			return nil // every transaction rejected: the results say why
		}
	}
	var e ErrorResponse
	if json.Unmarshal(data, &e) != nil || e.Error.Code == "" {
		return fmt.Errorf("api: leader answered %s", resp.Status)
	}
	if e.Error.Code == CodeUnauthorized {
		// The nodes' tokens differ: the cluster's fault, not the client's.
		return fmt.Errorf("api: the leader at %s refused this node's admin token: give every node the same --admin-token", url)
	}
	return errorf(e.Error.Code, e.Error.Message, nil)
}

// proxy serves r by sending it to the leader at url and copying the answer.
func (s *Server) proxy(w http.ResponseWriter, r *http.Request, url string) {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(limitBody(w, r, s.cfg.MaxBodyBytes)); err != nil {
			s.writeError(w, r, bodyError(err, s.cfg.MaxBodyBytes))
			return
		}
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, url+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for _, h := range []string{"Content-Type", "Accept", "Authorization"} {
		if v := r.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	req.Header.Set(HeaderForwarded, "1")
	resp, err := s.forwarder.Do(req)
	if err != nil {
		s.writeError(w, r, errorf(CodeNoLeader, fmt.Sprintf("forward to the leader at %s: %v; retry", url, err), err))
		return
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.WriteHeader(resp.StatusCode)
	if _, err := io.Copy(w, resp.Body); err != nil {
		s.log.Debug("copy the leader's answer", "err", err)
	}
}

// consistency reads ?consistency=: "local" (the default) serves reads from
// this node's state; "strong" serves them as the leader sees them after
// confirming it still leads, so they reflect every acknowledged write.
func (s *Server) strong(r *http.Request) (bool, error) {
	switch v := r.URL.Query().Get("consistency"); v {
	case "", "local":
		return false, nil
	case "strong":
		return true, nil
	default:
		return false, errorf(CodeBadRequest, fmt.Sprintf("consistency=%q: want local or strong", v), nil)
	}
}

// reads wraps a read handler with ?consistency=strong: on the leader it
// linearizes first, on a follower it forwards the read to the leader.
func (s *Server) reads(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		strong, err := s.strong(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		c, ok := s.b.(Cluster)
		if !strong || !ok {
			h(w, r)
			return
		}
		url, err := s.route(r)
		switch {
		case err != nil:
			s.writeError(w, r, err)
		case url != "":
			s.proxy(w, r, url)
		default:
			if err := c.Linearize(r.Context()); err != nil {
				s.writeError(w, r, err)
				return
			}
			h(w, r)
		}
	}
}

// admin wraps an admin handler: the token is required, and what changes
// membership runs on the leader.
func (s *Server) admin(onLeader bool, h func(w http.ResponseWriter, r *http.Request, c Cluster)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.authorized(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		c, ok := s.b.(Cluster)
		if !ok {
			s.writeError(w, r, errorf(CodeNotFound, "this node is not part of a cluster", nil))
			return
		}
		if onLeader {
			url, err := s.route(r)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			if url != "" {
				s.proxy(w, r, url)
				return
			}
		}
		h(w, r, c)
	}
}

func (s *Server) getMembers(w http.ResponseWriter, r *http.Request, c Cluster) {
	ms, err := c.Members(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, struct {
		Members []Member `json:"members"`
	}{ms})
}

func (s *Server) addMember(w http.ResponseWriter, r *http.Request, c Cluster) {
	var m Member
	if err := decodeAdminBody(w, r, 64<<10, "member", false, &m); err != nil {
		s.writeError(w, r, err)
		return
	}
	if m.ID == "" || m.RaftAddr == "" || m.URL == "" {
		s.writeError(w, r, errorf(CodeBadRequest, "member needs id, raft_addr and url", nil))
		return
	}
	if err := c.AddMember(r.Context(), m); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, m)
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request, c Cluster) {
	if err := c.RemoveMember(r.Context(), r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) transferLeadership(w http.ResponseWriter, r *http.Request, c Cluster) {
	var req struct {
		To string `json:"to"`
	}
	if err := decodeAdminBody(w, r, 4<<10, "leadership", true, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := c.TransferLeadership(r.Context(), req.To); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// DefaultRaftLogEvery is the segment length of GET /v1/admin/raft/log's
// digests when the request names none.
const DefaultRaftLogEvery = 64

// getRaftLog serves GET /v1/admin/raft/log?from=&to=&every=: the node's
// Raft log bounds and digests of its committed entries (every=0: the
// bounds only). Read-only; the admin token is required, as the log holds
// every transaction.
func (s *Server) getRaftLog(w http.ResponseWriter, r *http.Request, _ Cluster) {
	rb, ok := s.b.(RaftLogBackend)
	if !ok {
		s.writeError(w, r, errorf(CodeNotFound, "this node serves no Raft log digests", nil))
		return
	}
	q := r.URL.Query()
	var from, to, every uint64 = 0, 0, DefaultRaftLogEvery
	for _, p := range []struct {
		name string
		v    *uint64
	}{{"from", &from}, {"to", &to}, {"every", &every}} {
		if !q.Has(p.name) {
			continue
		}
		v, err := strconv.ParseUint(q.Get(p.name), 10, 64)
		if err != nil {
			s.writeError(w, r, errorf(CodeBadRequest, fmt.Sprintf("%s=%q: want a log index (a non-negative integer)", p.name, q.Get(p.name)), nil))
			return
		}
		*p.v = v
	}
	if to != 0 && from > to {
		s.writeError(w, r, errorf(CodeBadRequest, fmt.Sprintf("from=%d is past to=%d", from, to), nil))
		return
	}
	lg, err := rb.RaftLog(r.Context(), from, to, every)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, lg)
}
