package node

import (
	"errors"
	"sync"
	"time"

	"github.com/dualchain/dualchain/ledger"
)

// pendingTx is a verified transaction waiting for a block.
type pendingTx struct {
	tx *ledger.Tx
	id ledger.Hash
}

// sender is one account's queue: transactions by nonce, and the nonce the
// next block must start from.
type sender struct {
	next    uint64 // next nonce to take into a block
	txs     map[uint64]pendingTx
	queued  bool      // in the ready queue
	taken   int       // transactions taken but not yet committed or dropped
	resume  *uint64   // where to resume once nothing is taken: the lowest abandoned nonce
	touched time.Time // last admission, for expiring transactions stuck behind a gap
}

// mempool holds verified transactions in per-sender nonce order. It is
// bounded, deduplicates by id, and accepts nonces up to a window past the
// sender's next nonce so one sender can pipeline. Transactions waiting
// behind a nonce gap expire (expire), so they cannot fill the pool for good.
type mempool struct {
	mu      sync.Mutex
	limit   int
	window  uint64
	size    int
	byID    map[ledger.Hash]bool // pending or taken
	senders map[ledger.Address]*sender
	ready   []ledger.Address // senders whose next nonce is present, FIFO
	notify  chan struct{}    // signalled when txs become ready
	epoch   uint64           // counts calls to done and reset: committed state moved
}

// errStaleState means the committed state an admission read may be older
// than a block that finished since: read it again.
var errStaleState = errors.New("node: sender state changed during admission")

// pendingTxErr is a transaction dropped from the pool, and why.
type pendingTxErr struct {
	id  ledger.Hash
	err error
}

func newMempool(limit int, window uint64) *mempool {
	return &mempool{
		limit: limit, window: window,
		byID:    make(map[ledger.Hash]bool),
		senders: make(map[ledger.Address]*sender),
		notify:  make(chan struct{}, 1),
	}
}

// snapshot returns the epoch to pass to add with state read after it.
func (m *mempool) snapshot() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.epoch
}

// add admits tx at time now. Its sender's committed next nonce was read as
// stateNonce after snapshot returned epoch. If a block finished since and
// the pool knows nothing of the sender, that read may be stale: add returns
// errStaleState. A read is never ahead of committed state, so a read above
// what the pool believes moves the sender forward, before a retry is
// recognised: a retry must not keep a transaction waiting behind a gap a
// stale read made (as the cold pool found, TestColdPoolMovesPastAStaleRead).
func (m *mempool) add(tx *ledger.Tx, id ledger.Hash, stateNonce, epoch uint64, now time.Time) ([]pendingTxErr, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.senders[tx.From]
	var dropped []pendingTxErr
	if s != nil && s.taken == 0 && stateNonce > s.next {
		dropped = m.advance(tx.From, s, stateNonce)
	}
	if m.byID[id] {
		return dropped, nil // a retry of a pending transaction
	}
	if s == nil && epoch != m.epoch {
		return dropped, errStaleState
	}
	base := stateNonce
	if s != nil {
		base = max(base, s.next)
	}
	if err := m.admissible(tx, s, base); err != nil {
		return dropped, err
	}
	if s == nil {
		s = &sender{next: stateNonce, txs: make(map[uint64]pendingTx)}
		m.senders[tx.From] = s
	}
	s.txs[tx.Nonce] = pendingTx{tx: tx, id: id}
	s.touched = now
	m.byID[id] = true
	m.size++
	m.queueIfReady(tx.From, s)
	return dropped, nil
}

// admissible checks tx's nonce against base, the sender's next nonce, and
// the pool's bound.
func (m *mempool) admissible(tx *ledger.Tx, s *sender, base uint64) error {
	switch {
	case tx.Nonce < base:
		return detail(ErrNonceTooLow, "nonce %d, account's next nonce is %d", tx.Nonce, base)
	case tx.Nonce >= base+m.window:
		return detail(ErrNonceTooHigh, "nonce %d, account's next nonce is %d, window %d", tx.Nonce, base, m.window)
	}
	if s != nil {
		if _, taken := s.txs[tx.Nonce]; taken {
			return detail(ErrNonceTaken, "nonce %d", tx.Nonce)
		}
	}
	if m.size >= m.limit {
		return detail(ErrMempoolFull, "%d transactions pending", m.size)
	}
	return nil
}

// advance moves a sender's next nonce to nonce, dropping what is below it.
func (m *mempool) advance(addr ledger.Address, s *sender, nonce uint64) []pendingTxErr {
	s.next = nonce
	var dropped []pendingTxErr
	for n, p := range s.txs {
		if n < nonce {
			dropped = append(dropped, m.remove(s, n, p, detail(ErrNonceTooLow, "nonce %d, account's next nonce is %d", n, nonce)))
		}
	}
	m.queueIfReady(addr, s)
	return dropped
}

// remove drops one pending transaction.
func (m *mempool) remove(s *sender, nonce uint64, p pendingTx, err error) pendingTxErr {
	delete(s.txs, nonce)
	delete(m.byID, p.id)
	m.size--
	return pendingTxErr{p.id, err}
}

// queueIfReady puts a sender whose next nonce is pending on the ready queue.
func (m *mempool) queueIfReady(addr ledger.Address, s *sender) {
	if s.queued {
		return
	}
	if _, ok := s.txs[s.next]; !ok {
		return
	}
	s.queued = true
	m.ready = append(m.ready, addr)
	m.signal()
}

// signal wakes the producer if it is waiting.
func (m *mempool) signal() {
	select {
	case m.notify <- struct{}{}:
	default:
	}
}

// take removes up to n ready transactions whose gas limits add up to at
// most maxGas (the first is taken whatever its limit), in nonce order per
// sender and round-robin between senders, and marks them taken.
func (m *mempool) take(n int, maxGas uint64) []pendingTx {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []pendingTx
	var gas uint64
	full := false
	for len(out) < n && len(m.ready) > 0 && !full {
		addr := m.ready[0]
		m.ready = m.ready[1:]
		s := m.senders[addr]
		s.queued = false
		for len(out) < n {
			p, ok := s.txs[s.next]
			if !ok {
				break
			}
			if full = len(out) > 0 && gas+p.tx.GasLimit > maxGas; full {
				break
			}
			gas += p.tx.GasLimit
			delete(s.txs, s.next)
			s.next++
			s.taken++
			m.size--
			out = append(out, p)
		}
		m.queueIfReady(addr, s)
	}
	if len(m.ready) == 0 {
		m.ready = nil // let the backing array go
	} else {
		m.signal() // what is left is ready for the next block
	}
	return out
}

// done reports that taken transactions were committed (or dropped by the
// block): their ids leave the pool, and each sender's next nonce is set to
// its committed nonce in nonces, once none of its transactions are still
// taken (blocks in flight hold its later nonces). Pending transactions
// below it are dropped with ErrNonceTooLow.
func (m *mempool) done(taken []pendingTx, nonces map[ledger.Address]uint64) []pendingTxErr {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.epoch++
	m.release(taken)
	var dropped []pendingTxErr
	for addr, nonce := range nonces {
		if s := m.senders[addr]; s != nil && s.taken == 0 {
			dropped = append(dropped, m.settle(addr, s, nonce)...)
		}
	}
	return dropped
}

// abandon reports that taken transactions may not commit (their block
// failed or its outcome is unknown): their ids leave the pool, and each
// sender resumes from its lowest abandoned nonce once none of its
// transactions are still taken. A client resubmits them with the same
// nonces; one that did commit is then refused as a replay.
func (m *mempool) abandon(taken []pendingTx) []pendingTxErr {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.epoch++
	m.release(taken)
	var dropped []pendingTxErr
	for _, p := range taken {
		s := m.senders[p.tx.From]
		if s == nil {
			continue
		}
		if s.resume == nil || p.tx.Nonce < *s.resume {
			n := p.tx.Nonce
			s.resume = &n
		}
	}
	for _, p := range taken {
		if s := m.senders[p.tx.From]; s != nil && s.taken == 0 && s.resume != nil {
			dropped = append(dropped, m.settle(p.tx.From, s, *s.resume)...)
		}
	}
	return dropped
}

// release forgets the ids of taken transactions.
func (m *mempool) release(taken []pendingTx) {
	for _, p := range taken {
		delete(m.byID, p.id)
		m.senders[p.tx.From].taken--
	}
}

// settle moves a sender with nothing taken to nonce (or to where an
// abandoned block left it, if lower).
func (m *mempool) settle(addr ledger.Address, s *sender, nonce uint64) []pendingTxErr {
	if s.resume != nil {
		nonce = min(nonce, *s.resume)
		s.resume = nil
	}
	dropped := m.advance(addr, s, nonce)
	m.collect(addr, s)
	return dropped
}

// drain removes every pending transaction, when this node stops leading:
// the new leader takes transactions now. Call it with nothing taken.
func (m *mempool) drain() []pendingTx {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []pendingTx
	for addr, s := range m.senders {
		for n, p := range s.txs {
			out = append(out, p)
			m.remove(s, n, p, nil)
		}
		s.queued = false
		m.collect(addr, s)
	}
	m.ready = nil
	m.epoch++
	return out
}

// collect forgets a sender with nothing pending or taken.
func (m *mempool) collect(addr ledger.Address, s *sender) {
	if len(s.txs) == 0 && s.taken == 0 && !s.queued {
		delete(m.senders, addr)
	}
}

// expire drops the transactions of senders that have waited behind a nonce
// gap, with nothing ready or taken, since before cutoff.
func (m *mempool) expire(cutoff time.Time) []pendingTxErr {
	m.mu.Lock()
	defer m.mu.Unlock()
	var dropped []pendingTxErr
	for addr, s := range m.senders {
		if s.queued || s.taken > 0 || !s.touched.Before(cutoff) {
			continue
		}
		for n, p := range s.txs {
			dropped = append(dropped, m.remove(s, n, p, detail(ErrNonceGap, "nonce %d waited for nonce %d, which never came", n, s.next)))
		}
		m.collect(addr, s)
	}
	return dropped
}

// reset moves the epoch after the store was rebuilt, so admissions that
// read sender state during the rebuild read it again.
func (m *mempool) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.epoch++
}

// full reports whether a whole block's worth of transactions is pending and
// some of them are ready.
func (m *mempool) full(blockTxs int) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.size >= blockTxs && len(m.ready) > 0
}

// pendingNonce is the nonce after sender a's pending and taken
// transactions that follow committed without a gap.
func (m *mempool) pendingNonce(a ledger.Address, committed uint64) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.senders[a]
	if s == nil {
		return committed
	}
	n := max(committed, s.next)
	for {
		if _, ok := s.txs[n]; !ok {
			return n
		}
		n++
	}
}

// has reports whether id is pending or taken.
func (m *mempool) has(id ledger.Hash) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.byID[id]
}

// len is the number of pending (not taken) transactions.
func (m *mempool) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.size
}
