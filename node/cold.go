package node

import (
	"context"
	"sync"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/bridge"
	"github.com/dualchain/dualchain/coldchain"
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/internal/failpoint"
	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/vm"
)

// coldEntry is a cold block as the leader proposes it: its time and its
// cold transactions, signatures checked. Everything else the block
// applies each node reads from its own state at the entry's place in the
// log: the hot head it checkpoints and the hot writes since the previous
// checkpoint. So every node applies the same block.
type coldEntry struct {
	_    struct{} `cbor:",toarray"`
	Time int64
	Txs  []ledger.Tx
}

// coldTx decodes a cold transaction's call: a transfer of the base token
// between cold accounts, or a deposit to the sender's hot account.
func coldTx(tx *ledger.Tx, id ledger.Hash) (coldchain.Tx, error) {
	c := coldchain.Tx{Tx: *tx, ID: id}
	switch {
	case tx.Contract == ledger.BridgeAddress && tx.Function == ledger.FuncDeposit:
		amount, err := ledger.DecodeAmount(tx.Args)
		if err != nil {
			return c, detail(ErrBadArgs, "%v", err)
		}
		c.Kind, c.Amount = coldchain.TxDeposit, amount
	case isTransfer(tx):
		a, err := token.DecodeTransfer(tx.Args)
		if err != nil {
			return c, detail(ErrBadArgs, "%v", err)
		}
		c.Kind, c.To, c.Amount = coldchain.TxTransfer, a.To, a.Amount
	default:
		return c, detail(ErrUnknownContract, "the cold chain runs base token transfers and bridge deposits, not %s.%s",
			tx.Contract, tx.Function)
	}
	return c, nil
}

// coldPool holds cold transactions until the leader puts them in a cold
// block. A sender may submit up to its nonce window ahead of its next cold
// nonce, in any order; a block takes each sender's transactions in nonce
// order from its next nonce, senders in the order they became ready.
type coldPool struct {
	mu      sync.Mutex
	limit   int
	window  uint64
	size    int // transactions pending (not taken)
	byID    map[ledger.Hash]bool
	senders map[ledger.Address]*coldSender
	ready   []ledger.Address // senders that may have their next nonce pending, FIFO
	notify  chan struct{}
}

type coldSender struct {
	next  uint64 // the nonce the next block takes
	txs   map[uint64]pendingTx
	taken int // taken and not yet done
	ready bool
}

func newColdPool(limit int, window uint64) *coldPool {
	return &coldPool{
		limit: limit, window: window, byID: make(map[ledger.Hash]bool),
		senders: make(map[ledger.Address]*coldSender), notify: make(chan struct{}, 1),
	}
}

// add admits tx, whose sender's committed cold nonce is stateNonce. A read
// is never ahead of committed state, so a stateNonce above what the pool
// believes moves the sender forward first, retries included: a pool that
// learnt a sender's nonce from a stale read (a leader still replaying its
// log after a restart) would otherwise hold the sender's transactions
// behind a gap nothing fills, and every retry would be taken for a
// pending transaction.
func (p *coldPool) add(tx *ledger.Tx, id ledger.Hash, stateNonce uint64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.senders[tx.From]
	if s != nil && s.taken == 0 && stateNonce > s.next {
		p.advance(tx.From, s, stateNonce)
	}
	if p.byID[id] {
		return nil // a retry of a pending transaction
	}
	if s == nil {
		s = &coldSender{next: stateNonce, txs: make(map[uint64]pendingTx)}
	}
	_, pending := s.txs[tx.Nonce]
	switch {
	case tx.Nonce < stateNonce:
		return detail(ErrNonceTooLow, "cold nonce %d, the account's next cold nonce is %d", tx.Nonce, stateNonce)
	case tx.Nonce < s.next || pending:
		return detail(ErrNonceTaken, "another cold transaction with nonce %d is pending", tx.Nonce)
	case tx.Nonce >= s.next+p.window:
		return detail(ErrNonceTooHigh, "cold nonce %d, the account's next is %d and the window %d", tx.Nonce, s.next, p.window)
	case p.size >= p.limit:
		return ErrMempoolFull
	}
	p.senders[tx.From] = s
	s.txs[tx.Nonce] = pendingTx{tx: tx, id: id}
	p.byID[id] = true
	p.size++
	p.markReady(tx.From, s)
	return nil
}

// advance moves a sender with nothing taken to its committed nonce: what
// is pending below it can never be included (its nonce is used) and is
// forgotten; what is pending at it becomes ready.
func (p *coldPool) advance(addr ledger.Address, s *coldSender, nonce uint64) {
	s.next = nonce
	for n, t := range s.txs {
		if n < nonce {
			delete(s.txs, n)
			delete(p.byID, t.id)
			p.size--
		}
	}
	if len(s.txs) == 0 {
		delete(p.senders, addr)
		return
	}
	p.markReady(addr, s)
}

// markReady queues s if its next nonce is pending and it is not queued.
func (p *coldPool) markReady(addr ledger.Address, s *coldSender) {
	if _, ok := s.txs[s.next]; !ok || s.ready {
		return
	}
	s.ready = true
	p.ready = append(p.ready, addr)
	select {
	case p.notify <- struct{}{}:
	default:
	}
}

// has reports whether id is pending or taken.
func (p *coldPool) has(id ledger.Hash) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.byID[id]
}

// pendingNonce is addr's next cold nonce after its pending transactions
// without a gap.
func (p *coldPool) pendingNonce(addr ledger.Address, stateNonce uint64) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.senders[addr]
	if s == nil {
		return stateNonce
	}
	n := max(s.next, stateNonce)
	for _, ok := s.txs[n]; ok; _, ok = s.txs[n] {
		n++
	}
	return n
}

// readyLen reports whether a block would take anything.
func (p *coldPool) readyLen() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.ready)
}

// take removes up to n ready transactions for a block (n < 0: all), each
// sender's in nonce order.
func (p *coldPool) take(n int) []pendingTx {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []pendingTx
	for len(p.ready) > 0 && (n < 0 || len(out) < n) {
		a := p.ready[0]
		s := p.senders[a]
		if s == nil {
			p.ready = p.ready[1:]
			continue
		}
		for n < 0 || len(out) < n {
			t, ok := s.txs[s.next]
			if !ok {
				break
			}
			delete(s.txs, s.next)
			s.next++
			s.taken++
			p.size--
			out = append(out, t)
		}
		if _, more := s.txs[s.next]; more {
			break // n reached; the sender stays first
		}
		s.ready = false
		p.ready = p.ready[1:]
	}
	return out
}

// done forgets taken transactions: committed or dropped.
func (p *coldPool) done(txs []pendingTx) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range txs {
		if !p.byID[t.id] {
			continue
		}
		delete(p.byID, t.id)
		s := p.senders[t.tx.From]
		if s == nil {
			continue // drained meanwhile
		}
		if s.taken--; s.taken == 0 && len(s.txs) == 0 {
			delete(p.senders, t.tx.From)
		}
	}
}

// forget removes a sender whose taken transactions a block left out (its
// nonces are not where the pool thought), and returns its pending ones.
func (p *coldPool) forget(addr ledger.Address) []pendingTx {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.senders[addr]
	if s == nil {
		return nil
	}
	var out []pendingTx
	for _, t := range s.txs {
		out = append(out, t)
		delete(p.byID, t.id)
		p.size--
	}
	// Its next nonce is unknown here: the next admission reads it from
	// the cold chain. Its taken transactions are done by then (done skips
	// a sender that is gone), and take skips it in ready.
	delete(p.senders, addr)
	return out
}

// drain removes every transaction, taken or not, and returns the ones not
// taken; a new leader starts from the committed nonces.
func (p *coldPool) drain() []pendingTx {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []pendingTx
	for _, s := range p.senders {
		for _, t := range s.txs {
			out = append(out, t)
			delete(p.byID, t.id)
		}
	}
	p.senders = make(map[ledger.Address]*coldSender)
	p.ready, p.size = nil, 0
	return out
}

// checkpoint proposes cold blocks while this node leads: one every
// CheckpointInterval while hot state changed, and sooner (after
// ColdBlockInterval) while cold transactions wait. One cold block is in
// flight at a time.
func (n *Node) checkpoint(ctx context.Context) error {
	tick := n.clock.NewTicker(min(n.cfg.ColdBlockInterval, n.cfg.CheckpointInterval))
	defer tick.Stop()
	last := n.clock.Now()
	for {
		select {
		case <-ctx.Done():
			n.finishAll(n.cold.pool.drain(), ErrStopped)
			return nil
		case <-tick.Chan():
		case <-n.cold.pool.notify:
		}
		if !n.replica.IsLeader() {
			n.finishAll(n.cold.pool.drain(), ErrNotLeader)
			continue
		}
		if !n.leading.Load() {
			continue // elected, not yet caught up (Barrier)
		}
		since := n.clock.Since(last)
		txsDue := n.cold.pool.readyLen() > 0 && since >= n.cfg.ColdBlockInterval
		if !txsDue && (since < n.cfg.CheckpointInterval || !n.sm.changedSinceCheckpoint()) {
			continue
		}
		last = n.clock.Now()
		if err := n.proposeCold(ctx); err != nil && ctx.Err() == nil {
			n.logger.Warn("cold block did not commit", "err", err)
		}
	}
}

// proposeCold proposes one cold block with the waiting cold transactions
// and waits for it to apply here.
func (n *Node) proposeCold(ctx context.Context) error {
	taken := n.cold.pool.take(n.cfg.MaxColdBlockTxs)
	defer n.cold.pool.done(taken)
	if err := failpoint.Inject(failpoint.CheckpointPropose); err != nil {
		n.finishAll(taken, ErrBlockFailed)
		return err
	}
	e := coldEntry{Time: n.clock.Now().UnixNano(), Txs: make([]ledger.Tx, len(taken))}
	for i, p := range taken {
		e.Txs[i] = *p.tx
	}
	data, err := ledger.Marshal(entry{Kind: entryColdBlock, Cold: &e})
	if err == nil {
		prop, perr := n.replica.Propose(ctx, data)
		if err = perr; err == nil {
			_, err = prop.Wait(ctx)
		}
	}
	if err != nil {
		n.finishAll(taken, ErrBlockFailed)
		return err
	}
	// Applied: the state machine told the waiters of the included ones.
	var dropped []pendingTxErr
	gap := detail(ErrNonceGap, "the cold block left it out: its nonce was not the account's next; resubmit from the account's next cold nonce")
	for _, p := range taken {
		ok, err := n.cold.chain.Included(p.id)
		if err != nil {
			dropped = append(dropped, pendingTxErr{p.id, err})
			continue
		}
		if !ok {
			dropped = append(dropped, pendingTxErr{p.id, gap})
			for _, q := range n.cold.pool.forget(p.tx.From) {
				dropped = append(dropped, pendingTxErr{q.id, gap})
			}
		}
	}
	n.finishDropped(dropped)
	return nil
}

// coldSide is the node's cold chain and what goes with it.
type coldSide struct {
	chain *coldchain.Chain
	pool  *coldPool

	// work is the bridge's next hot effects: deposits to credit and
	// records to delete, read from the cold chain after each cold block.
	// The producer takes it into the next hot block.
	mu         sync.Mutex
	work       *bridgeWork
	workHeight uint64 // the cold height of the newest work installed
	notify     chan struct{}
}

type bridgeWork struct {
	deposits []ledger.BridgeTransfer
	cleanup  [][]byte
}

func (w *bridgeWork) empty() bool { return w == nil || len(w.deposits) == 0 && len(w.cleanup) == 0 }

// refreshWork reads the bridge's hot work from the cold chain. A read
// older than the work installed last is dropped: it could list a deposit
// whose credit the newer work knows is done.
func (c *coldSide) refreshWork() error {
	height, deps, cleanup, err := c.chain.BridgeWork()
	if err != nil {
		return err
	}
	c.mu.Lock()
	if height < c.workHeight {
		c.mu.Unlock()
		return nil
	}
	c.work, c.workHeight = &bridgeWork{deposits: deps, cleanup: cleanup}, height
	c.mu.Unlock()
	if len(deps)+len(cleanup) > 0 {
		select {
		case c.notify <- struct{}{}:
		default:
		}
	}
	return nil
}

// takeWork hands the bridge's hot work to the next block, once.
func (c *coldSide) takeWork() *bridgeWork {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.work
	c.work = nil
	if w.empty() {
		return nil
	}
	return w
}

// effects returns the function that adds w's writes to a block, and the
// keys it reads.
func (w *bridgeWork) effects() (func(st vm.State, height uint64) []vm.Write, [][]byte) {
	if w.empty() {
		return nil, nil
	}
	keys := make([][]byte, 0, 2*len(w.deposits)+len(w.cleanup))
	for _, d := range w.deposits {
		keys = append(keys, bridge.MarkerKey(d.ID), token.BalanceKey(d.Owner))
	}
	keys = append(keys, w.cleanup...)
	return func(st vm.State, height uint64) []vm.Write {
		return bridge.Effects(st, height, w.deposits, w.cleanup)
	}, keys
}

// coldApplied runs on every node once a cold block is applied: it tells
// the clients waiting for its transactions, and, on the leader, reads the
// bridge's hot work.
func (n *Node) coldApplied(b *ledger.ColdBlock) {
	ids := make([]ledger.Hash, len(b.Txs))
	results := make([]api.WaitResult, len(b.Txs))
	for i := range b.Txs {
		ids[i] = b.Receipts[i].TxID
		results[i].Record = &ledger.TxRecord{Tx: b.Txs[i], Receipt: b.Receipts[i], Height: b.Header.Height, Index: uint32(i)}
	}
	n.tracker.finish(ids, results)
	n.metrics.observeCold(b)
	if n.leading.Load() {
		if err := n.cold.refreshWork(); err != nil {
			n.logger.Error("read the bridge's pending work", "err", err)
		}
	}
}
