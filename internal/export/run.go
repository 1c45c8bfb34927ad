package export

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/jonboulle/clockwork"
	"golang.org/x/sync/errgroup"
)

// ErrPastHead is a range that reaches past the chain's head.
var ErrPastHead = errors.New("export: past the chain's head")

// chunkSink is what Run writes to: *Sink.
type chunkSink interface {
	Next() uint64
	Write(c *Chunk) error
	Close() error
	Files() []FileInfo
}

var _ chunkSink = (*Sink)(nil)

// Run exports cfg's range of blocks from the node into cfg.Dir, or
// continues the export Dir holds from where it stopped. Chunks of
// ChunkBlocks heights are fetched by a pool of Workers, several at once,
// and written in height order by one goroutine, so the files do not
// depend on how the fetching went.
//
// When it fails or ctx ends, the chunks written so far stay: the Summary
// says where a re-run continues (Next), and the error why it stopped.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	if err := cfg.Validate(); err != nil {
		return Summary{}, err
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	st := &stats{}
	hc := newHTTPClient(cfg.Workers, st)
	defer hc.CloseIdleConnections()
	p := newPool(cfg.Workers)
	defer p.close()
	r := &runner{cfg: cfg, st: st, c: client.New(cfg.Node, client.WithHTTPClient(hc))}
	r.f = &fetcher{c: r.c, pool: p, perTx: cfg.PerTx, window: newWindow(cfg.Workers), st: st, retry: &retrier{
		retries: cfg.Retries, timeout: cfg.RequestTimeout, initial: cfg.RetryWait, max: cfg.MaxRetryWait,
		maxRetryAfter: cfg.MaxRetryAfter, st: st,
	}}
	return r.run(ctx)
}

// runner is one Run.
type runner struct {
	cfg Config
	st  *stats
	c   *client.Client
	f   *fetcher
}

func (r *runner) run(ctx context.Context) (Summary, error) {
	o, err := r.options(ctx)
	if err != nil {
		return Summary{}, err
	}
	r.f.cold = o.Chain == ChainCold
	open := r.cfg.open
	if open == nil {
		open = func(o Options) (chunkSink, error) { return OpenSink(o) }
	}
	sink, err := open(o)
	if err != nil {
		return Summary{}, fmt.Errorf("export into %s: %w", o.Dir, err)
	}
	start, began := sink.Next(), r.cfg.Clock.Now()
	err = r.export(ctx, o, sink, start)
	if cerr := sink.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("finish the files in %s: %w", o.Dir, cerr)
	}
	return r.summary(o, start, resumeAt(sink), sink.Files(), r.cfg.Clock.Since(began)), err
}

// resumeAt is where a run of the same command would start: the height
// after the last finished part, as the manifest says (the sink's Next is
// past the part Close dropped).
func resumeAt(sink chunkSink) uint64 {
	if m, ok := sink.(interface{ Manifest() Manifest }); ok {
		man := m.Manifest()
		return man.Next()
	}
	return sink.Next()
}

// options resolves the export's options: the held export's or the
// defaults where cfg leaves them unset, the node's chain id, and To at
// the head.
func (r *runner) options(ctx context.Context) (Options, error) {
	held, err := ReadManifest(r.cfg.Dir)
	if err != nil {
		return Options{}, fmt.Errorf("read the export in %s: %w", r.cfg.Dir, err)
	}
	o := r.cfg.options()
	if held != nil {
		inherit(&o, held.Options)
	}
	defaults(&o)
	chainID, head, err := r.head(ctx, o.Chain)
	if err != nil {
		return Options{}, err
	}
	o.ChainID = chainID
	switch {
	case o.To == 0 && o.From > head:
		return Options{}, fmt.Errorf("%w: nothing to export from %d, the %s chain's head is %d", ErrPastHead, o.From, o.Chain, head)
	case o.To == 0:
		o.To = head
	case o.To > head:
		return Options{}, fmt.Errorf("%w: to %d, the %s chain's head is %d", ErrPastHead, o.To, o.Chain, head)
	}
	return o, nil
}

// head asks the node for its chain id and the height of chain's head.
func (r *runner) head(ctx context.Context, chain string) (string, uint64, error) {
	var st api.Status
	first := jobKey{classPage, 0, 0}
	err := r.f.call(ctx, first, "GET /v1/status", func(ctx context.Context) (err error) {
		st, err = r.c.Status(ctx)
		return err
	})
	if err != nil || chain != ChainCold {
		return st.ChainID, st.Height, err
	}
	var head uint64
	err = r.f.call(ctx, first, "GET /v1/cold/blocks/latest", func(ctx context.Context) error {
		b, err := r.c.ColdBlock(ctx, 0)
		if err == nil {
			head = b.Header.Height
		}
		return err
	})
	return st.ChainID, head, err
}

// pendingChunk is a chunk being fetched; done is closed once chunk or err
// is set.
type pendingChunk struct {
	done  chan struct{}
	chunk *Chunk
	err   error
}

// export fetches and writes the heights from start to o.To: a scheduler
// starts a goroutine per chunk as the window lets it, the writer takes
// them in order. Both end with the first error; the chunks' goroutines
// are waited for before export returns.
func (r *runner) export(ctx context.Context, o Options, sink chunkSink, start uint64) error {
	if start > o.To {
		return nil
	}
	if r.cfg.Progress != nil {
		rep := startReporter(r.cfg.Progress, r.cfg.Clock, r.cfg.ProgressEvery, progressLabel(o, start), o.To-start+1, r.st)
		defer rep.end()
	}
	var fetching sync.WaitGroup
	defer fetching.Wait()
	pending := make(chan *pendingChunk, maxWindow)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(pending)
		return r.schedule(gctx, o, start, pending, &fetching)
	})
	g.Go(func() error { return r.write(gctx, sink, pending) })
	return g.Wait()
}

// schedule starts the chunks from start in order, as the window allows.
func (r *runner) schedule(ctx context.Context, o Options, start uint64, pending chan<- *pendingChunk, fetching *sync.WaitGroup) error {
	for seq, from := uint64(0), start; ; seq++ {
		if err := r.f.window.acquire(ctx); err != nil {
			return err
		}
		first, to := from, chunkEnd(o, from)
		pc := &pendingChunk{done: make(chan struct{})}
		fetching.Go(func() {
			defer close(pc.done)
			pc.chunk, pc.err = r.f.chunk(ctx, seq, first, to)
		})
		select {
		case pending <- pc:
		case <-ctx.Done():
			return ctx.Err()
		}
		if to == o.To {
			return nil
		}
		from = to + 1
	}
}

// chunkEnd is where the chunk holding from ends. Chunks are aligned on
// From (From+k*ChunkBlocks on), the last cut at To, so that a run that
// continues an export cuts the same chunks as one that was never
// interrupted.
func chunkEnd(o Options, from uint64) uint64 {
	k := (from - o.From) / o.ChunkBlocks
	end := o.From + (k+1)*o.ChunkBlocks - 1
	if end < from { // past 2^64
		return o.To
	}
	return min(end, o.To)
}

// write hands the chunks to the sink in order, as each arrives.
func (r *runner) write(ctx context.Context, sink chunkSink, pending <-chan *pendingChunk) error {
	for pc := range pending {
		select {
		case <-pc.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if pc.err != nil {
			return pc.err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		// The chunk is the writer's now, no longer ahead: the next ones
		// fetch while it is written (writing a chunk of a million
		// transactions' worth of blocks takes seconds, in which a per-tx
		// export's workers would otherwise wait).
		r.f.window.release(pc.chunk.Txs())
		if err := sink.Write(pc.chunk); err != nil {
			return fmt.Errorf("write blocks %d to %d: %w", pc.chunk.From, pc.chunk.To, err)
		}
		r.st.wrote(pc.chunk)
		if r.cfg.afterWrite != nil {
			r.cfg.afterWrite(sink.Next())
		}
	}
	return nil
}

// progressLabel names the run on the progress line: "hot 1..5,000", or
// "hot 2,301..5,000 (continued)".
func progressLabel(o Options, start uint64) string {
	label := fmt.Sprintf("%s %s..%s", o.Chain, count(start), count(o.To))
	if start > o.From {
		label += " (continued)"
	}
	return label
}
