package robustness

import (
	"context"
	"fmt"
	"slices"
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
// the hot commitment and cold state root of the blocks it holds at a
// sample of heights spread over both chains and at their heads, and the
// digests of its Raft log (GET /v1/admin/raft/log) over the range of
// committed entries every member still holds.
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
// heights it holds, and its Raft log digests over the range every member
// holds (raftlog.go).
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
		wg.Go(func() { out[i] = l.report(ctx, id, hs, cs) })
	}
	wg.Wait()
	logs, errs := l.logReports(ctx, ids)
	for i := range out {
		out[i].Log = logs[out[i].Node]
		if err := errs[out[i].Node]; err != nil && out[i].Err == "" {
			out[i].Err = err.Error()
		}
	}
	return out, nil
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

// report is node id's points at heights hs (hot) and cs (cold). A height
// the node does not hold is left out; a node that answers nothing has
// Err.
func (l *ClusterLedger) report(ctx context.Context, id string, hs, cs []uint64) robust.NodeReport {
	r := robust.NodeReport{Node: id}
	c := l.ep.local(id)
	var errs int
	var last error
	for _, h := range hs {
		b, err := timed(ctx, l.timeout(), func(ctx context.Context) (*api.BlockView, error) { return c.Block(ctx, h) })
		if ok := keep(err, &errs, &last); ok {
			r.Hot = append(r.Hot, robust.Point{At: h, Digest: b.Commitment})
		}
	}
	for _, h := range cs {
		b, err := timed(ctx, l.timeout(), func(ctx context.Context) (*ledger.ColdBlock, error) { return c.ColdBlock(ctx, h) })
		if ok := keep(err, &errs, &last); ok {
			r.Cold = append(r.Cold, robust.Point{At: h, Digest: b.Header.StateRoot})
		}
	}
	if len(r.Hot) == 0 && len(r.Cold) == 0 && errs > 0 {
		r.Err = fmt.Sprintf("no block answered at %d sampled heights: %v", errs, last)
	}
	return r
}

// keep reports whether a fetch answered; a block the node does not hold
// is no error.
func keep(err error, errs *int, last *error) bool {
	if err == nil {
		return true
	}
	if ce, ok := err.(*client.Error); !ok || ce.Code != api.CodeNotFound {
		*errs++
		*last = err
	}
	return false
}

func timed[T any](ctx context.Context, d time.Duration, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return f(ctx)
}
