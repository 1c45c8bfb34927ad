package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dualchain/dualchain/hotchain"
	"github.com/jonboulle/clockwork"
)

// chain applies committed log entries to the store, in log order, and keeps
// the head the producer builds on.
type chain struct {
	store  hotchain.Store
	log    blockLog
	gen    *hotchain.Genesis
	logger *slog.Logger
	clock  clockwork.Clock

	rebuilding atomic.Bool // reads of the store are not to be trusted

	mu   sync.RWMutex
	head hotchain.Meta
}

// open attaches to the store and applies the committed entries it lacks.
func (c *chain) open(ctx context.Context) error {
	meta, err := c.store.Open(ctx, c.gen)
	if err != nil {
		return fmt.Errorf("node: open store: %w", err)
	}
	last, err := c.log.LastIndex()
	if err != nil {
		return err
	}
	if meta.Index > last {
		return fmt.Errorf("%w: store applied index %d, log ends at %d; wipe the store (it is rebuilt from the log) or restore the log",
			errStoreAhead, meta.Index, last)
	}
	c.setHead(meta)
	if meta.Index < last {
		c.logger.Info("replaying block log", "from", meta.Index+1, "to", last, "store", c.store.Kind())
	}
	return c.replay(ctx, meta.Index+1, last)
}

// replay applies log entries from..to.
func (c *chain) replay(ctx context.Context, from, to uint64) error {
	for i := from; i <= to; i++ {
		data, err := c.log.Read(i)
		if err != nil {
			return err
		}
		u, err := decodeEntry(i, data)
		if err != nil {
			return err
		}
		if err := c.applyOnce(ctx, u); err != nil {
			return fmt.Errorf("node: replay entry %d: %w", i, err)
		}
	}
	return nil
}

// apply applies a committed entry: a committed entry must be applied before
// anything else is. It rebuilds the store first if it lost its state or
// went back in time, retries while the store is unreachable, and gives up
// at once on errors retrying cannot fix (a corrupt record, a commitment
// that does not match), which stop the node.
func (c *chain) apply(ctx context.Context, u *hotchain.Update) error {
	for attempt := 0; ; attempt++ {
		err := c.applyOnce(ctx, u)
		if errors.Is(err, hotchain.ErrWiped) || errors.Is(err, hotchain.ErrNotNext) {
			c.logger.Warn("store is not at the head; rebuilding it from genesis and the block log", "index", u.Index, "err", err)
			err = c.rebuild(ctx, u.Index)
		}
		switch {
		case err == nil:
			return nil
		case permanent(err), ctx.Err() != nil:
			return fmt.Errorf("node: apply entry %d: %w", u.Index, err)
		}
		c.logger.Error("apply failed; retrying", "index", u.Index, "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.clock.After(backoff(attempt)):
		}
	}
}

// permanent reports errors that retrying the same apply cannot fix.
func permanent(err error) bool {
	for _, p := range []error{hotchain.ErrCommitmentMismatch, hotchain.ErrBadUpdate,
		hotchain.ErrCorrupt, hotchain.ErrGenesisMismatch, hotchain.ErrEvictingRedis, errStoreAhead} {
		if errors.Is(err, p) {
			return true
		}
	}
	return false
}

// applyOnce applies u. A store already at or past u (an earlier attempt
// landed but its answer was lost) moves the head too.
func (c *chain) applyOnce(ctx context.Context, u *hotchain.Update) error {
	applied, err := c.store.Apply(ctx, u)
	if err != nil {
		return err
	}
	if applied || u.Index > c.Head().Index {
		c.setHead(hotchain.Meta{
			Index: u.Index, Height: u.Block.Header.Height, Head: u.Block.Header.Hash(), Commitment: u.Commitment,
		})
	}
	return nil
}

// rebuild re-attaches to the store (a wiped store starts a new incarnation
// from genesis) and replays the log up to index. While it runs, reads of
// the store are refused (ErrRebuilding).
func (c *chain) rebuild(ctx context.Context, index uint64) error {
	c.rebuilding.Store(true)
	defer c.rebuilding.Store(false)
	meta, err := c.store.Open(ctx, c.gen)
	if err != nil {
		return err
	}
	if meta.Index > index {
		return fmt.Errorf("%w: store applied index %d, log at %d", errStoreAhead, meta.Index, index)
	}
	c.setHead(meta)
	return c.replay(ctx, meta.Index+1, index)
}

// atHead reports whether the store is where the chain's head says: not
// wiped, not rolled back (a Redis restarted from an older snapshot).
func (c *chain) atHead(ctx context.Context) (bool, error) {
	m, err := c.store.Meta(ctx)
	if errors.Is(err, hotchain.ErrWiped) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	h := c.Head()
	return m.Index == h.Index && m.Head == h.Head, nil
}

func (c *chain) setHead(m hotchain.Meta) {
	c.mu.Lock()
	c.head = m
	c.mu.Unlock()
}

// Head returns the applied head.
func (c *chain) Head() hotchain.Meta {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.head
}

// backoff grows from 10 ms to 2 s.
func backoff(attempt int) time.Duration {
	return min(10*time.Millisecond<<min(attempt, 8), 2*time.Second)
}
