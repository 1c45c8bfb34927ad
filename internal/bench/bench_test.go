package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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

func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig()
	if err := ok.Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
	bad := map[string]func(*Config){
		"workload":    func(c *Config) { c.Workload = "fast" },
		"duration":    func(c *Config) { c.Duration = 0 },
		"accounts":    func(c *Config) { c.Accounts = 0 },
		"concurrency": func(c *Config) { c.Concurrency = 0 },
		"batch 0":     func(c *Config) { c.Batch = 0 },
		"batch big":   func(c *Config) { c.Batch = MaxBatch + 1 },
		"rate":        func(c *Config) { c.Rate = -1 },
		"state":       func(c *Config) { c.StateAccounts = -1 },
		"presign":     func(c *Config) { c.Presign = MaxPresign + 1 },
		"too long":    func(c *Config) { c.Duration = time.Hour },
	}
	for name, change := range bad {
		c := ok
		change(&c)
		if err := c.Validate(); !errors.Is(err, ErrBadConfig) {
			t.Errorf("%s: Validate() = %v, want ErrBadConfig", name, err)
		}
	}
}

func TestPresignSizing(t *testing.T) {
	c := Config{Duration: 10 * time.Second, Batch: 1000}
	if got, want := c.presign(), 630_000; got != want { // 10 s at MaxRate, 5% more, whole batches
		t.Errorf("closed loop presign() = %d, want %d", got, want)
	}
	c.Rate = 1000
	if got := c.presign(); got != 11_000 {
		t.Errorf("open loop at 1,000/s presign() = %d, want 11,000", got)
	}
	c.Presign = 77
	if got := c.presign(); got != 77 {
		t.Errorf("presign() = %d, want Presign's 77", got)
	}
}

// TestPresign checks every workload's transactions: signed, each sender's
// nonces gapless per chain from where they were, and the right calls.
func TestPresign(t *testing.T) {
	registry := ledger.Address{9}
	for _, w := range Workloads {
		t.Run(w, func(t *testing.T) {
			accts := newAccounts(5)
			accts[0].hot, accts[0].cold = 10, 3
			start := map[ledger.Address][2]uint64{}
			for _, a := range accts {
				start[a.key.Address] = [2]uint64{a.hot, a.cold}
			}
			txs := presign("c", accts, 200, false, generator(w, registry))
			next := map[ledger.Address]*[2]uint64{}
			for a, n := range start {
				next[a] = &n
			}
			kinds := map[string]int{}
			for i, tx := range txs {
				if _, err := tx.Verify(); err != nil {
					t.Fatalf("tx %d: %v", i, err)
				}
				n := next[tx.From]
				if tx.Nonce != n[tx.Chain-ledger.Hot] {
					t.Fatalf("tx %d: nonce %d on chain %v, want %d", i, tx.Nonce, tx.Chain, n[tx.Chain-ledger.Hot])
				}
				n[tx.Chain-ledger.Hot]++
				kinds[tx.Chain.String()+" "+tx.Function]++
				if w == Contract && tx.Contract != registry {
					t.Fatalf("tx %d calls %s, want the registry", i, tx.Contract)
				}
			}
			want := map[string]map[string]int{
				Native:   {"hot transfer": 200},
				VM:       {"hot transfer": 200},
				Contract: {"hot register": 200},
				Cold:     {"cold transfer": 200},
				Mixed:    {"hot transfer": 180, "hot settle": 10, "cold deposit": 10},
			}[w]
			if !equalCounts(kinds, want) {
				t.Errorf("kinds = %v, want %v", kinds, want)
			}
		})
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// fakeNode answers submissions as a node with ?wait=commit would: after
// delay, every transaction committed on the native path, except those
// whose nonce is a multiple of failEvery (refused as nonce_too_low).
type fakeNode struct {
	delay     time.Duration
	failEvery uint64
	requests  atomic.Int64
}

func (f *fakeNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	body, _ := io.ReadAll(r.Body)
	var txs []*ledger.Tx
	if err := ledger.Unmarshal(body, &txs); err != nil {
		tx, err := ledger.DecodeTx(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		txs = []*ledger.Tx{tx}
	}
	time.Sleep(f.delay)
	res := make([]api.TxResult, len(txs))
	for i, tx := range txs {
		res[i] = api.TxResult{ID: tx.ID(), Status: "committed", Receipt: &ledger.Receipt{TxID: tx.ID(), Path: ledger.PathNative}}
		if f.failEvery > 0 && tx.Nonce%f.failEvery == 0 {
			res[i] = api.TxResult{ID: tx.ID(), Status: "rejected", Error: &api.ErrorBody{Code: "nonce_too_low", Message: "no"}}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(api.SubmitResponse{Results: res})
}

func transfers(n int) []*ledger.Tx {
	accts := newAccounts(10)
	return presign("c", accts, n, false, generator(Native, ledger.Address{}))
}

// TestClosedLoop checks a closed loop's counts and latencies against a
// node that takes 20 ms per batch and refuses one transaction in 10.
func TestClosedLoop(t *testing.T) {
	f := &fakeNode{delay: 20 * time.Millisecond, failEvery: 10}
	srv := httptest.NewServer(f)
	defer srv.Close()
	l := &load{c: client.New(srv.URL), batches: batches(transfers(2000), 100), concurrency: 4} // until they run out
	l.run(context.Background())
	var r Result
	l.result(&r)
	// 10 senders, nonces 0..199 each: nonces 0, 10, ... 190 fail, 20 each.
	if r.Submitted != 2000 || r.Committed != 1800 || r.Errors != 200 || r.ErrorKinds["nonce_too_low"] != 200 || !r.RanOut {
		t.Errorf("submitted %d, committed %d, errors %d %v, ran out %v; want 2,000, 1,800, 200 nonce_too_low, true",
			r.Submitted, r.Committed, r.Errors, r.ErrorKinds, r.RanOut)
	}
	if r.Paths["native"] != 1800 {
		t.Errorf("paths = %v, want native 1,800", r.Paths)
	}
	if r.P50 < 20 || r.P99 < r.P50 || r.Max < r.P99 || len(r.CDF) != len(cdfQuantiles) {
		t.Errorf("p50 %g, p99 %g, max %g ms, %d CDF points; want p50 >= 20 ms, ordered, %d points", r.P50, r.P99, r.Max, len(r.CDF), len(cdfQuantiles))
	}
	if got := f.requests.Load(); got != 20 {
		t.Errorf("%d requests, want 20 batches of 100", got)
	}
	if r.PerSec <= 0 || r.PerSec > 1800/0.1 { // 20 batches of 20 ms on 4 workers take at least 100 ms
		t.Errorf("committed/s = %g, want more than 0 and at most 18,000", r.PerSec)
	}
}

// TestOpenLoopCountsQueueing offers batches twice as fast as one worker
// can take them: latency runs from when a batch was due, so it grows with
// the queue instead of staying at the node's 50 ms.
func TestOpenLoopCountsQueueing(t *testing.T) {
	f := &fakeNode{delay: 50 * time.Millisecond}
	srv := httptest.NewServer(f)
	defer srv.Close()
	l := &load{c: client.New(srv.URL), batches: batches(transfers(400), 10), rate: 400, duration: time.Minute, concurrency: 1}
	l.run(context.Background())
	var r Result
	l.result(&r)
	if r.Committed != 400 {
		t.Fatalf("committed %d, want 400", r.Committed)
	}
	// Batch k is due at 25k ms and done at 50(k+1) ms: the last waited ~1 s.
	if r.Max < 800 || r.P50 < 300 {
		t.Errorf("p50 %g ms, max %g ms; want the queue's wait counted (max ~1,000 ms, p50 ~500 ms)", r.P50, r.Max)
	}
}

// TestDurationEndsTheLoad gives a closed loop more batches than fit in its
// duration: it stops submitting when the duration ends.
func TestDurationEndsTheLoad(t *testing.T) {
	f := &fakeNode{delay: 30 * time.Millisecond}
	srv := httptest.NewServer(f)
	defer srv.Close()
	l := &load{c: client.New(srv.URL), batches: batches(transfers(1000), 10), duration: 200 * time.Millisecond, concurrency: 1}
	l.run(context.Background())
	var r Result
	l.result(&r)
	if r.RanOut || r.Submitted >= 1000 || r.Submitted < 30 {
		t.Errorf("submitted %d, ran out %v; want about 70 batches' worth and not run out", r.Submitted, r.RanOut)
	}
}

func TestTransportErrorsAreCounted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":{"code":"mempool_full","message":"full"}}`))
	}))
	defer srv.Close()
	l := &load{c: client.New(srv.URL), batches: batches(transfers(50), 10), duration: time.Minute, concurrency: 2}
	l.run(context.Background())
	var r Result
	l.result(&r)
	if r.Committed != 0 || r.Errors != 50 || r.ErrorKinds["mempool_full"] != 50 {
		t.Errorf("committed %d, errors %d %v; want 0, 50 mempool_full", r.Committed, r.Errors, r.ErrorKinds)
	}
}

func TestResultKind(t *testing.T) {
	rc := func(s ledger.Status) *ledger.Receipt { return &ledger.Receipt{Status: s} }
	tests := []struct {
		r    api.TxResult
		want string
	}{
		{api.TxResult{Status: "committed", Receipt: rc(ledger.StatusOK)}, ""},
		{api.TxResult{Status: "committed", Receipt: rc(ledger.StatusInsufficientFunds)}, "receipt insufficient_funds"},
		{api.TxResult{Status: "committed"}, "no receipt"},
		{api.TxResult{Status: "pending"}, "status pending"},
		{api.TxResult{Error: &api.ErrorBody{Code: "bad_signature"}}, "bad_signature"},
	}
	for _, tt := range tests {
		if got := resultKind(tt.r); got != tt.want {
			t.Errorf("resultKind(%+v) = %q, want %q", tt.r, got, tt.want)
		}
	}
}

func TestVerifyLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("measures for a second")
	}
	if got := VerifyLimit(400 * time.Millisecond); got < 1000 {
		t.Errorf("VerifyLimit = %g signatures/s, want at least 1,000 on any machine", got)
	}
}

func TestWriteResultAndStudy(t *testing.T) {
	r := Result{Workload: Native, Nodes: 3, Store: "redis", Exec: "native", Accounts: 4096, StateSize: 4096, Concurrency: 8, Batch: 1000,
		Seconds: 10, Submitted: 300_000, Committed: 299_000, PerSec: 29_900, P50: 120, P90: 200, P99: 310.5, Max: 400,
		Errors: 1000, ErrorKinds: map[string]int64{"timeout": 1000}, Paths: map[string]int64{"native": 299_000},
		VerifyLimit: 120_000, OfLimit: 29_900.0 / 120_000}
	var b bytes.Buffer
	if err := WriteResult(&b, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"native on 3 node(s), redis store", "29,900", "p99 310 ms", "timeout 1,000", "native 299,000", "120,000 signatures/s", "24.9%"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("WriteResult lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	s := Study{VerifyLimit: 120_000, Rows: []StudyRow{{Name: "native + Redis state", Study: 4820, Ratio: 29_900.0 / 4820, Result: r}, {Name: "VM + Redis state", Result: r}}}
	if err := WriteStudy(&b, s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"native + Redis state", "4,820", "6×", "—", "24.9%"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("WriteStudy lacks %q:\n%s", want, b.String())
		}
	}
}

func TestCheckExec(t *testing.T) {
	for _, tt := range []struct {
		workload, exec string
		ok             bool
	}{
		{Native, "native", true}, {Native, "vm", false}, {VM, "vm", true}, {VM, "native", false},
		{Contract, "vm", true}, {Contract, "native", true}, {Cold, "both", true}, {Mixed, "vm", false},
	} {
		c := &conn{status: api.Status{Exec: tt.exec}}
		if err := c.checkExec(tt.workload); (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrWrongExec)) {
			t.Errorf("checkExec(%s) on --exec %s = %v, want ok %v", tt.workload, tt.exec, err, tt.ok)
		}
	}
}
