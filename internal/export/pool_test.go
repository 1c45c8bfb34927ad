package export

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestWorkerBound counts, on the node's side, the connections an export
// opens and the requests it has in flight: never more than the workers,
// and, as every answer takes a while, the export does reach that many
// (so the test could fail). Keep-alive: no more connections are opened
// than there are workers, whatever the number of requests.
func TestWorkerBound(t *testing.T) {
	tests := []struct {
		workers int
		perTx   bool
		blocks  int
		delay   time.Duration // of every answer, so that requests overlap
	}{{1, true, 30, 5 * time.Millisecond}, {4, true, 60, 5 * time.Millisecond}, {50, true, 120, 40 * time.Millisecond}, {4, false, 120, 5 * time.Millisecond}}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("workers=%d per-tx=%v", tt.workers, tt.perTx), func(t *testing.T) {
			n := newFakeNode(t, tt.blocks, 1, 100)
			n.delay = tt.delay
			cfg := testConfig(t, n)
			cfg.Workers, cfg.PerTx, cfg.ChunkBlocks = tt.workers, tt.perTx, 5
			sink, s, err := runMem(t, t.Context(), cfg)
			if err != nil {
				t.Fatalf("Run() = %v", err)
			}
			wantChunks(t, n, sink, "hot", 1, uint64(tt.blocks), 5)
			w := int64(tt.workers)
			if got := n.peakInFlight.Load(); got != w {
				t.Errorf("peak requests in flight = %d, want %d (the workers)", got, w)
			}
			if got := n.peakOpen.Load(); got > w {
				t.Errorf("peak open connections = %d, want at most %d", got, w)
			}
			if got := n.opened.Load(); got > w {
				t.Errorf("%d connections opened for %d requests, want at most %d (keep-alive)", got, s.Requests, w)
			}
			if got := n.requests.Load(); got != s.Requests {
				t.Errorf("the node saw %d requests, Summary.Requests = %d", got, s.Requests)
			}
		})
	}
}

// TestPoolOrder: a worker takes pages before transactions, then the
// lowest chunk, then the lowest index, then the first submitted.
func TestPoolOrder(t *testing.T) {
	p := newPool(1)
	defer p.close()
	block := make(chan struct{})
	p.submit(jobKey{classTx, 0, 0}, func() { <-block }) // holds the one worker
	var mu sync.Mutex
	var got []string
	keys := []jobKey{{classTx, 3, 1}, {classTx, 2, 5}, {classPage, 9, 0}, {classTx, 2, 4}, {classPage, 1, 2}, {classPage, 1, 2}}
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Add(1)
		p.submit(k, func() {
			defer wg.Done()
			mu.Lock()
			got = append(got, fmt.Sprintf("%d/%d/%d#%d", k.class, k.chunk, k.index, i))
			mu.Unlock()
		})
	}
	close(block)
	wg.Wait()
	want := []string{"0/1/2#4", "0/1/2#5", "0/9/0#2", "1/2/4#3", "1/2/5#1", "1/3/1#0"}
	if !slices.Equal(got, want) {
		t.Errorf("jobs ran in order %v, want %v", got, want)
	}
}

// TestPoolClose: close runs what is queued, then ends the workers.
func TestPoolClose(t *testing.T) {
	p := newPool(3)
	var mu sync.Mutex
	ran := 0
	for i := range 100 {
		p.submit(jobKey{classTx, uint64(i), 0}, func() {
			mu.Lock()
			ran++
			mu.Unlock()
		})
	}
	p.close()
	if ran != 100 {
		t.Errorf("after close %d of 100 jobs ran, want all", ran)
	}
}
