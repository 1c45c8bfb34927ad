package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dualchain/dualchain/hotchain"
)

// chain applies committed log entries to the store, in log order, and keeps
// the head the producer builds on.
type chain struct {
	store  hotchain.Store
	log    blockLog
	gen    *hotchain.Genesis
	logger *slog.Logger

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

// apply applies a committed entry, rebuilding the store first if it lost
// its data, and retrying while the store is unreachable: a committed entry
// must be applied before anything else is.
func (c *chain) apply(ctx context.Context, u *hotchain.Update) error {
	for attempt := 0; ; attempt++ {
		err := c.applyOnce(ctx, u)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, hotchain.ErrWiped), errors.Is(err, hotchain.ErrNotNext):
			c.logger.Warn("store lost its state; rebuilding from genesis and the block log", "index", u.Index, "err", err)
			if err = c.rebuild(ctx, u.Index); err == nil {
				return nil
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.logger.Error("apply failed; retrying", "index", u.Index, "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff(attempt)):
		}
	}
}

func (c *chain) applyOnce(ctx context.Context, u *hotchain.Update) error {
	applied, err := c.store.Apply(ctx, u)
	if err != nil {
		return err
	}
	if applied {
		c.setHead(hotchain.Meta{
			Index: u.Index, Height: u.Block.Header.Height, Head: u.Block.Header.Hash(), Commitment: u.Commitment,
		})
	}
	return nil
}

// rebuild re-attaches to the store (a wiped store starts a new incarnation
// from genesis) and replays the log up to index.
func (c *chain) rebuild(ctx context.Context, index uint64) error {
	meta, err := c.store.Open(ctx, c.gen)
	if err != nil {
		return err
	}
	c.setHead(meta)
	return c.replay(ctx, meta.Index+1, index)
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
