package apitest

import (
	"context"
	"sync"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/ledger"
)

// Config configures a Backend.
type Config struct {
	ChainID     string
	Alloc       []ledger.Allocation // genesis balances
	MempoolSize int                 // 0: 1,000
	AutoCommit  bool                // commit a block at the end of every Submit
	// Trace, if set, makes the VM trace of each transaction committed
	// (nil: it has none), which the backend then serves as a node run
	// with --vm-trace does (api.TraceBackend). SetTrace sets one too.
	Trace func(rec *ledger.TxRecord) *ledger.Trace
}

// Backend is an in-memory api.Backend. It is safe for concurrent use.
type Backend struct {
	cfg Config

	mu       sync.Mutex
	state    state
	pending  []*ledger.Tx
	inPool   map[ledger.Hash]bool
	expected map[ledger.Address]uint64 // next nonce, counting pending txs
	blocks   []*ledger.Block           // blocks[h] is height h; 0 is genesis
	records  map[ledger.Hash]*ledger.TxRecord
	dropped  map[ledger.Hash]error
	traces   map[ledger.Hash]*ledger.Trace
	changed  chan struct{} // closed and replaced when a tx is committed or dropped
}

var _ api.Backend = (*Backend)(nil)

// NewBackend returns a backend holding the genesis block of cfg.
func NewBackend(cfg Config) *Backend {
	if cfg.MempoolSize <= 0 {
		cfg.MempoolSize = 1000
	}
	b := &Backend{
		cfg: cfg, state: state{}, inPool: map[ledger.Hash]bool{},
		expected: map[ledger.Address]uint64{}, records: map[ledger.Hash]*ledger.TxRecord{},
		dropped: map[ledger.Hash]error{}, traces: map[ledger.Hash]*ledger.Trace{}, changed: make(chan struct{}),
	}
	b.blocks = []*ledger.Block{b.genesis()}
	return b
}

// Submit verifies signatures and admits txs to the mempool.
func (b *Backend) Submit(ctx context.Context, txs []*ledger.Tx) ([]ledger.Hash, []error) {
	ids, errs := ledger.VerifyBatch(txs)
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, tx := range txs {
		if errs[i] == nil {
			errs[i] = b.admitLocked(ids[i], tx)
		}
	}
	if b.cfg.AutoCommit {
		b.commitLocked()
	}
	return ids, errs
}

func (b *Backend) admitLocked(id ledger.Hash, tx *ledger.Tx) error {
	if b.inPool[id] {
		return nil // a retry of a pending tx
	}
	switch {
	case tx.ChainID != b.cfg.ChainID:
		return Errorf("wrong_chain_id", "chain id %q, this chain is %q", tx.ChainID, b.cfg.ChainID)
	case tx.Chain != ledger.Hot:
		return Errorf("unsupported", "only hot-chain transactions are accepted")
	case len(b.pending) >= b.cfg.MempoolSize:
		return Errorf("mempool_full", "mempool full (%d txs)", len(b.pending))
	}
	next := b.nextNonceLocked(tx.From)
	switch {
	case tx.Nonce < b.state.uint64(ledger.NonceKey(tx.From)):
		return Errorf("nonce_too_low", "nonce %d already used", tx.Nonce)
	case tx.Nonce < next:
		return Errorf("nonce_taken", "another pending tx has nonce %d", tx.Nonce)
	case tx.Nonce > next:
		return Errorf("nonce_too_high", "nonce %d, next is %d (no gaps allowed here)", tx.Nonce, next)
	}
	b.pending = append(b.pending, tx)
	b.inPool[id] = true
	b.expected[tx.From] = next + 1
	return nil
}

func (b *Backend) nextNonceLocked(a ledger.Address) uint64 {
	if n, ok := b.expected[a]; ok {
		return n
	}
	return b.state.uint64(ledger.NonceKey(a))
}

// Commit executes the pending txs into a new block; it reports whether
// there were any.
func (b *Backend) Commit() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.commitLocked()
}

// Drop removes a pending tx, which then waits as dropped with err. Later
// pending txs of the same sender are left with a nonce gap.
func (b *Backend) Drop(id ledger.Hash, err error) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, tx := range b.pending {
		if tx.ID() == id {
			b.pending = append(b.pending[:i], b.pending[i+1:]...)
			delete(b.inPool, id)
			b.expected[tx.From] = tx.Nonce
			b.dropped[id] = err
			b.notifyLocked()
			return true
		}
	}
	return false
}

func (b *Backend) notifyLocked() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// Wait blocks until every id is committed or dropped, or ctx ends.
func (b *Backend) Wait(ctx context.Context, ids []ledger.Hash) []api.WaitResult {
	for {
		b.mu.Lock()
		res, done := b.lookupLocked(ids)
		changed := b.changed
		b.mu.Unlock()
		if done {
			return res
		}
		select {
		case <-ctx.Done():
			return res
		case <-changed:
		}
	}
}

func (b *Backend) lookupLocked(ids []ledger.Hash) ([]api.WaitResult, bool) {
	res := make([]api.WaitResult, len(ids))
	done := true
	for i, id := range ids {
		if rec, ok := b.records[id]; ok {
			res[i].Record = rec
		} else if err, ok := b.dropped[id]; ok {
			res[i].Err = err
		} else {
			done = false
		}
	}
	return res, done
}

// Tx returns an included transaction.
func (b *Backend) Tx(ctx context.Context, id ledger.Hash) (*ledger.TxRecord, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	rec, ok := b.records[id]
	if !ok {
		return nil, Errorf("not_found", "transaction %s not found", id)
	}
	return rec, nil
}

// Block returns the block at height.
func (b *Backend) Block(ctx context.Context, height uint64) (*ledger.Block, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if height >= uint64(len(b.blocks)) {
		return nil, Errorf("not_found", "block %d not found (head is %d)", height, len(b.blocks)-1)
	}
	return b.blocks[height], nil
}

// RawBlock returns the block at height in its canonical encoding.
func (b *Backend) RawBlock(ctx context.Context, height uint64) ([]byte, error) {
	blk, err := b.Block(ctx, height)
	if err != nil {
		return nil, err
	}
	return blk.Encode(), nil
}

// Account returns the committed balance and next nonce of addr.
func (b *Backend) Account(ctx context.Context, addr ledger.Address) (ledger.Account, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return ledger.Account{
		Address:      addr,
		Balance:      b.state.balance(addr),
		Nonce:        b.state.uint64(ledger.NonceKey(addr)),
		PendingNonce: b.nextNonceLocked(addr),
	}, nil
}

// Status describes the backend as a one-node memory chain.
func (b *Backend) Status(ctx context.Context) (api.Status, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	head := b.blocks[len(b.blocks)-1]
	return api.Status{
		ChainID: b.cfg.ChainID, Node: "apitest", Height: head.Header.Height,
		Head: head.Header.Hash(), Commitment: head.Header.Commitment,
		AppliedIndex: head.Header.Height, Store: "memory", Exec: "native", Mempool: len(b.pending),
		Leader: true, Version: "apitest", ArchiveComplete: true,
	}, nil
}
