package robustness

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
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

// Why the Raft logs could not be compared at all. The checker's "raft
// logs identical" row then compares nothing, which fails a run.
var (
	errNoToken    = errors.New("robustness: no admin token to read the Raft logs with")
	errNoLogRange = errors.New("robustness: no Raft log range every member holds")
)

// logReports asks every node of ids for its Raft log bounds, then for
// digests over the range all of them hold up to the lowest commit index
// (robust.LogRange), with one step, so that the points compare. It
// returns each node's points, and an error per node that did not answer.
// Without the admin token, or when the members share no range, it
// returns an error (errNoToken, errNoLogRange) and no points.
func (l *ClusterLedger) logReports(ctx context.Context, ids []string) (map[string][]robust.Point, map[string]error, error) {
	points, errs := map[string][]robust.Point{}, map[string]error{}
	if l.token == "" {
		return points, errs, errNoToken
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
	bounds := map[string]api.RaftLog{}
	each(func(id string) error {
		lg, err := timed(ctx, l.timeout(), func(ctx context.Context) (api.RaftLog, error) {
			return l.ep.local(id).Admin(l.token).RaftLog(ctx, 0, 0, 0)
		})
		if err != nil {
			return fmt.Errorf("raft log bounds: %w", err)
		}
		mu.Lock()
		bounds[id] = lg
		mu.Unlock()
		return nil
	})
	if len(errs) > 0 {
		return points, errs, nil // a node that did not answer fails the run anyway
	}
	from, to, ok := robust.LogRange(slices.Collect(maps.Values(bounds)))
	if !ok {
		return points, errs, fmt.Errorf("%w: %s", errNoLogRange, describeBounds(ids, bounds))
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
	return points, errs, nil
}

// describeBounds says which committed entries each node's log can digest.
func describeBounds(ids []string, bounds map[string]api.RaftLog) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		b := bounds[id]
		parts[i] = fmt.Sprintf("%s %d..%d", id, max(b.FirstIndex, b.FloorIndex+1), b.CommitIndex)
	}
	return "digestible entries: " + strings.Join(parts, ", ")
}

// LogRange is the range of Raft log indexes the last Nodes call compared
// across the nodes, and how many entries it holds (0: none compared).
func (l *ClusterLedger) LogRange() (from, to, entries uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.logRange.From, l.logRange.To, l.logRange.Entries()
}
