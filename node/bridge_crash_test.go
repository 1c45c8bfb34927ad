package node

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/ledger"
)

// bridgeModel is what a workload expects of each account: its hot and
// cold balances and next nonces, and the bridge transfers not yet seen
// done (their credit is not in the balances yet).
type bridgeModel struct {
	hot, cold           map[ledger.Address]uint64
	hotNonce, coldNonce map[ledger.Address]uint64
	pending             map[ledger.Hash]*ledger.Tx
}

// crashingNode runs a node that a crash point may stop at any time, and
// restarts it from its data dir: with its store kept (the process died,
// Redis lived) or with an empty one (both died).
type crashingNode struct {
	t      *testing.T
	cfg    Config
	n      *Node
	cancel context.CancelFunc
	done   chan error
	armed  atomic.Pointer[string] // the crash point to stop at next

	mu   sync.Mutex
	hits map[string]int // crash points stopped at
}

func (c *crashingNode) start() {
	c.t.Helper()
	c.cfg.Logger = testLogger(c.t)
	c.cfg.crashAt = c.armedAt
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithCancel(context.Background())
		n, err := New(ctx, c.cfg)
		if err != nil {
			cancel()
			c.t.Fatalf("New = %v", err)
		}
		c.n, c.cancel, c.done = n, cancel, make(chan error, 1)
		go func() { c.done <- n.Run(ctx) }()
		if c.caughtUp() || attempt == 5 {
			return
		}
		// An armed crash point was reached while the node recovered:
		// that is a crash too. Start it again.
		cancel()
		if err := <-c.done; !errors.Is(err, errCrashed) {
			c.t.Fatalf("node stopped while starting with %v, want a crash point", err)
		}
	}
}

// caughtUp waits until the node has caught up, and reports false if it
// stopped first.
func (c *crashingNode) caughtUp() bool {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c.n.replica.CaughtUp() {
			return true
		}
		if c.n.replica.State().Role == "shutdown" {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.t.Fatalf("node %s did not catch up: %+v", c.n.cfg.NodeID, c.n.replica.State())
	return false
}

// armedAt disarms and reports true if p is the armed point.
func (c *crashingNode) armedAt(p string) bool {
	a := c.armed.Load()
	if a == nil || *a != p || !c.armed.CompareAndSwap(a, nil) {
		return false
	}
	c.mu.Lock()
	c.hits[p]++
	c.mu.Unlock()
	return true
}

// restartIfCrashed restarts the node if a crash point stopped it, keeping
// its store or, with wipe, giving it an empty one.
func (c *crashingNode) restartIfCrashed(wipe bool) bool {
	select {
	case err := <-c.done:
		if !errors.Is(err, errCrashed) {
			c.t.Fatalf("node stopped with %v, want a crash point", err)
		}
	default:
		return false
	}
	c.cancel()
	if wipe {
		c.cfg.store = hotchain.NewMemoryStore()
	}
	c.start()
	return true
}

func (c *crashingNode) stop() {
	c.cancel()
	if err := <-c.done; err != nil && !errors.Is(err, errCrashed) {
		c.t.Errorf("Run = %v", err)
	}
}

// submit submits tx until it is committed with an ok receipt, riding out
// crashes: a resubmitted transaction that already committed is answered
// with its record.
func (c *crashingNode) submit(tx *ledger.Tx, wipe bool) *ledger.TxRecord {
	c.t.Helper()
	for attempt := 0; attempt < 50; attempt++ {
		b := backend{c.n}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ids, errs := b.Submit(ctx, []*ledger.Tx{tx})
		var r api.WaitResult
		if errs[0] == nil {
			r = b.Wait(ctx, ids)[0]
		}
		cancel()
		if r.Record != nil {
			if r.Record.Receipt.Status != ledger.StatusOK {
				c.t.Fatalf("%s %s: receipt %+v", tx.Chain, tx.Function, r.Record.Receipt)
			}
			return r.Record
		}
		if !c.restartIfCrashed(wipe) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	c.t.Fatalf("%s %s nonce %d never committed", tx.Chain, tx.Function, tx.Nonce)
	return nil
}

// TestBridgeConservesValueThroughCrashes runs a random workload of hot
// transfers, settles, cold transfers and deposits, stopping the node at a
// random crash point of applying hot and cold blocks every few operations
// and restarting it, half the time with its hot store lost too. Every
// transaction commits exactly once, every settle and deposit arrives
// exactly once, and the audit balances at the end.
func TestBridgeConservesValueThroughCrashes(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	cfg := TestConfig(t.TempDir())
	cfg.Exec = ExecNative
	cfg.store = hotchain.NewMemoryStore()
	cfg.Raft.SnapshotThreshold = 64 // snapshots (and restores from them) happen too
	c := &crashingNode{t: t, cfg: cfg, hits: make(map[string]int)}
	c.start()
	defer func() { c.stop() }()

	f := faucet(t, cfg)
	users := make([]*ledger.Key, 4)
	m := bridgeModel{
		hot: map[ledger.Address]uint64{}, cold: map[ledger.Address]uint64{},
		hotNonce: map[ledger.Address]uint64{}, coldNonce: map[ledger.Address]uint64{},
		pending: map[ledger.Hash]*ledger.Tx{},
	}
	for i := range users {
		users[i] = ledger.KeyFromSeed(append(make([]byte, 31), byte(10+i)))
		c.submit(transfer(f, uint64(i), users[i].Address, 10_000), false)
		m.hot[users[i].Address] = 10_000
	}
	ops := 120
	if testing.Short() {
		ops = 40
	}
	for op := 0; op < ops; op++ {
		if op%5 == 0 {
			p := crashPoints[rng.IntN(len(crashPoints))]
			c.armed.Store(&p)
		}
		wipe := rng.IntN(2) == 0
		u, v := users[rng.IntN(len(users))], users[rng.IntN(len(users))]
		a, b := u.Address, v.Address
		switch kind := rng.IntN(4); {
		case kind == 0 && m.hot[a] > 0: // hot transfer
			amt := 1 + rng.Uint64N(m.hot[a])/4
			c.submit(transfer(u, m.hotNonce[a], b, amt), wipe)
			m.hotNonce[a]++
			m.hot[a] -= amt
			m.hot[b] += amt
		case kind == 1 && m.hot[a] > 0: // settle
			amt := 1 + rng.Uint64N(m.hot[a])/4
			tx := bridgeTx(u, ledger.Hot, m.hotNonce[a], amt)
			c.submit(tx, wipe)
			m.hotNonce[a]++
			m.hot[a] -= amt
			m.pending[tx.ID()] = tx
		case kind == 2 && m.cold[a] > 0: // cold transfer
			amt := 1 + rng.Uint64N(m.cold[a])/4
			c.submit(coldTransfer(u, m.coldNonce[a], b, amt), wipe)
			m.coldNonce[a]++
			m.cold[a] -= amt
			m.cold[b] += amt
		case kind == 3 && m.cold[a] > 0: // deposit
			amt := 1 + rng.Uint64N(m.cold[a])/4
			tx := bridgeTx(u, ledger.Cold, m.coldNonce[a], amt)
			c.submit(tx, wipe)
			m.coldNonce[a]++
			m.cold[a] -= amt
			m.pending[tx.ID()] = tx
		}
		m.settle(t, c)
		if op%10 == 9 && !c.restartIfCrashed(false) {
			if a, err := (backend{c.n}).Audit(context.Background()); err == nil && (!a.Conserved() || a.MirrorMismatches != 0) {
				t.Fatalf("audit after op %d: %+v", op, a)
			}
		}
	}
	c.armed.Store(nil)
	waitFor(t, "every bridge transfer done", func() bool {
		c.restartIfCrashed(false)
		m.settle(t, c)
		return len(m.pending) == 0
	})
	b := backend{c.n}
	for _, u := range users {
		a := u.Address
		if got := balance(t, b, a); got.Balance != m.hot[a] || got.Nonce != m.hotNonce[a] {
			t.Errorf("%s hot %+v, want balance %d nonce %d", a, got, m.hot[a], m.hotNonce[a])
		}
		if got := coldBalance(t, b, a); got.Balance != m.cold[a] || got.Nonce != m.coldNonce[a] {
			t.Errorf("%s cold %+v, want balance %d nonce %d", a, got, m.cold[a], m.coldNonce[a])
		}
	}
	a := checkAudit(t, b)
	c.mu.Lock()
	defer c.mu.Unlock()
	t.Logf("crash points hit %v; audit %+v", c.hits, a)
	if len(c.hits) == 0 {
		t.Fatal("no crash point was hit: the test tested nothing")
	}
}

// settle moves the transfers the node reports done into the model.
func (m *bridgeModel) settle(t *testing.T, c *crashingNode) {
	b := backend{c.n}
	for id, tx := range m.pending {
		st, err := b.BridgeTransfer(context.Background(), id)
		if err != nil || !st.Done() {
			continue
		}
		amt, _ := ledger.DecodeAmount(tx.Args)
		if st.Amount != amt || st.Owner != tx.From {
			t.Fatalf("transfer %s: %+v, want %d to %s", id, st, amt, tx.From)
		}
		if tx.Chain == ledger.Hot {
			m.cold[tx.From] += amt
		} else {
			m.hot[tx.From] += amt
		}
		delete(m.pending, id)
	}
}
