package robustness

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/dualchain/dualchain/ledger"
)

// blockNode is a node as ClusterLedger.Nodes reads it, which leads: its
// status, its audit's heads, and its hot and cold blocks up to its heads
// but for those it lacks ("hot 3", "cold 2"). It serves no Raft log.
type blockNode struct {
	hot, cold uint64
	complete  bool // its status's archive_complete
	lacks     map[string]bool
}

func (n blockNode) serve(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		path := r.URL.Path
		switch {
		case path == "/v1/status":
			json.NewEncoder(w).Encode(api.Status{Height: n.hot, ArchiveComplete: n.complete, Leader: true, Term: 1})
		case path == "/v1/audit":
			json.NewEncoder(w).Encode(api.Audit{HotHeight: n.hot, ColdHeight: n.cold})
		case strings.HasPrefix(path, "/v1/cold/blocks/"):
			h := n.cold
			if at := strings.TrimPrefix(path, "/v1/cold/blocks/"); at != "latest" {
				h, _ = strconv.ParseUint(at, 10, 64)
			}
			if n.held("cold", h, n.cold, w) {
				json.NewEncoder(w).Encode(ledger.ColdBlock{Header: ledger.ColdHeader{Height: h, StateRoot: ledger.Hash{byte(h)}}})
			}
		case strings.HasPrefix(path, "/v1/blocks/"):
			h, _ := strconv.ParseUint(strings.TrimPrefix(path, "/v1/blocks/"), 10, 64)
			if n.held("hot", h, n.hot, w) {
				json.NewEncoder(w).Encode(api.BlockView{Height: h, Commitment: ledger.Hash{byte(h)}})
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// held reports whether the node holds block h of chain, else answers
// not_found.
func (n blockNode) held(chain string, h, head uint64, w http.ResponseWriter) bool {
	if h >= 1 && h <= head && !n.lacks[fmt.Sprintf("%s %d", chain, h)] {
		return true
	}
	w.WriteHeader(http.StatusNotFound)
	json.NewEncoder(w).Encode(api.ErrorResponse{Error: api.ErrorBody{Code: api.CodeNotFound, Message: "no such block"}})
	return false
}

// TestClusterLedgerReport: a converged member must hold every sampled
// block, the leader's heads among them; only hot blocks it lacks while
// it backfills below a snapshot are left out, and counted.
func TestClusterLedgerReport(t *testing.T) {
	const hot, cold = 10, 4
	hs, cs := sampleHeights(hot, 4), sampleHeights(cold, 4) // 2, 5..10; 1..4
	lacks := func(blocks ...string) map[string]bool {
		m := map[string]bool{}
		for _, b := range blocks {
			m[b] = true
		}
		return m
	}
	for _, tt := range []struct {
		name               string
		node               blockNode
		err                string // a part of Err; "" for none
		hotN, coldN, skipN int
	}{
		{"holds all", blockNode{hot: hot, cold: cold, complete: true}, "", 7, 4, 0},
		{"lacks hot blocks, archive complete", blockNode{hot: hot, cold: cold, complete: true, lacks: lacks("hot 2", "hot 10")},
			"lacks 2 sampled blocks a converged member holds (blocks hot 2, hot 10)", 5, 4, 0},
		{"lacks hot blocks, backfilling", blockNode{hot: hot, cold: cold, lacks: lacks("hot 2", "hot 5", "hot 6")}, "", 4, 4, 3},
		{"lacks a cold block, backfilling", blockNode{hot: hot, cold: cold, lacks: lacks("cold 2")}, "(blocks cold 2)", 7, 3, 0},
		{"behind the leader's heads", blockNode{hot: hot - 1, cold: cold, complete: true},
			"its heads are hot 9 and cold 4, below the leader's 10 and 4", 6, 4, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := tt.node.serve(t)
			l := &ClusterLedger{ep: newEndpoints([]localcluster.Node{{ID: "n1", URL: srv.URL}}), Timeout: 200 * time.Millisecond}
			r := l.report(t.Context(), "n1", hot, cold, hs, cs)
			if tt.err == "" && r.Err != "" || !strings.Contains(r.Err, tt.err) {
				t.Errorf("report(%s).Err = %q, want %q", tt.name, r.Err, tt.err)
			}
			if len(r.Hot) != tt.hotN || len(r.Cold) != tt.coldN || r.Skipped != tt.skipN {
				t.Errorf("report(%s) = %d hot, %d cold, %d skipped; want %d, %d, %d", tt.name, len(r.Hot), len(r.Cold), r.Skipped, tt.hotN, tt.coldN, tt.skipN)
			}
		})
	}
}

// A member that answers nothing has Err too.
func TestClusterLedgerReportDown(t *testing.T) {
	srv := blockNode{}.serve(t)
	srv.Close()
	l := &ClusterLedger{ep: newEndpoints([]localcluster.Node{{ID: "n1", URL: srv.URL}}), Timeout: 100 * time.Millisecond}
	r := l.report(t.Context(), "n1", 10, 4, sampleHeights(10, 4), sampleHeights(4, 4))
	if !strings.Contains(r.Err, "its heads:") || !strings.Contains(r.Err, "no block answered at 11 sampled heights") || len(r.Hot)+len(r.Cold) != 0 {
		t.Errorf("report(down node) = %+v, want no points and an Err naming its heads and the blocks that did not answer", r)
	}
}

// Without the admin token Nodes still returns what the nodes hold, and
// says the Raft logs went uncompared: Check then compares the blocks and
// fails on the error.
func TestClusterLedgerNodesWithoutToken(t *testing.T) {
	srv := blockNode{hot: 10, cold: 4, complete: true}.serve(t)
	l := &ClusterLedger{ep: newEndpoints([]localcluster.Node{{ID: "n1", URL: srv.URL}}), Samples: 4}
	reports, err := l.Nodes(t.Context())
	if !errors.Is(err, errNoToken) || len(reports) != 1 || reports[0].Err != "" || len(reports[0].Hot) != 7 || len(reports[0].Cold) != 4 {
		t.Errorf("Nodes() without a token = %+v, %v; want n1's 7 hot and 4 cold points and %v", reports, err, errNoToken)
	}
}
