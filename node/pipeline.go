package node

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/dualchain/dualchain/consensus"
	"github.com/dualchain/dualchain/hotchain"
)

// inflight is a block the leader proposed that is not yet applied here.
type inflight struct {
	ex       *execution
	data     []byte            // the log entry proposed
	block    []byte            // ex.block in canonical CBOR, as in data
	taken    []pendingTx       // the transactions taken for it, included or not
	writes   map[string][]byte // its write set, for blocks executed on top
	head     hotchain.Meta     // the head after it
	proposal consensus.Proposal
	work     *bridgeWork // the bridge's work the block carries, if any
	start    time.Time
}

func newInflight(ex *execution, data, block []byte, taken []pendingTx, start time.Time) *inflight {
	b := &inflight{ex: ex, data: data, block: block, taken: taken, start: start, writes: make(map[string][]byte, len(ex.block.Writes))}
	for _, w := range ex.block.Writes {
		b.writes[string(w.Key)] = w.Value
	}
	b.head = hotchain.Meta{
		Height: ex.block.Header.Height, Head: ex.block.Header.Hash(), Commitment: ex.commitment,
	}
	return b
}

// pipeline holds the leader's blocks in flight, oldest first. The next
// block executes on top of their effects, so the leader need not wait for
// one block to commit before it executes the next.
type pipeline struct {
	mu     sync.Mutex
	blocks []*inflight
}

// head is the head the next block extends: the newest block in flight, or
// the applied head when none is. applied is read under the pipeline's lock:
// a block is popped only after it is applied, so the two cannot both miss it.
func (p *pipeline) head(applied func() hotchain.Meta) hotchain.Meta {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.blocks) == 0 {
		return applied()
	}
	return p.blocks[len(p.blocks)-1].head
}

func (p *pipeline) push(b *inflight) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blocks = append(p.blocks, b)
}

// pop removes b once it is applied or has failed: the oldest block
// usually, or the newest when its proposal never reached Raft.
func (p *pipeline) pop(b *inflight) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i := slices.Index(p.blocks, b); i >= 0 {
		p.blocks = slices.Delete(p.blocks, i, i+1)
	}
}

// reset empties the pipeline: a leader that stops leading has no blocks in
// flight any more, and the next one builds on the applied head.
func (p *pipeline) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.blocks)
	p.blocks = p.blocks[:0]
}

// read returns the values of keys as the blocks in flight leave them:
// the newest block's write of a key, else the store's value, read in one
// round trip. A block popped during the read is in the store by then, so
// either source gives the same value.
func (p *pipeline) read(ctx context.Context, store hotchain.Store, keys [][]byte) ([][]byte, error) {
	p.mu.Lock()
	blocks := append([]*inflight(nil), p.blocks...)
	p.mu.Unlock()
	values := make([][]byte, len(keys))
	var missing [][]byte
	var at []int
	for i, k := range keys {
		found := false
		for j := len(blocks) - 1; j >= 0 && !found; j-- {
			values[i], found = blocks[j].writes[string(k)]
		}
		if !found {
			missing, at = append(missing, k), append(at, i)
		}
	}
	if len(missing) == 0 {
		return values, nil
	}
	got, err := store.Get(ctx, missing)
	if err != nil {
		return nil, err
	}
	for j, i := range at {
		values[i] = got[j]
	}
	return values, nil
}

// decoded returns, for a committed entry that is one of the blocks in
// flight (byte for byte), the block as the leader executed it, sparing the
// leader a decode of its own entry.
func (p *pipeline) decoded(index uint64, data []byte) (decodedEntry, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range p.blocks {
		if len(b.data) == len(data) && bytes.Equal(b.data, data) {
			u := &hotchain.Update{Index: index, Block: b.ex.block, Commitment: b.ex.commitment}
			return decodedEntry{update: u, block: b.block, traces: b.ex.traces}, true
		}
	}
	return decodedEntry{}, false
}
