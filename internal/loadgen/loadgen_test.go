package loadgen

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/ledger"
)

func TestPercentile(t *testing.T) {
	lat := []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	if got := Percentile(lat, 0.5); got != 6 {
		t.Errorf("p50 = %v, want 6", got)
	}
	if got := Percentile(lat, 0.99); got != 10 {
		t.Errorf("p99 = %v, want 10", got)
	}
	if got := Percentile(nil, 0.5); got != 0 {
		t.Errorf("p50 of nothing = %v, want 0", got)
	}
}

// A closed loop sends every transaction once, in batches, and reports a
// batch the node did not commit.
func TestClosedLoop(t *testing.T) {
	keys := []*ledger.Key{ledger.KeyFromSeed(make([]byte, 32)), ledger.KeyFromSeed([]byte(strings.Repeat("k", 32)))}
	txs := Presign(keys, "c", 10)
	var batches, sent atomic.Int32
	var status atomic.Value
	status.Store("committed")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in []ledger.Tx
		body, _ := io.ReadAll(r.Body)
		if err := ledger.Unmarshal(body, &in); err != nil {
			t.Errorf("batch: %v", err)
		}
		batches.Add(1)
		sent.Add(int32(len(in)))
		out := make([]string, len(in))
		for i := range in {
			out[i] = `{"id":"` + in[i].ID().String() + `","status":"` + status.Load().(string) + `","block":1,"index":0,"receipt":{"status":"ok","gas_used":1,"path":"native","events":[]}}`
		}
		w.Header().Set("Content-Type", api.MediaJSON)
		w.Write([]byte(`{"results":[` + strings.Join(out, ",") + `]}`))
	}))
	defer srv.Close()
	c := client.New(srv.URL)
	lat, err := ClosedLoop(c, txs, 4, 2)
	if err != nil || len(lat) != 3 || batches.Load() != 3 || sent.Load() != 10 {
		t.Fatalf("ClosedLoop = %d latencies, %v; %d batches, %d txs; want 3, nil, 3, 10", len(lat), err, batches.Load(), sent.Load())
	}
	status.Store("pending")
	if _, err := ClosedLoop(c, txs[:4], 4, 1); err == nil {
		t.Fatal("ClosedLoop of a batch left pending = nil error, want one")
	}
}
