package robustness

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/dualchain/dualchain/internal/robust"
	"github.com/dualchain/dualchain/ledger"
)

// DefaultSamples is how many heights of each chain ClusterLedger.Nodes
// compares across nodes, besides the last few.
const DefaultSamples = 64

// scanWorkers is how many requests a block scan has in flight.
const scanWorkers = 4

// ClusterLedger is the robust.FinalLedger of a live cluster, read over
// its nodes' HTTP APIs once every op has ended and the cluster converged.
//
// Txs scans every hot and cold block from height 1 to the leader's heads,
// taking each block from the first node that holds it (a node that
// installed a snapshot lacks the blocks before it), so a transaction in
// two blocks is seen twice. Snapshot reads every account and the sums on
// the leader at one applied index (atomic). Nodes reports, for each node,
// the hot commitment and cold state root of the blocks at a sample of
// heights spread over both chains and at their heads, which a converged
// member must hold (but for hot blocks below a snapshot it still
// backfills), and the digests of its Raft log (GET /v1/admin/raft/log)
// over the range of committed entries every member still holds.
type ClusterLedger struct {
	ep      *endpoints
	token   string        // the admin token, for the Raft log digests (raftlog.go)
	Timeout time.Duration // bounds one request; 0 is 5 s
	Samples int           // heights sampled per chain; 0 is DefaultSamples

	mu       sync.Mutex
	logRange logRange // what Nodes compared last
}

var _ robust.FinalLedger = (*ClusterLedger)(nil)

// NewClusterLedger returns the final ledger of the cluster c.
func NewClusterLedger(c *localcluster.Cluster) *ClusterLedger {
	return &ClusterLedger{ep: newEndpoints(c.Nodes()), token: c.AdminToken()}
}

func (l *ClusterLedger) timeout() time.Duration {
	if l.Timeout <= 0 {
		return 5 * time.Second
	}
	return l.Timeout
}

// heads returns the leader's hot and cold heights, and the leader first
// among the nodes to ask.
func (l *ClusterLedger) heads(ctx context.Context) (hot, cold uint64, order []string, err error) {
	leader, err := l.ep.leader(ctx, l.timeout())
	if err != nil {
		return 0, 0, nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, l.timeout())
	defer cancel()
	au, err := l.ep.strong(leader).Audit(rctx)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("audit of the leader %s: %w", leader, err)
	}
	order = append([]string{leader}, slices.DeleteFunc(slices.Clone(l.ep.members()), func(id string) bool { return id == leader })...)
	return au.HotHeight, au.ColdHeight, order, nil
}

// Txs returns every committed transaction sent from one of accounts.
func (l *ClusterLedger) Txs(ctx context.Context, accounts []ledger.Address) ([]robust.CommittedTx, error) {
	hot, cold, order, err := l.heads(ctx)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var out []robust.CommittedTx
	add := func(txs []robust.CommittedTx) {
		mu.Lock()
		out = append(out, txs...)
		mu.Unlock()
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(scanWorkers)
	for from := uint64(1); from <= hot; from += api.MaxRangeBlocks {
		to := min(from+api.MaxRangeBlocks-1, hot)
		g.Go(func() error {
			blocks, err := l.hotPage(gctx, order, from, to)
			add(hotTxs(blocks, accounts))
			return err
		})
	}
	for h := uint64(1); h <= cold; h++ {
		g.Go(func() error {
			b, err := l.coldBlock(gctx, order, h)
			if err == nil {
				add(coldTxs(b, accounts))
			}
			return err
		})
	}
	return out, g.Wait()
}

// hotPage returns hot blocks from..to from the first node in order that
// holds them all.
func (l *ClusterLedger) hotPage(ctx context.Context, order []string, from, to uint64) ([]api.BlockView, error) {
	var last error
	for _, id := range order {
		rctx, cancel := context.WithTimeout(ctx, l.timeout())
		blocks, err := l.ep.local(id).Blocks(rctx, from, to)
		cancel()
		if err == nil && uint64(len(blocks)) == to-from+1 && blocks[0].Height == from {
			return blocks, nil
		}
		last = fmt.Errorf("%s: %d blocks, err %v", id, len(blocks), err)
	}
	return nil, fmt.Errorf("no node holds hot blocks %d..%d: last %v", from, to, last)
}

// coldBlock returns cold block h from the first node in order that holds
// it.
func (l *ClusterLedger) coldBlock(ctx context.Context, order []string, h uint64) (*ledger.ColdBlock, error) {
	var last error
	for _, id := range order {
		rctx, cancel := context.WithTimeout(ctx, l.timeout())
		b, err := l.ep.local(id).ColdBlock(rctx, h)
		cancel()
		if err == nil && b.Header.Height == h {
			return b, nil
		}
		last = fmt.Errorf("%s: %v", id, err)
	}
	return nil, fmt.Errorf("no node holds cold block %d: last %v", h, last)
}

func hotTxs(blocks []api.BlockView, accounts []ledger.Address) []robust.CommittedTx {
	var out []robust.CommittedTx
	for _, b := range blocks {
		for _, tx := range b.Txs {
			if slices.Contains(accounts, tx.From) {
				out = append(out, robust.CommittedTx{ID: tx.ID, From: tx.From, Chain: tx.Chain, Nonce: tx.Nonce, Height: b.Height, Status: tx.Status})
			}
		}
	}
	return out
}

func coldTxs(b *ledger.ColdBlock, accounts []ledger.Address) []robust.CommittedTx {
	var out []robust.CommittedTx
	for i := range b.Txs {
		tx := &b.Txs[i]
		if !slices.Contains(accounts, tx.From) {
			continue
		}
		ctx := robust.CommittedTx{ID: tx.ID(), From: tx.From, Chain: ledger.Cold, Nonce: tx.Nonce, Height: b.Header.Height}
		if i < len(b.Receipts) {
			ctx.Status = b.Receipts[i].Status
		}
		out = append(out, ctx)
	}
	return out
}

// Snapshot reads accounts and the sums on the leader, atomically.
func (l *ClusterLedger) Snapshot(ctx context.Context, accounts []ledger.Address) (robust.Snapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, 6*l.timeout())
	defer cancel()
	return readAtomic(ctx, l.ep, accounts)
}

// Nodes returns each node's hot commitments and cold roots at the sampled
// heights, and its Raft log digests over the range every member holds
// (raftlog.go). A member lacking a block it must hold has Err (report).
// When the Raft logs cannot be compared at all it returns the reports
// and the error.
func (l *ClusterLedger) Nodes(ctx context.Context) ([]robust.NodeReport, error) {
	hot, cold, _, err := l.heads(ctx)
	if err != nil {
		return nil, err
	}
	hs, cs := sampleHeights(hot, l.samples()), sampleHeights(cold, l.samples())
	ids := l.ep.members()
	out := make([]robust.NodeReport, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { out[i] = l.report(ctx, id, hot, cold, hs, cs) })
	}
	wg.Wait()
	logs, errs, err := l.logReports(ctx, ids)
	for i := range out {
		out[i].Log = logs[out[i].Node]
		if lerr := errs[out[i].Node]; lerr != nil {
			out[i].Err = joinWhy(out[i].Err, lerr.Error())
		}
	}
	return out, err
}

func (l *ClusterLedger) samples() int {
	if l.Samples <= 0 {
		return DefaultSamples
	}
	return l.Samples
}

// sampleHeights returns n heights spread over 1..head, and the last few.
func sampleHeights(head uint64, n int) []uint64 {
	var out []uint64
	for k := 1; k <= n && head > 0; k++ {
		out = append(out, max(1, uint64(k)*head/uint64(n)))
	}
	for h := head; h > 0 && h+5 > head; h-- {
		out = append(out, h)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// report is node id's points at heights hs (hot) and cs (cold), which
// reach the leader's heads hot and cold. A member of a converged cluster
// holds all of those blocks (a snapshot it restored carries the whole
// cold chain), except the hot blocks below a snapshot it restored and
// still fetches from its peers. Its status then says archive_complete
// false, but not how far down it has got, so any hot block it lacks is
// left out (Skipped). Every other block it lacks is in Err, as are heads
// it never reached and a node that answers nothing.
func (l *ClusterLedger) report(ctx context.Context, id string, hot, cold uint64, hs, cs []uint64) robust.NodeReport {
	r := robust.NodeReport{Node: id}
	c := l.ep.local(id)
	backfilling, behind := l.reach(ctx, c, hot, cold)
	var f fetches
	for _, h := range hs {
		b, err := timed(ctx, l.timeout(), func(ctx context.Context) (*api.BlockView, error) { return c.Block(ctx, h) })
		if f.answered(err, fmt.Sprintf("hot %d", h), backfilling) {
			r.Hot = append(r.Hot, robust.Point{At: h, Digest: b.Commitment})
		}
	}
	for _, h := range cs {
		b, err := timed(ctx, l.timeout(), func(ctx context.Context) (*ledger.ColdBlock, error) { return c.ColdBlock(ctx, h) })
		if f.answered(err, fmt.Sprintf("cold %d", h), false) {
			r.Cold = append(r.Cold, robust.Point{At: h, Digest: b.Header.StateRoot})
		}
	}
	r.Skipped = f.skipped
	r.Err = f.why(behind, len(r.Hot)+len(r.Cold) > 0)
	return r
}

// reach waits, for up to one request's timeout, until node c holds the
// heads hot and cold: a follower applies a block a moment after the
// leader. backfilling says its status answered archive_complete false;
// behind says it did not get there.
func (l *ClusterLedger) reach(ctx context.Context, c *client.Client, hot, cold uint64) (backfilling bool, behind error) {
	ctx, cancel := context.WithTimeout(ctx, l.timeout())
	defer cancel()
	for {
		var atHot, atCold uint64
		st, err := c.Status(ctx)
		if err == nil {
			backfilling, atHot = !st.ArchiveComplete, st.Height
			atCold, err = coldHead(ctx, c)
		}
		if err == nil && atHot >= hot && atCold >= cold {
			return backfilling, nil
		}
		if sleepCtx(ctx, 20*time.Millisecond) {
			continue
		}
		if err != nil {
			return backfilling, fmt.Errorf("its heads: %w", err)
		}
		return backfilling, fmt.Errorf("its heads are hot %d and cold %d, below the leader's %d and %d", atHot, atCold, hot, cold)
	}
}

// coldHead is the height of node c's latest cold block, 0 if none.
func coldHead(ctx context.Context, c *client.Client) (uint64, error) {
	b, err := c.ColdBlock(ctx, 0)
	if notFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return b.Header.Height, nil
}

// fetches sorts one node's answers at the sampled heights.
type fetches struct {
	failed  int      // errors but not_found
	last    error    // the last of them
	missing []string // blocks it must hold and answered not_found for
	skipped int      // not_found for blocks it may lack
}

// answered reports whether a fetch of block answered it; a not_found is
// the node's to give only if it mayLack the block.
func (f *fetches) answered(err error, block string, mayLack bool) bool {
	switch {
	case err == nil:
		return true
	case !notFound(err):
		f.failed++
		f.last = err
	case mayLack:
		f.skipped++
	default:
		f.missing = append(f.missing, block)
	}
	return false
}

// maxMissingShown bounds the blocks a node's Err names.
const maxMissingShown = 5

// why is what is wrong with the node's report, "" if nothing: behind
// (from reach), the blocks it lacks, and, if no block answered, the
// errors.
func (f *fetches) why(behind error, answered bool) string {
	var why string
	if behind != nil {
		why = behind.Error()
	}
	if n := len(f.missing); n > 0 {
		shown := strings.Join(f.missing[:min(n, maxMissingShown)], ", ")
		if n > maxMissingShown {
			shown += fmt.Sprintf(" and %d more", n-maxMissingShown)
		}
		why = joinWhy(why, fmt.Sprintf("lacks %d sampled blocks a converged member holds (blocks %s)", n, shown))
	}
	if !answered && f.failed > 0 {
		why = joinWhy(why, fmt.Sprintf("no block answered at %d sampled heights: %v", f.failed, f.last))
	}
	return why
}

// joinWhy joins two descriptions of what is wrong, either maybe "".
func joinWhy(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + "; " + b
}

// notFound reports whether err is a node's not_found answer.
func notFound(err error) bool {
	var ce *client.Error
	return errors.As(err, &ce) && ce.Code == api.CodeNotFound
}

func timed[T any](ctx context.Context, d time.Duration, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return f(ctx)
}
