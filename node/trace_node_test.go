package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/internal/redistest"
	"github.com/dualchain/dualchain/ledger"
)

// wantVMTrace checks that t is the trace of a token transfer run in the VM.
func wantVMTrace(t *testing.T, what string, tr *ledger.Trace) {
	t.Helper()
	if tr == nil || len(tr.Frames) == 0 {
		t.Fatalf("%s: trace %+v, want frames (the VM records traces with vm.Config.Trace)", what, tr)
	}
	if f := tr.Frames[0]; f.Depth != 0 || f.Function != token.FuncTransfer || f.Gas == 0 {
		t.Fatalf("%s: first frame %+v, want the %s export at depth 0, with gas", what, f, token.FuncTransfer)
	}
}

// tracesOf reads the trace of each of ids from c, both ways (the trace
// route, and the transaction with ?trace=true), which must agree.
func tracesOf(t *testing.T, c *client.Client, ids []ledger.Hash) []*ledger.Trace {
	t.Helper()
	ctx := context.Background()
	out := make([]*ledger.Trace, len(ids))
	for i, id := range ids {
		tr, err := c.Trace(ctx, id)
		if err != nil {
			t.Fatalf("Trace(%s) = %v", id, err)
		}
		v, err := c.TxWithTrace(ctx, id)
		if err != nil {
			t.Fatalf("TxWithTrace(%s) = %v", id, err)
		}
		if !reflect.DeepEqual(v.Trace, tr) {
			t.Fatalf("TxWithTrace(%s).Trace = %+v, Trace = %+v; want the same", id, v.Trace, tr)
		}
		out[i] = tr
	}
	return out
}

// sendTraced commits n transfers from f, nonces from nonce on, through c
// in batches of 5, and returns their ids and the last block.
func sendTraced(t *testing.T, c *client.Client, f *ledger.Key, to ledger.Address, nonce uint64, n int) ([]ledger.Hash, uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var ids []ledger.Hash
	var last uint64
	for sent := 0; sent < n; sent += 5 {
		var txs []*ledger.Tx
		for i := sent; i < min(n, sent+5); i++ {
			txs = append(txs, transfer(f, nonce+uint64(i), to, 1))
		}
		res, err := c.SubmitWait(ctx, txs...)
		if err != nil {
			t.Fatalf("SubmitWait = %v", err)
		}
		for i, r := range res {
			if r.Status != "committed" || r.Receipt == nil || r.Receipt.Status != ledger.StatusOK || r.Receipt.Path != ledger.PathVM {
				t.Fatalf("transfer %d = %+v, want committed ok on the VM path", i, r)
			}
			ids, last = append(ids, r.ID), max(last, r.Block)
		}
	}
	return ids, last
}

// A node run with VMTrace and Exec "vm" serves each transfer's trace: by
// its route, on its transaction and on its block range, on the memory store
// and on real Redis, and after a restart (the archive keeps them). It
// needs the VM's traces (vm.Config.Trace).
func TestNodeVMTrace(t *testing.T) {
	for _, store := range []string{"memory", "redis"} {
		t.Run(store, func(t *testing.T) {
			cfg := TestConfig(t.TempDir())
			cfg.VMTrace, cfg.Exec = true, ExecVM
			if store == "redis" {
				cfg.Store, cfg.RedisURL = "redis", redistest.Start(t).URL()
			}
			n := startNode(t, cfg)
			c := client.New(n.URL())
			f := faucet(t, cfg)
			ids, last := sendTraced(t, c, f, testKey(7).Address, 0, 12)
			traces := tracesOf(t, c, ids)
			for i, tr := range traces {
				wantVMTrace(t, fmt.Sprintf("transfer %d", i), tr)
			}
			checkBlockTraces(t, c, last, ids, traces)
			st, err := c.Status(context.Background())
			if err != nil || !st.VMTrace {
				t.Fatalf("status = %+v, %v; want vm_trace", st, err)
			}
			if store == "redis" {
				return
			}
			n.stop()
			n = startNode(t, cfg) // the memory store starts empty; the archive does not
			if again := tracesOf(t, client.New(n.URL()), ids); !reflect.DeepEqual(again, traces) {
				t.Fatalf("traces after a restart = %+v, want %+v", again, traces)
			}
		})
	}
}

// checkBlockTraces reads blocks 1..last with traces through c: each of ids
// carries its trace, in traces.
func checkBlockTraces(t *testing.T, c *client.Client, last uint64, ids []ledger.Hash, traces []*ledger.Trace) {
	t.Helper()
	want := make(map[ledger.Hash]*ledger.Trace, len(ids))
	for i, id := range ids {
		want[id] = traces[i]
	}
	seen := 0
	for from := uint64(1); from <= last; {
		page, err := c.BlockPage(context.Background(), from, last, true)
		if err != nil {
			t.Fatalf("BlockPage(%d, %d) = %v", from, last, err)
		}
		for _, b := range page.Blocks {
			for _, v := range b.Txs {
				if w, ok := want[v.ID]; ok {
					seen++
					if !reflect.DeepEqual(v.Trace, w) {
						t.Fatalf("block %d tx %s trace = %+v, want %+v", b.Height, v.ID, v.Trace, w)
					}
				}
			}
		}
		if page.Next == 0 {
			break
		}
		from = page.Next
	}
	if seen != len(ids) {
		t.Fatalf("block pages held %d of the %d transfers", seen, len(ids))
	}
}

// A node without VMTrace serves no traces, and says why: the transfer ran
// natively.
func TestNodeNoTrace(t *testing.T) {
	cfg := TestConfig(t.TempDir())
	cfg.Exec = ExecNative
	n := startNode(t, cfg)
	c := client.New(n.URL())
	rec := submitWait(t, n.Backend(), transfer(faucet(t, cfg), 0, testKey(7).Address, 1))[0]
	_, err := c.Trace(context.Background(), rec.Receipt.TxID)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != api.CodeNotFound || !strings.Contains(ce.Message, "ran natively") ||
		!strings.Contains(ce.Message, "--vm-trace") {
		t.Fatalf("Trace of a native transfer = %v, want not_found saying it ran natively and naming --vm-trace", err)
	}
	if _, err := c.Trace(context.Background(), ledger.Hash{1}); !errors.As(err, &ce) || ce.Code != api.CodeNotFound {
		t.Fatalf("Trace of an unknown tx = %v, want not_found", err)
	}
	v, err := c.TxWithTrace(context.Background(), rec.Receipt.TxID)
	if err != nil || v.Trace != nil || v.ID != rec.Receipt.TxID {
		t.Fatalf("TxWithTrace = %+v, %v; want the tx without a trace", v, err)
	}
}

// Three nodes with VMTrace and Exec "vm": a follower serves the same trace
// as the leader for every transfer, and so does every node for the
// transfers a new leader executes after leadership moves. It needs the
// VM's traces (vm.Config.Trace).
func TestClusterVMTraceReplicated(t *testing.T) {
	c := startCluster(t, 3, func(cfg *Config) { cfg.VMTrace, cfg.Exec = true, ExecVM })
	f, bob := faucet(t, c.cfgs[0]), testKey(71)
	ids, last := sendTraced(t, c.client(c.follower()), f, bob.Address, 0, 10)
	c.converged(last)
	sameTraces(t, c, ids)

	old := c.leader()
	target := c.follower()
	if code := c.admin(target, "POST", "/v1/admin/leadership", `{"to":"`+c.cfgs[target].NodeID+`"}`); code != http.StatusNoContent {
		t.Fatalf("transfer leadership = %d, want 204", code)
	}
	waitFor(t, c.cfgs[target].NodeID+" to lead", func() bool { return c.nodes[target].replica.IsLeader() })
	more, last := sendTraced(t, c.client(old), f, bob.Address, 10, 10)
	c.converged(last)
	sameTraces(t, c, append(ids, more...))
}

// sameTraces checks that every node serves the same VM trace for each id.
func sameTraces(t *testing.T, c *testCluster, ids []ledger.Hash) {
	t.Helper()
	l := c.leader()
	want := tracesOf(t, c.client(l), ids)
	for i, tr := range want {
		wantVMTrace(t, fmt.Sprintf("transfer %d on the leader", i), tr)
	}
	for i := range c.nodes {
		if i == l {
			continue
		}
		if got := tracesOf(t, c.client(i), ids); !reflect.DeepEqual(got, want) {
			t.Fatalf("traces on %s = %+v, want the leader's %+v", c.cfgs[i].NodeID, got, want)
		}
	}
}

// A dev node with DebugAPIDelay holds its /v1/ requests that long, not
// /metrics; its connection and in-flight gauges count. Without Dev the
// delay is refused.
func TestNodeDebugAPIDelay(t *testing.T) {
	cfg := TestConfig(t.TempDir())
	cfg.DebugAPIDelay = 150 * time.Millisecond
	n := startNode(t, cfg)
	c := client.New(n.URL())
	start := time.Now()
	if _, err := c.Status(context.Background()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < cfg.DebugAPIDelay {
		t.Fatalf("status took %v, want at least the delay %v", took, cfg.DebugAPIDelay)
	}
	start = time.Now()
	body := httpGet(t, n.URL()+"/metrics")
	if took := time.Since(start); took >= cfg.DebugAPIDelay {
		t.Errorf("/metrics took %v, want it served without the delay", took)
	}
	for _, m := range []string{"dualchain_api_connections_peak", "dualchain_api_requests_in_flight_peak 1"} {
		if !strings.Contains(body, m) {
			t.Errorf("/metrics lacks %q", m)
		}
	}
	if strings.Contains(body, "dualchain_api_connections_peak 0") {
		t.Error("/metrics: connections_peak is 0 after requests: ConnState is not wired")
	}

	cfg.Dev = false
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "dev nodes only") {
		t.Fatalf("Validate of a delay without Dev = %v, want it refused", err)
	}
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// The cold range serves the node's cold blocks in order, cut at its head.
func TestNodeColdBlockPage(t *testing.T) {
	cfg := TestConfig(t.TempDir())
	n := startNode(t, cfg)
	c := client.New(n.URL())
	f := faucet(t, cfg)
	for i := range uint64(3) {
		submitWait(t, n.Backend(), transfer(f, i, testKey(7).Address, 1))
		time.Sleep(cfg.CheckpointInterval) // a checkpoint of each change
	}
	waitFor(t, "3 cold blocks", func() bool { return n.cold.chain.Head().Height >= 3 })
	head := n.cold.chain.Head().Height
	page, err := c.ColdBlockPage(context.Background(), 1, head+50)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Blocks) < int(head) || page.Next != 0 {
		t.Fatalf("cold page = %d blocks, next %d; want at least the %d to the head", len(page.Blocks), page.Next, head)
	}
	for i, b := range page.Blocks {
		want, err := n.cold.chain.Block(uint64(i + 1))
		if err != nil {
			t.Fatal(err)
		}
		if b.Header != want.Header {
			t.Fatalf("cold page block %d = %+v, want %+v", i+1, b.Header, want.Header)
		}
	}
}

func TestConfigMaxBlockTxs(t *testing.T) {
	cfg := TestConfig(t.TempDir())
	cfg.MempoolSize = 2 * ledger.MaxBlockTxs
	for _, tt := range []struct {
		txs int
		ok  bool
	}{{ledger.MaxBlockTxs, true}, {ledger.MaxBlockTxs + 1, false}, {0, false}} {
		cfg.MaxBlockTxs = tt.txs
		if err := cfg.Validate(); (err == nil) != tt.ok || (err != nil && !strings.Contains(err.Error(), "1000000")) {
			t.Errorf("Validate with max block txs %d = %v, want ok %v (an error naming the limit)", tt.txs, err, tt.ok)
		}
	}
	if DefaultConfig().MaxConns < 1000 {
		t.Errorf("default max conns %d: an exporter's 1,000 workers would wait", DefaultConfig().MaxConns)
	}
}

// A block is in the store a moment before it is archived with its traces:
// a trace read in that moment waits for the archive rather than answer
// that there is none. The test holds the state machine at the crash point
// between the two (hot-applied) while it reads.
func TestTraceReadWaitsForArchive(t *testing.T) {
	cfg := TestConfig(t.TempDir())
	cfg.VMTrace, cfg.Exec = true, ExecVM
	var armed atomic.Bool
	reached, release := make(chan struct{}), make(chan struct{})
	cfg.crashAt = func(point string) bool {
		if point == crashHotApplied && armed.CompareAndSwap(true, false) {
			close(reached)
			<-release
		}
		return false
	}
	n := startNode(t, cfg)
	tx := transfer(faucet(t, cfg), 0, testKey(7).Address, 1)
	armed.Store(true)
	if _, errs := n.Backend().Submit(context.Background(), []*ledger.Tx{tx}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	<-reached
	h := n.chain.Head().Height
	if held, _ := n.archive.Has(h); held {
		t.Fatalf("block %d archived at the hot-applied point", h)
	}
	tb := n.Backend().(api.TraceBackend)
	type got struct {
		one  *ledger.Trace
		many map[uint64]*ledger.Trace
		err  error
	}
	done := make(chan got, 1)
	go func() {
		one, err := tb.Trace(context.Background(), tx.ID())
		many, err2 := tb.Traces(context.Background(), h, h)
		done <- got{one, many, errors.Join(err, err2)}
	}()
	time.Sleep(50 * time.Millisecond) // the reader is waiting
	close(release)
	r := <-done
	if r.err != nil {
		t.Fatalf("trace reads while the block was archived = %v", r.err)
	}
	wantVMTrace(t, "Trace", r.one)
	if !reflect.DeepEqual(r.many[ledger.TxKey(h, 0)], r.one) {
		t.Fatalf("Traces(%d, %d) = %+v, want the tx's trace", h, h, r.many)
	}
}
