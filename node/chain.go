package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dualchain/dualchain/hotchain"
)

// chain is the hot chain in the store, and the head it was last seen at.
// Only the state machine (stateMachine) writes to it.
type chain struct {
	store hotchain.Store
	gen   *hotchain.Genesis

	rebuilding atomic.Bool // reads of the store are not to be trusted

	mu   sync.RWMutex
	head hotchain.Meta
}

// open attaches to the store: a new or wiped store starts from genesis.
func (c *chain) open(ctx context.Context) error {
	meta, err := c.store.Open(ctx, c.gen)
	if err != nil {
		return fmt.Errorf("node: open store: %w", err)
	}
	c.setHead(meta)
	return nil
}

// permanent reports errors that retrying the same apply cannot fix.
func permanent(err error) bool {
	for _, p := range []error{hotchain.ErrCommitmentMismatch, hotchain.ErrBadUpdate,
		hotchain.ErrCorrupt, hotchain.ErrGenesisMismatch, hotchain.ErrEvictingRedis, errBadEntry} {
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
