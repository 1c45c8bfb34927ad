package export

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/ledger"
)

// fetcher fetches the chunks of one export. Every request is a job on the
// pool, made with the retrier; a chunk's own goroutine only submits jobs
// and waits for them.
type fetcher struct {
	c      *client.Client
	pool   *pool
	retry  *retrier
	cold   bool // --chain cold
	perTx  bool // each transaction with its own GET /v1/transactions/{id}
	window *window
	st     *stats
	// jsonPages is set once the node answered a CBOR range page in JSON:
	// it is older than the CBOR page.
	jsonPages atomic.Bool
}

// chunk fetches heights from to to, the seq-th chunk of the run.
func (f *fetcher) chunk(ctx context.Context, seq, from, to uint64) (*Chunk, error) {
	c := &Chunk{From: from, To: to}
	var err error
	if f.cold {
		c.Cold, err = f.coldBlocks(ctx, seq, from, to)
	} else {
		c.Hot, err = f.hotBlocks(ctx, seq, from, to)
	}
	if err != nil {
		return nil, fmt.Errorf("blocks %d to %d: %w", from, to, err)
	}
	return c, nil
}

// hotBlocks lists the hot blocks from to to with GET /v1/blocks: with
// their traces, or, with --per-tx, without, each transaction then fetched
// on its own.
func (f *fetcher) hotBlocks(ctx context.Context, seq, from, to uint64) ([]api.BlockView, error) {
	traces := !f.perTx
	what := func(next uint64) string {
		if traces {
			return fmt.Sprintf("GET /v1/blocks?from=%d&to=%d&traces=true", next, to)
		}
		return fmt.Sprintf("GET /v1/blocks?from=%d&to=%d", next, to)
	}
	get := func(ctx context.Context, next uint64) ([]api.BlockView, uint64, error) {
		return f.hotPage(ctx, next, to, traces)
	}
	blocks, err := fetchPages(ctx, f, seq, from, to, what, get, func(b *api.BlockView) (uint64, int) { return b.Height, len(b.Txs) })
	if err != nil || !f.perTx {
		return blocks, err
	}
	var views []*api.TxView
	for i := range blocks {
		for j := range blocks[i].Txs {
			views = append(views, &blocks[i].Txs[j])
		}
	}
	return blocks, f.perTxViews(ctx, seq, views)
}

// hotPage gets one page of hot blocks in CBOR, which costs both sides a
// fraction of the JSON page (decoding traced JSON pages was most of an
// export's CPU), and makes the JSON page's views of it. A node that
// answers JSON (one older than the CBOR page) is asked for JSON pages
// from then on.
func (f *fetcher) hotPage(ctx context.Context, from, to uint64, traces bool) ([]api.BlockView, uint64, error) {
	if !f.jsonPages.Load() {
		p, err := f.c.RawBlockPage(ctx, from, to, traces)
		if !errors.Is(err, client.ErrNotCBOR) {
			return rawPageViews(p, err)
		}
		f.jsonPages.Store(true)
	}
	p, err := f.c.BlockPage(ctx, from, to, traces)
	if err != nil {
		return nil, 0, err
	}
	return p.Blocks, p.Next, nil
}

// rawPageViews returns the views and next of p, which RawBlockPage
// returned with err. Traces that do not fit the page's blocks are
// ErrBadAnswer: asking again would get them again.
func rawPageViews(p *api.RawBlocksPage, err error) ([]api.BlockView, uint64, error) {
	if err != nil {
		return nil, 0, err
	}
	views, err := p.Views()
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrBadAnswer, err)
	}
	return views, p.Next, nil
}

// coldBlocks lists the cold blocks from to to with GET /v1/cold/blocks
// and makes their transactions' views as the API does; with --per-tx each
// is then fetched on its own.
func (f *fetcher) coldBlocks(ctx context.Context, seq, from, to uint64) ([]ColdBlock, error) {
	what := func(next uint64) string { return fmt.Sprintf("GET /v1/cold/blocks?from=%d&to=%d", next, to) }
	get := func(ctx context.Context, next uint64) ([]ledger.ColdBlock, uint64, error) {
		p, err := f.c.ColdBlockPage(ctx, next, to)
		if err != nil {
			return nil, 0, err
		}
		return p.Blocks, p.Next, nil
	}
	blocks, err := fetchPages(ctx, f, seq, from, to, what, get, func(b *ledger.ColdBlock) (uint64, int) { return b.Header.Height, len(b.Txs) })
	if err != nil {
		return nil, err
	}
	out := make([]ColdBlock, len(blocks))
	for i := range blocks {
		out[i] = ColdBlock{Block: blocks[i], Txs: coldTxViews(&blocks[i])}
	}
	if !f.perTx {
		return out, nil
	}
	var views []*api.TxView
	for i := range out {
		for j := range out[i].Txs {
			views = append(views, &out[i].Txs[j])
		}
	}
	return out, f.perTxViews(ctx, seq, views)
}

// coldTxViews makes a cold block's transactions' views the way the API
// makes a hot block's (api.NewBlockView).
func coldTxViews(b *ledger.ColdBlock) []api.TxView {
	views := make([]api.TxView, len(b.Txs))
	for i := range b.Txs {
		rec := ledger.TxRecord{Tx: b.Txs[i], Height: b.Header.Height, Index: uint32(i)}
		if i < len(b.Receipts) {
			rec.Receipt = b.Receipts[i]
		}
		views[i] = api.NewTxView(&rec)
	}
	return views
}

// fetchPages gets blocks from to to page by page, following each page's
// next, and checks that together they are every height in order. Each
// page's transactions (size says a block's height and count) are counted
// in the window, and a page after the first waits for room there.
func fetchPages[B any](ctx context.Context, f *fetcher, seq, from, to uint64, what func(uint64) string,
	get func(context.Context, uint64) ([]B, uint64, error), size func(*B) (uint64, int)) ([]B, error) {
	var out []B
	for i, next := 0, from; ; i++ {
		if i > 0 {
			if err := f.window.room(ctx, seq); err != nil {
				return nil, err
			}
		}
		var blocks []B
		var more uint64
		err := f.call(ctx, jobKey{classPage, seq, i}, what(next), func(ctx context.Context) error {
			b, n, err := get(ctx, next)
			if err == nil {
				err = checkPage(b, size, n, next, to)
			}
			blocks, more = b, n
			return err
		})
		if err != nil {
			return nil, err
		}
		txs := 0
		for j := range blocks {
			_, n := size(&blocks[j])
			txs += n
		}
		f.window.addTxs(txs)
		f.st.listed(uint64(len(blocks)), txs)
		if !f.perTx {
			f.st.fetched.Add(int64(txs))
		}
		out = append(out, blocks...)
		if more == 0 {
			return out, nil
		}
		next = more
	}
}

// checkPage checks that a page asked for from to to holds the blocks from
// from on, each once and in order, up to to or to just before next (so a
// page always moves on).
func checkPage[B any](blocks []B, size func(*B) (uint64, int), next, from, to uint64) error {
	want := from
	for i := range blocks {
		if h, _ := size(&blocks[i]); h != want {
			return fmt.Errorf("%w: block %d where %d was due", errShortPage, h, want)
		}
		want++
	}
	switch {
	case next == 0 && want != to+1:
		return fmt.Errorf("%w: it ends before block %d and has no next (is the node's head below %d?)", errShortPage, want, to)
	case next != 0 && (next != want || next > to || len(blocks) == 0):
		return fmt.Errorf("%w: its next is %d after %d blocks, of %d to %d", errShortPage, next, len(blocks), from, to)
	}
	return nil
}

// perTxViews replaces each view with the node's answer to GET
// /v1/transactions/{id}?trace=true, one job per transaction, and checks
// that it is the same transaction at the same place. The first failure
// cancels the chunk's other requests.
func (f *fetcher) perTxViews(ctx context.Context, seq uint64, views []*api.TxView) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for i, v := range views {
		wg.Add(1)
		what := "GET /v1/transactions/" + v.ID.String() + "?trace=true"
		f.pool.submit(jobKey{classTx, seq, i}, func() {
			defer wg.Done()
			err := f.retry.do(ctx, what, func(ctx context.Context) error { return f.txView(ctx, v) })
			if err != nil {
				once.Do(func() { first = err; cancel() })
				return
			}
			f.st.fetched.Add(1)
		})
	}
	wg.Wait()
	return first
}

// txView fetches the transaction v lists and puts the answer in v.
func (f *fetcher) txView(ctx context.Context, v *api.TxView) error {
	got, err := f.c.TxWithTrace(ctx, v.ID)
	if err != nil {
		return err
	}
	if got.ID != v.ID || got.Block != v.Block || got.Index != v.Index {
		return fmt.Errorf("%w: transaction %s is at block %d index %d, the node answered %s at block %d index %d",
			ErrBadAnswer, v.ID, v.Block, v.Index, got.ID, got.Block, got.Index)
	}
	*v = *got
	return nil
}

// call makes one request on a worker, with retries, and waits for it.
func (f *fetcher) call(ctx context.Context, key jobKey, what string, fn func(context.Context) error) error {
	return f.pool.call(key, func() error { return f.retry.do(ctx, what, fn) })
}
