package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/ledger"
	"github.com/jonboulle/clockwork"
)

// A node that restores a snapshot (it joined, lost its disk, or lagged
// past the log the leader keeps) has no hot blocks below the snapshot's
// head: a snapshot carries state, not history, so that its cost grows
// with the state. Restore records the gap in the archive
// (hotchain.Backfill), and the backfiller fills it from the peers' archives
// (GET /v1/blocks/{height}/raw), top down: the snapshot names the hash of
// its head block, and each block fetched names its parent's, so every
// block is checked against a hash the node already trusts before it is
// archived. It ends at a block the archive holds with the hash named, or
// at block 1, whose parent is the genesis.

// Backfill tuning.
const (
	backfillBatch    = 64          // blocks fetched before they are checked and archived
	backfillFetchers = 4           // fetches in flight at once
	backfillIdle     = time.Second // how often an idle backfiller looks for a new gap
	backfillTimeout  = 30 * time.Second
	backfillLogEvery = 16 // batches between progress lines at level info
)

// errBadBackfill: a peer served a block that is not the chain's.
var errBadBackfill = errors.New("node: peer served a block that does not match the chain")

// errArchiveFork: the archive holds a block other than the one the chain
// above it names: it is corrupt, and no fetch can mend it.
var errArchiveFork = errors.New("node: archived block does not match the chain above it")

// fetchFunc fetches the encoded block at height from the peer at url.
type fetchFunc func(ctx context.Context, url string, height uint64) ([]byte, error)

// backfiller fills the archive's gaps from peers. One goroutine runs it
// (run), owned by the node.
type backfiller struct {
	archive *hotchain.Archive
	dir     *directory
	self    string      // this node's id: not a peer
	genesis ledger.Hash // block 1's parent
	logger  *slog.Logger
	clock   clockwork.Clock
	fetch   fetchFunc
	filled  atomic.Int64 // blocks backfilled
}

func newBackfiller(n *Node) *backfiller {
	hc := &http.Client{Timeout: backfillTimeout}
	return &backfiller{
		archive: n.archive, dir: n.dir, self: n.cfg.NodeID, genesis: n.chain.gen.Hash,
		logger: n.logger.With("component", "backfill"), clock: n.clock,
		fetch: func(ctx context.Context, url string, height uint64) ([]byte, error) {
			return client.New(url, client.WithHTTPClient(hc)).RawBlock(ctx, height)
		},
	}
}

// markBackfill records, as a snapshot restored at head is installed, the
// gap below it if the archive does not hold its head block. The
// backfiller finds it within backfillIdle.
func (s *stateMachine) markBackfill(head hotchain.Meta) error {
	if head.Height == 0 {
		return nil
	}
	held, err := s.archive.Has(head.Height)
	if err != nil || held {
		return err
	}
	below, err := s.archive.HeldBelow(head.Height)
	if err != nil {
		return err
	}
	s.logger.Info("the archive lacks the blocks below the restored snapshot; they will be fetched from peers",
		"height", head.Height, "archived_below", below)
	return s.archive.SetBackfill(hotchain.Backfill{Top: head.Height, Hash: head.Head})
}

// run fills the archive's gaps until ctx ends: one left by a crash at
// once, and one a restored snapshot leaves when it finds it. A failure
// (no peer answers, every peer serves a bad block) is retried with
// backoff; it never stops the node.
func (f *backfiller) run(ctx context.Context) error {
	for attempt := 0; ; {
		wait := backfillIdle
		err := f.fillAll(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			wait = backoff(attempt + 4)
			f.logger.Warn("archive backfill failed; will retry", "attempt", attempt, "err", err)
			attempt++
		default:
			attempt = 0
		}
		select {
		case <-ctx.Done():
			return nil
		case <-f.clock.After(wait):
		}
	}
}

// fillAll fills every gap, highest first; one that fails does not hold up
// the others.
func (f *backfiller) fillAll(ctx context.Context) error {
	gaps, err := f.archive.Backfills()
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range gaps {
		if err := f.fill(ctx, m); err != nil {
			errs = append(errs, fmt.Errorf("gap from %d: %w", m.Top, err))
		}
		if ctx.Err() != nil {
			break
		}
	}
	return errors.Join(errs...)
}

// fill fills gap m, a batch at a time.
func (f *backfiller) fill(ctx context.Context, m hotchain.Backfill) error {
	from := m.Top
	for batches := 1; m.Top > 0; batches++ {
		closed, err := f.reached(m)
		if closed || err != nil {
			return err
		}
		below, err := f.archive.HeldBelow(m.Top)
		if err != nil {
			return err
		}
		if m.Top == from {
			f.logger.Info("backfilling the archive from peers", "from", from, "down_to", below+1)
		}
		fetched := f.fetchBatch(ctx, m.Top, min(m.Top-below, backfillBatch))
		for _, got := range fetched {
			if m, err = f.store(ctx, m, got); err != nil {
				return err
			}
		}
		level := slog.LevelDebug
		if batches%backfillLogEvery == 0 {
			level = slog.LevelInfo
		}
		f.logger.Log(ctx, level, "backfilling the archive", "down_to", m.Top+1, "left", m.Top-below)
	}
	f.logger.Info("archive backfilled down to block 1", "from", from)
	return nil
}

// reached reports whether gap m ends here: the archive holds block m.Top,
// which must then have the hash m names. The gap is then cleared.
func (f *backfiller) reached(m hotchain.Backfill) (bool, error) {
	held, err := f.archive.Has(m.Top)
	if err != nil || !held {
		return false, err
	}
	b, err := f.archive.Block(m.Top)
	if err != nil {
		return false, err
	}
	if h := b.Header.Hash(); h != m.Hash {
		return false, fmt.Errorf("%w: block %d is %s, the block above names %s", errArchiveFork, m.Top, h, m.Hash)
	}
	f.logger.Info("archive gap filled: it joins the history archived below", "at", m.Top)
	return true, f.archive.ClearBackfill(m.Top)
}

// fetched is a block fetched, unchecked, and the peer that served it (""
// if none did).
type fetched struct {
	raw  []byte
	peer string
}

// fetchBatch fetches blocks top, top-1, ... (n of them), backfillFetchers
// at a time, each from the first peer that serves it, starting at a
// different peer for each height to spread the load. A block no peer
// serves comes back empty: store tries again.
func (f *backfiller) fetchBatch(ctx context.Context, top, n uint64) []fetched {
	out := make([]fetched, n)
	peers := f.peers()
	sem := make(chan struct{}, backfillFetchers)
	var wg sync.WaitGroup
	for i := range out {
		h := top - uint64(i)
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			for j := range peers {
				p := peers[(int(h)+j)%len(peers)]
				raw, err := f.fetch(ctx, p.URL, h)
				if err == nil {
					out[i] = fetched{raw: raw, peer: p.ID}
					return
				}
				if ctx.Err() != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return out
}

// store checks got against gap m's top and archives it; a block that
// fails the check (or was not fetched) is fetched again from each other
// peer in turn. It returns the gap left below the block.
func (f *backfiller) store(ctx context.Context, m hotchain.Backfill, got fetched) (hotchain.Backfill, error) {
	b, err := checkBackfilled(got.raw, m, f.genesis)
	if err != nil {
		var errs []error
		if got.peer != "" {
			f.logger.Warn("a peer served a bad block; discarded it", "peer", got.peer, "height", m.Top, "err", err)
			errs = append(errs, fmt.Errorf("%s: %w", got.peer, err))
		}
		if b, got, err = f.refetch(ctx, m, got.peer, errs); err != nil {
			return m, err
		}
	}
	if err := f.archive.PutBackfilled(b, got.raw, m); err != nil {
		return m, err
	}
	f.filled.Add(1)
	return hotchain.Backfill{Top: m.Top - 1, Hash: b.Header.Parent}, nil
}

// refetch fetches gap m's top block from each peer but skip in turn, until
// one serves it as the chain has it; errs are the failures so far.
func (f *backfiller) refetch(ctx context.Context, m hotchain.Backfill, skip string, errs []error) (*ledger.Block, fetched, error) {
	for _, p := range f.peers() {
		if p.ID == skip {
			continue
		}
		raw, err := f.fetch(ctx, p.URL, m.Top)
		var b *ledger.Block
		if err == nil {
			if b, err = checkBackfilled(raw, m, f.genesis); err != nil {
				f.logger.Warn("a peer served a bad block; discarded it", "peer", p.ID, "height", m.Top, "err", err)
			}
		}
		if err == nil {
			return b, fetched{raw: raw, peer: p.ID}, nil
		}
		if ctx.Err() != nil {
			return nil, fetched{}, ctx.Err()
		}
		errs = append(errs, fmt.Errorf("%s: %w", p.ID, err))
	}
	if len(errs) == 0 {
		return nil, fetched{}, fmt.Errorf("node: backfill block %d: no peer to fetch it from", m.Top)
	}
	return nil, fetched{}, fmt.Errorf("node: backfill block %d: no peer served it: %w", m.Top, errors.Join(errs...))
}

// checkBackfilled decodes raw and checks it is gap m's top block: its
// height, its header's hash (the one its child names), its body against
// the header's roots, the parent of block 1 (the genesis), and that raw is
// its canonical encoding (the archive serves it as is).
func checkBackfilled(raw []byte, m hotchain.Backfill, genesis ledger.Hash) (*ledger.Block, error) {
	if raw == nil {
		return nil, fmt.Errorf("%w: block %d not fetched", errBadBackfill, m.Top)
	}
	b, err := ledger.DecodeBlock(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: block %d: %w", errBadBackfill, m.Top, err)
	}
	switch h := b.Header.Hash(); {
	case b.Header.Height != m.Top:
		return nil, fmt.Errorf("%w: asked for block %d, got %d", errBadBackfill, m.Top, b.Header.Height)
	case h != m.Hash:
		return nil, fmt.Errorf("%w: block %d hashes to %s, the chain names %s", errBadBackfill, m.Top, h, m.Hash)
	case m.Top == 1 && b.Header.Parent != genesis:
		return nil, fmt.Errorf("%w: block 1's parent is %s, the genesis is %s", errBadBackfill, b.Header.Parent, genesis)
	}
	if err := b.CheckRoots(); err != nil {
		return nil, fmt.Errorf("%w: %w", errBadBackfill, err)
	}
	if !bytes.Equal(b.Encode(), raw) {
		return nil, fmt.Errorf("%w: block %d is not in its canonical encoding", errBadBackfill, m.Top)
	}
	return b, nil
}

// peers returns the members other than this node that have an API URL.
func (f *backfiller) peers() []memberInfo {
	var out []memberInfo
	for _, m := range f.dir.list() {
		if m.ID != f.self && m.URL != "" {
			out = append(out, m)
		}
	}
	return out
}

// pending counts the blocks the archive still lacks (for the gauge).
func (f *backfiller) pending() float64 {
	gaps, err := f.archive.Backfills()
	if err != nil {
		return 0
	}
	var n uint64
	for _, m := range gaps {
		if below, err := f.archive.HeldBelow(m.Top); err == nil {
			n += m.Top - below
		}
	}
	return float64(n)
}

// complete reports whether the archive holds the whole history: no gap is
// pending.
func (f *backfiller) complete() bool {
	gaps, err := f.archive.Backfills()
	return err == nil && len(gaps) == 0
}

// RawBlock returns the archived block at height in its canonical encoding,
// as peers backfilling their archive fetch it.
func (b backend) RawBlock(_ context.Context, height uint64) ([]byte, error) {
	data, err := b.n.archive.RawBlock(height)
	if errors.Is(err, hotchain.ErrNotFound) {
		return nil, detail(ErrNotFound, "block %d is not in this node's archive (head is %d)", height, b.n.chain.Head().Height)
	}
	return data, err
}
