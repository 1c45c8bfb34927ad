package robustness

import (
	"context"
	"fmt"
	"sync"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/internal/robust"
)

// maxLogPoints bounds the Raft log digests one node reports: a longer
// common range is digested in longer segments (robust.LogEvery).
const maxLogPoints = 4096

// logRange is the range of Raft log indexes ClusterLedger.Nodes compared.
type logRange struct {
	From, To uint64
	Every    uint64
}

// Entries is how many log entries the range holds.
func (r logRange) Entries() uint64 {
	if r.To < r.From {
		return 0
	}
	return r.To - r.From + 1
}

// logReports asks every node of ids for its Raft log bounds, then for
// digests over the range all of them hold up to the lowest commit index
// (robust.LogRange), with one step, so that the points compare. It
// returns each node's points, and an error per node that did not answer.
// Without the admin token it reports nothing.
func (l *ClusterLedger) logReports(ctx context.Context, ids []string) (map[string][]robust.Point, map[string]error) {
	points, errs := map[string][]robust.Point{}, map[string]error{}
	if l.token == "" {
		return points, errs
	}
	var mu sync.Mutex
	each := func(f func(id string) error) {
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Go(func() {
				if err := f(id); err != nil {
					mu.Lock()
					errs[id] = err
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}
	var bounds []api.RaftLog
	each(func(id string) error {
		lg, err := timed(ctx, l.timeout(), func(ctx context.Context) (api.RaftLog, error) {
			return l.ep.local(id).Admin(l.token).RaftLog(ctx, 0, 0, 0)
		})
		if err != nil {
			return fmt.Errorf("raft log bounds: %w", err)
		}
		mu.Lock()
		bounds = append(bounds, lg)
		mu.Unlock()
		return nil
	})
	from, to, ok := robust.LogRange(bounds)
	if !ok || len(errs) > 0 {
		return points, errs // a node that did not answer fails the run anyway
	}
	r := logRange{From: from, To: to, Every: robust.LogEvery(from, to, maxLogPoints)}
	each(func(id string) error {
		lg, err := timed(ctx, 6*l.timeout(), func(ctx context.Context) (api.RaftLog, error) {
			return l.ep.local(id).Admin(l.token).RaftLog(ctx, r.From, r.To, r.Every)
		})
		if err != nil {
			return fmt.Errorf("raft log digests %d..%d: %w", r.From, r.To, err)
		}
		mu.Lock()
		points[id] = robust.LogPoints(lg)
		mu.Unlock()
		return nil
	})
	l.mu.Lock()
	l.logRange = r
	l.mu.Unlock()
	return points, errs
}

// LogRange is the range of Raft log indexes the last Nodes call compared
// across the nodes, and how many entries it holds (0: none compared).
func (l *ClusterLedger) LogRange() (from, to, entries uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.logRange.From, l.logRange.To, l.logRange.Entries()
}
