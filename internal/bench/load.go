package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/internal/progress"
	"github.com/dualchain/dualchain/ledger"
)

// requestTimeout bounds one batch's submission and wait for commit.
const requestTimeout = time.Minute

// Histogram bounds, in microseconds: 1 µs to 10 minutes, 3 significant
// digits.
const (
	histMin    = 1
	histMax    = int64(10 * time.Minute / time.Microsecond)
	histDigits = 3
)

// load is one timed submission of presigned batches.
type load struct {
	c           *client.Client
	batches     [][]*ledger.Tx
	rate        float64       // transactions/s; 0 for a closed loop
	duration    time.Duration // 0: until the batches run out
	concurrency int

	// Counted as batches return, read by the live line.
	submitted, committed, failed, inFlight atomic.Int64

	mu     sync.Mutex
	hist   *hdrhistogram.Histogram
	kinds  map[string]int64
	paths  map[string]int64
	start  time.Time
	last   time.Time // the last batch's return
	ranOut bool      // every presigned batch was sent before the duration ended
}

// job is a batch and when it was due: an open loop's latency runs from
// then, however long it waited for a worker. A closed loop's is zero: its
// latency runs from when a worker sends it.
type job struct {
	txs []*ledger.Tx
	due time.Time
}

// run submits batches until the duration ends (or they run out, or ctx
// ends), then waits for the ones in flight.
func (l *load) run(ctx context.Context) {
	l.hist = hdrhistogram.New(histMin, histMax, histDigits)
	l.kinds, l.paths = make(map[string]int64), make(map[string]int64)
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range l.concurrency {
		wg.Go(func() {
			for j := range jobs {
				l.send(ctx, j)
			}
		})
	}
	l.start = time.Now()
	l.last = l.start
	end := l.start.Add(l.duration)
	l.feed(ctx, jobs, end)
	close(jobs)
	wg.Wait()
}

// feed hands batches to the workers: at once for a closed loop, on their
// schedule for an open one.
func (l *load) feed(ctx context.Context, jobs chan<- job, end time.Time) {
	var every time.Duration
	if l.rate > 0 {
		every = time.Duration(float64(len(l.batches[0])) / l.rate * float64(time.Second))
	}
	var timeout <-chan time.Time
	if l.duration > 0 {
		timer := time.NewTimer(time.Until(end))
		defer timer.Stop()
		timeout = timer.C
	}
	for i, b := range l.batches {
		var due time.Time // a closed loop's batch is due when a worker takes it
		if l.rate > 0 {
			due = l.start.Add(time.Duration(i) * every)
			if l.duration > 0 && !due.Before(end) {
				return
			}
			if !sleepUntil(ctx, due) {
				return
			}
		}
		select {
		case jobs <- job{b, due}:
		case <-timeout:
			return
		case <-ctx.Done():
			return
		}
	}
	l.ranOut = true
}

// sleepUntil waits until t or ctx's end, and says whether t came.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// send submits one batch, waits for its commit and records every
// transaction's outcome.
func (l *load) send(ctx context.Context, j job) {
	if j.due.IsZero() {
		j.due = time.Now()
	}
	n := int64(len(j.txs))
	l.submitted.Add(n)
	l.inFlight.Add(n)
	defer l.inFlight.Add(-n)
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	res, err := l.c.SubmitWait(rctx, j.txs...)
	cancel()
	now := time.Now()
	lat := now.Sub(j.due).Microseconds()

	l.mu.Lock()
	defer l.mu.Unlock()
	l.last = now
	if len(res) != len(j.txs) {
		l.kinds[errorKind(err)] += n
		l.failed.Add(n)
		return
	}
	var ok int64
	for _, r := range res {
		kind := resultKind(r)
		if kind != "" {
			l.kinds[kind]++
			continue
		}
		ok++
		l.paths[r.Receipt.Path.String()]++
	}
	if ok > 0 {
		_ = l.hist.RecordValues(max(lat, histMin), ok) // above histMax is recorded as an error
	}
	l.committed.Add(ok)
	l.failed.Add(n - ok)
}

// resultKind is why r does not count as committed ("" when it does): the
// node's error code, a status other than committed, or a receipt that is
// not ok.
func resultKind(r api.TxResult) string {
	switch {
	case r.Error != nil:
		return r.Error.Code
	case r.Status != "committed":
		return "status " + r.Status
	case r.Receipt == nil:
		return "no receipt"
	case r.Receipt.Status != ledger.StatusOK:
		return "receipt " + r.Receipt.Status.String()
	}
	return ""
}

// errorKind names a failed request: the node's error code, "timeout", or
// "transport" for anything else.
func errorKind(err error) string {
	var ce *client.Error
	switch {
	case errors.As(err, &ce):
		return ce.Code
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case err == nil:
		return "short response"
	}
	return "transport"
}

// result is the load's figures, in Result's fields.
func (l *load) result(r *Result) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r.Seconds = l.last.Sub(l.start).Seconds()
	r.Submitted, r.Committed = l.submitted.Load(), l.committed.Load()
	if r.Seconds > 0 {
		r.PerSec = float64(r.Committed) / r.Seconds
	}
	ms := func(q float64) float64 { return float64(l.hist.ValueAtQuantile(q)) / 1000 }
	if l.hist.TotalCount() > 0 {
		r.P50, r.P90, r.P99, r.Max = ms(50), ms(90), ms(99), float64(l.hist.Max())/1000
		for _, q := range cdfQuantiles {
			r.CDF = append(r.CDF, Quantile{Q: q / 100, Ms: ms(q)})
		}
	}
	r.ErrorKinds, r.Paths = l.kinds, l.paths
	for _, n := range l.kinds {
		r.Errors += n
	}
	r.RanOut = l.ranOut
}

// cdfQuantiles are the percentiles a Result's latency CDF holds.
var cdfQuantiles = []float64{0, 1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 97.5, 99, 99.5, 99.9, 99.99, 100}

// line is the live progress line: committed rate over the last interval,
// transactions in flight, errors.
func (l *load) line(label string, elapsed time.Duration, rate float64) string {
	when := progress.Seconds(elapsed)
	if l.duration > 0 {
		when += "/" + progress.Seconds(l.duration)
	}
	return fmt.Sprintf("%s: %s, %s tx/s committed, %s in flight, %s committed, %s errors",
		label, when, progress.Count(int64(rate+0.5)),
		progress.Count(l.inFlight.Load()), progress.Count(l.committed.Load()), progress.Count(l.failed.Load()))
}
