package export

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// memSink keeps the chunks it is given, in memory, and checks that they
// come in order, each once.
type memSink struct {
	o      Options
	next   uint64
	chunks []*Chunk
	closed bool
}

var _ chunkSink = (*memSink)(nil)

func (s *memSink) Next() uint64 { return s.next }

func (s *memSink) Write(c *Chunk) error {
	if c.From != s.next || c.To < c.From || c.To > s.o.To {
		return fmt.Errorf("memSink: chunk %d to %d, want one from %d to at most %d", c.From, c.To, s.next, s.o.To)
	}
	s.chunks, s.next = append(s.chunks, c), c.To+1
	return nil
}

func (s *memSink) Close() error      { s.closed = true; return nil }
func (s *memSink) Files() []FileInfo { return nil }

// runMem runs cfg into a memSink.
func runMem(t *testing.T, ctx context.Context, cfg Config) (*memSink, Summary, error) {
	t.Helper()
	sink := &memSink{}
	cfg.open = func(o Options) (chunkSink, error) {
		sink.o, sink.next = o, o.From
		return sink, nil
	}
	s, err := Run(ctx, cfg)
	if err == nil && !sink.closed {
		t.Errorf("Run() = nil without closing the sink")
	}
	return sink, s, err
}

// testConfig is TestConfig for an export of n into a fresh directory.
func testConfig(t *testing.T, n *fakeNode) Config {
	return TestConfig(n.url(), t.TempDir())
}

// wantChunks checks that sink holds every height of from..to in chunks
// of size heights (aligned on from), with what the node serves.
func wantChunks(t *testing.T, n *fakeNode, sink *memSink, chain string, from, to, size uint64) {
	t.Helper()
	h := from
	for i, c := range sink.chunks {
		end := min(h+size-1, to)
		if c.From != h || c.To != end {
			t.Fatalf("chunk %d is %d to %d, want %d to %d", i, c.From, c.To, h, end)
		}
		var got, want any = c.Hot, n.hotViews(h, end)
		if chain == "cold" {
			got, want = c.Cold, n.coldViews(h, end)
		}
		if g, w := marshal(t, got), marshal(t, want); !bytes.Equal(g, w) {
			t.Fatalf("chunk %d to %d:\n got %s\nwant %s", h, end, g, w)
		}
		h = end + 1
	}
	if h != to+1 {
		t.Fatalf("the chunks end before %d, want them to reach %d", h, to)
	}
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFetchChunks exports both chains in range and per-tx mode: every
// chunk is what the node serves, pages cut short are followed, and the
// summary counts it.
func TestFetchChunks(t *testing.T) {
	n := newFakeNode(t, 230, 90, 40)
	for _, chain := range []string{"hot", "cold"} {
		for _, perTx := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s per-tx=%v", chain, perTx), func(t *testing.T) {
				cfg := testConfig(t, n)
				cfg.Chain, cfg.PerTx, cfg.ChunkBlocks = chain, perTx, 30
				cuts := n.cutPages.Load()
				cborBefore, jsonBefore := n.cborPages.Load(), n.jsonPages.Load()
				sink, s, err := runMem(t, t.Context(), cfg)
				if err != nil {
					t.Fatalf("Run() = %v", err)
				}
				head := uint64(len(n.hot))
				if chain == "cold" {
					head = uint64(len(n.cold))
				}
				wantChunks(t, n, sink, chain, 1, head, 30)
				if n.cutPages.Load() == cuts {
					t.Errorf("no page was cut short: the test does not test following next")
				}
				wantTxs := int64(0)
				for _, c := range sink.chunks {
					wantTxs += int64(c.Txs())
				}
				if !s.Complete || s.From != 1 || s.To != head || s.Txs != wantTxs || s.Blocks != int64(head) || s.ChainID != fakeChainID {
					t.Errorf("Summary = %+v, want complete 1..%d, %d blocks, %d txs, chain %s", s, head, head, wantTxs, fakeChainID)
				}
				if perTx && s.Requests <= wantTxs {
					t.Errorf("per-tx: %d requests for %d txs, want one per tx and the pages", s.Requests, wantTxs)
				}
				if cbor, json := n.cborPages.Load()-cborBefore, n.jsonPages.Load()-jsonBefore; chain == "hot" && (cbor == 0 || json != 0) {
					t.Errorf("%d hot pages asked for in CBOR, %d in JSON; want every one in CBOR", cbor, json)
				}
			})
		}
	}
}

// TestFetchRange exports part of the chain, in chunks that do not divide
// it.
func TestFetchRange(t *testing.T) {
	n := newFakeNode(t, 100, 1, 1000)
	cfg := testConfig(t, n)
	cfg.From, cfg.To, cfg.ChunkBlocks = 17, 64, 10
	sink, _, err := runMem(t, t.Context(), cfg)
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	wantChunks(t, n, sink, "hot", 17, 64, 10)
}

// TestFetchOldNode: a node older than the CBOR range page answers it in
// JSON; the export goes on in JSON pages and gets the same data.
func TestFetchOldNode(t *testing.T) {
	for _, perTx := range []bool{false, true} {
		t.Run(fmt.Sprintf("per-tx=%v", perTx), func(t *testing.T) {
			n := newFakeNode(t, 120, 1, 40)
			n.jsonOnly = true
			cfg := testConfig(t, n)
			cfg.PerTx, cfg.ChunkBlocks, cfg.Workers = perTx, 10, 2
			sink, s, err := runMem(t, t.Context(), cfg)
			if err != nil {
				t.Fatalf("Run() = %v", err)
			}
			wantChunks(t, n, sink, "hot", 1, 120, 10)
			if s.Retries != 0 || n.jsonPages.Load() == 0 {
				t.Errorf("%d retries, %d JSON pages; want no retry, JSON pages", s.Retries, n.jsonPages.Load())
			}
		})
	}
}

// TestFetchRetries: every kind of failure a node or the network can
// cause is retried, and the export ends with the right data.
func TestFetchRetries(t *testing.T) {
	tests := []struct {
		f       fault
		perTx   bool
		minWait time.Duration // between the failed attempt and the next
	}{
		{fault500, false, 0},
		{fault503, true, 0},
		{fault429, false, 900 * time.Millisecond}, // Retry-After: 1
		{faultReset, false, 0},
		{faultReset, true, 0},
		{faultTruncated, false, 0},
		{faultTruncated, true, 0},
		{faultHang, false, 250 * time.Millisecond}, // the request timeout, 300 ms
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v per-tx=%v", tt.f, tt.perTx), func(t *testing.T) {
			n := newFakeNode(t, 60, 1, 100)
			// The first attempt at the second page of blocks, and at every
			// 10th transaction, fails.
			page := "/v1/blocks?from=21&to=40"
			n.fault = func(uri string, attempt int) fault {
				if attempt == 1 && (strings.HasPrefix(uri, page) || strings.HasPrefix(uri, "/v1/transactions/") && uri[len("/v1/transactions/")]%10 == 0) {
					return tt.f
				}
				return faultNone
			}
			cfg := testConfig(t, n)
			cfg.PerTx, cfg.ChunkBlocks, cfg.RequestTimeout = tt.perTx, 20, 300*time.Millisecond
			sink, s, err := runMem(t, t.Context(), cfg)
			if err != nil {
				t.Fatalf("Run() = %v", err)
			}
			wantChunks(t, n, sink, "hot", 1, 60, 20)
			if s.Retries == 0 {
				t.Errorf("Summary.Retries = 0, want the faults retried")
			}
			if n.jsonPages.Load() != 0 {
				t.Errorf("%d pages asked for in JSON, want the faults on CBOR pages", n.jsonPages.Load())
			}
			for uri, times := range n.attemptsSnapshot() {
				if strings.HasPrefix(uri, page) && len(times) >= 2 && times[1].Sub(times[0]) < tt.minWait {
					t.Errorf("%s asked again after %v, want at least %v", uri, times[1].Sub(times[0]), tt.minWait)
				}
			}
		})
	}
}

// attemptsSnapshot copies every URI's attempts.
func (n *fakeNode) attemptsSnapshot() map[string][]time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := map[string][]time.Time{}
	for k, v := range n.attempts {
		out[k] = append([]time.Time(nil), v...)
	}
	return out
}

// TestFetchFailures: an answer that will not change fails the export at
// once, naming the request and what the node said; a fault that does not
// go away fails it after the retries.
func TestFetchFailures(t *testing.T) {
	tests := []struct {
		name     string
		perTx    bool
		f        fault
		uri      string // the request that fails
		want     error
		attempts int
		says     string
	}{
		{"404 on a page", false, fault404, "/v1/blocks?from=11&to=20&traces=true", ErrRefused, 1, "no such thing here"},
		{"404 on a tx", true, fault404, "/v1/transactions/", ErrRefused, 1, "no such thing here"},
		{"wrong index", true, faultWrongIndex, "/v1/transactions/", ErrBadAnswer, 1, "the node answered"},
		{"stray trace", false, faultStrayTrace, "/v1/blocks?from=11&to=20&traces=true", ErrBadAnswer, 1, "transaction 1000"},
		{"503 for good", false, fault503, "/v1/blocks?from=11&to=20&traces=true", ErrGaveUp, 3, "the node is busy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newFakeNode(t, 40, 1, 100)
			var mu sync.Mutex
			var failed string // the first URI failed
			n.fault = func(uri string, _ int) fault {
				mu.Lock()
				defer mu.Unlock()
				if strings.HasPrefix(uri, tt.uri) && (failed == "" || failed == uri) {
					failed = uri
					return tt.f
				}
				return faultNone
			}
			cfg := testConfig(t, n)
			cfg.PerTx, cfg.ChunkBlocks, cfg.Retries = tt.perTx, 10, 2
			_, s, err := runMem(t, t.Context(), cfg)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Run() = %v, want %v", err, tt.want)
			}
			mu.Lock()
			uri := failed
			mu.Unlock()
			if msg := err.Error(); !strings.Contains(msg, "GET "+uri) || !strings.Contains(msg, tt.says) {
				t.Errorf("Run() = %q, want it to name GET %s and say %q", msg, uri, tt.says)
			}
			if got := len(n.attemptsOf(uri)); got != tt.attempts {
				t.Errorf("%s was asked %d times, want %d", uri, got, tt.attempts)
			}
			if s.Complete || s.Next > 31 {
				t.Errorf("Summary = complete %v, next %d; want it stopped early", s.Complete, s.Next)
			}
		})
	}
}

// TestFetchSlowNode: a node that takes its time on every answer is
// waited for (the request timeout is per request, not per export).
func TestFetchSlowNode(t *testing.T) {
	n := newFakeNode(t, 50, 1, 100)
	n.delay = 30 * time.Millisecond
	cfg := testConfig(t, n)
	cfg.PerTx, cfg.Workers, cfg.ChunkBlocks, cfg.RequestTimeout = true, 8, 10, 200*time.Millisecond
	sink, s, err := runMem(t, t.Context(), cfg)
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	wantChunks(t, n, sink, "hot", 1, 50, 10)
	if s.Retries != 0 {
		t.Errorf("Summary.Retries = %d, want 0: every answer came within the timeout", s.Retries)
	}
}

func TestCheckPage(t *testing.T) {
	size := func(h *uint64) (uint64, int) { return *h, 0 }
	tests := []struct {
		heights        []uint64
		next, from, to uint64
		ok             bool
	}{
		{[]uint64{5, 6, 7}, 0, 5, 7, true},
		{[]uint64{5, 6}, 7, 5, 9, true},
		{[]uint64{5, 6}, 0, 5, 9, false},       // short, no next: the head is below 9
		{[]uint64{5, 7}, 0, 5, 7, false},       // a gap
		{[]uint64{6, 7}, 0, 5, 7, false},       // does not start at from
		{[]uint64{5, 6, 7, 8}, 0, 5, 7, false}, // past to
		{[]uint64{5, 6}, 8, 5, 9, false},       // next skips a block
		{nil, 5, 5, 9, false},                  // next does not move on
		{[]uint64{5}, 10, 5, 9, false},         // next past to
	}
	for _, tt := range tests {
		err := checkPage(tt.heights, size, tt.next, tt.from, tt.to)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, errShortPage)) {
			t.Errorf("checkPage(%v, next %d, %d to %d) = %v, want ok %v", tt.heights, tt.next, tt.from, tt.to, err, tt.ok)
		}
	}
}
