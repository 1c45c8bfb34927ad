package e2e

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/node"
)

// A node that restored a Raft snapshot holds no history before it
// (hotchain: "a snapshot holds no history"): its Block and Tx answer
// not_found below the snapshot's height, so check, which reads the whole
// chain, runs only on nodes that hold it all. checkHeld checks every node
// on what it holds: the blocks from its first one to its head, linked by
// parent hash; every acknowledged transfer in them where it was
// acknowledged; no transfer or nonce twice; and, through the state alone,
// that every acknowledged transfer is committed (its sender's nonce is past
// it) and that the balances are exactly those of the transfers the nonces
// say are committed, each applied once.

// heldView is what checkHeld learned from a node.
type heldView struct {
	id       string
	status   api.Status
	from     uint64                 // first block the node holds: 1 for the whole chain
	blocks   []api.BlockView        // from..status.Height
	held     map[ledger.Hash]found  // the transactions of blocks
	nonces   map[ledger.Address]int // every sender's next nonce
	beyond   int                    // acknowledged transfers in blocks before from
	compared int                    // heights compared with the known blocks
}

// checkHeld checks node id's chain as described above; with allCommitted,
// every transaction the test signed must be committed. Blocks in known,
// by height, are what the chain held earlier: the node's must be the same.
func checkHeld(t *testing.T, id string, c *client.Client, w *world, allCommitted bool, known map[uint64]api.BlockView) (*heldView, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	r := &report{t: t}
	v, err := readHeld(ctx, id, c)
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	checkLinks(r, v, known)
	checkHeldTxs(r, v, w)
	checkHeldAcks(r, v, w)
	checkState(ctx, r, v, c, w, allCommitted)
	return v, r.done()
}

// readHeld reads node id's status and the blocks it holds.
func readHeld(ctx context.Context, id string, c *client.Client) (*heldView, error) {
	v := &heldView{id: id}
	var err error
	if v.status, err = c.Status(ctx); err != nil {
		return nil, fmt.Errorf("Status() = %w", err)
	}
	if v.from, err = firstHeld(ctx, c, v.status.Height); err != nil {
		return nil, err
	}
	if v.from <= v.status.Height {
		if v.blocks, err = c.Blocks(ctx, v.from, v.status.Height); err != nil {
			return nil, fmt.Errorf("Blocks(%d, %d) = %w", v.from, v.status.Height, err)
		}
	}
	if want := v.status.Height + 1 - v.from; uint64(len(v.blocks)) != want {
		return nil, fmt.Errorf("Blocks(%d, %d) = %d blocks, want %d", v.from, v.status.Height, len(v.blocks), want)
	}
	return v, nil
}

// firstHeld finds where the run of blocks the node serves up to its head
// starts: 1 for the whole chain, else the height after the last block it
// lacks. A node that installed a snapshot lacks the blocks between what it
// had applied and the snapshot (its archive keeps those it applied itself,
// so it may hold older blocks below that gap). It is head+1 when the node
// holds no block at its head.
func firstHeld(ctx context.Context, c *client.Client, head uint64) (uint64, error) {
	const page = api.MaxRangeBlocks
	for top := head; top >= 1; {
		lo := max(top, page) - page + 1
		if _, err := c.Blocks(ctx, lo, top); err == nil {
			if lo == 1 {
				return 1, nil
			}
			top = lo - 1
			continue
		} else if !isNotFound(err) {
			return 0, fmt.Errorf("Blocks(%d, %d) = %w", lo, top, err)
		}
		for h := top; h >= lo; h-- { // the gap is in this page: find its top
			_, err := c.Block(ctx, h)
			switch {
			case isNotFound(err):
				return h + 1, nil
			case err != nil:
				return 0, fmt.Errorf("Block(%d) = %w", h, err)
			}
		}
		return 0, fmt.Errorf("Blocks(%d, %d) missed a block that Block finds", lo, top)
	}
	return 1, nil
}

func isNotFound(err error) bool {
	var cerr *client.Error
	return errors.As(err, &cerr) && cerr.Code == api.CodeNotFound
}

// checkLinks checks that v's blocks follow one another by height and
// parent hash up to the head its status reports, and match known.
func checkLinks(r *report, v *heldView, known map[uint64]api.BlockView) {
	r.t.Helper()
	for i, b := range v.blocks {
		if b.Height != v.from+uint64(i) {
			r.fatalf("%s: Blocks(%d, ...)[%d].Height = %d, want %d", v.id, v.from, i, b.Height, v.from+uint64(i))
		}
		if i > 0 && b.Parent != v.blocks[i-1].Hash {
			r.errorf("%s: block %d parent %s, want block %d's hash %s", v.id, b.Height, b.Parent, b.Height-1, v.blocks[i-1].Hash)
		}
		if k, ok := known[b.Height]; ok {
			v.compared++
			if b.Hash != k.Hash || b.Commitment != k.Commitment {
				r.errorf("%s: block %d = hash %s commitment %s, want hash %s commitment %s as before", v.id, b.Height, b.Hash, b.Commitment, k.Hash, k.Commitment)
			}
		}
		if k, ok := known[b.Height-1]; ok && i == 0 {
			v.compared++
			if b.Parent != k.Hash {
				r.errorf("%s: first block held, %d, has parent %s, want %s, block %d's hash before", v.id, b.Height, b.Parent, k.Hash, k.Height)
			}
		}
	}
	if n := len(v.blocks); n > 0 && (v.blocks[n-1].Hash != v.status.Head || v.blocks[n-1].Commitment != v.status.Commitment) {
		r.errorf("%s: head block %d = hash %s commitment %s, status says head %s commitment %s",
			v.id, v.status.Height, v.blocks[n-1].Hash, v.blocks[n-1].Commitment, v.status.Head, v.status.Commitment)
	}
}

// checkHeldTxs indexes the transactions of v's blocks and checks that each
// is one the test signed, in a block once, its nonce used once.
func checkHeldTxs(r *report, v *heldView, w *world) {
	r.t.Helper()
	sent := w.byID()
	v.held = make(map[ledger.Hash]found)
	type senderNonce struct {
		from  ledger.Address
		nonce uint64
	}
	nonces := make(map[senderNonce]uint64)
	for _, b := range v.blocks {
		for j, tx := range b.Txs {
			if prev, dup := v.held[tx.ID]; dup {
				r.errorf("%s: tx %s in block %d index %d and again in block %d index %d", v.id, tx.ID, prev.block, prev.index, b.Height, j)
			}
			sn := senderNonce{tx.From, tx.Nonce}
			if h, dup := nonces[sn]; dup {
				r.errorf("%s: sender %s nonce %d committed twice: blocks %d and %d", v.id, tx.From, tx.Nonce, h, b.Height)
			}
			nonces[sn] = b.Height
			if s, ok := sent[tx.ID]; !ok || s.tx.Nonce != tx.Nonce || s.tx.From != tx.From || tx.Status != ledger.StatusOK {
				r.errorf("%s: block %d index %d holds tx %s from %s nonce %d status %s: not one the test signed, or not ok", v.id, b.Height, j, tx.ID, tx.From, tx.Nonce, tx.Status)
			}
			v.held[tx.ID] = found{block: b.Height, index: uint32(j), status: tx.Status}
		}
	}
}

// checkHeldAcks checks that every acknowledged transfer in the blocks v
// holds is where it was acknowledged, and counts those before them.
func checkHeldAcks(r *report, v *heldView, w *world) {
	r.t.Helper()
	for _, a := range w.accounts() {
		for nonce, ak := range a.acked {
			s := a.txs[nonce]
			f, ok := v.held[s.id]
			switch {
			case ak.block < v.from:
				v.beyond++
			case !ok || f.block != ak.block || f.index != ak.index:
				r.errorf("%s: tx %s (nonce %d of %s) = %s, want block %d index %d (acknowledged)", v.id, s.id, nonce, a.key.Address, where(f, ok), ak.block, ak.index)
			}
		}
	}
}

// checkState reads every account the test involves and checks that each
// sender's nonce is past its acknowledged transfers and those in v's
// blocks, and not past what it signed (with allCommitted, exactly there),
// and that the balances are what applying once exactly the transfers below
// those nonces gives, summing to the supply.
func checkState(ctx context.Context, r *report, v *heldView, c *client.Client, w *world, allCommitted bool) {
	r.t.Helper()
	v.nonces = make(map[ledger.Address]int)
	want := map[ledger.Address]uint64{w.faucet.key.Address: node.DevSupply}
	for _, a := range w.accounts() {
		acct, err := c.Account(ctx, a.key.Address)
		if err != nil {
			r.fatalf("%s: Account(%s) = %v", v.id, a.key.Address, err)
		}
		n := int(min(acct.Nonce, uint64(len(a.txs))))
		v.nonces[a.key.Address] = n
		checkNonce(r, v, a, acct.Nonce, allCommitted)
		for _, s := range a.txs[:n] {
			want[a.key.Address] -= s.amount
			want[s.to] += s.amount
		}
	}
	var sum uint64
	for _, addr := range w.addresses() {
		acct, err := c.Account(ctx, addr)
		if err != nil {
			r.fatalf("%s: Account(%s) = %v", v.id, addr, err)
		}
		if acct.Balance != want[addr] {
			r.errorf("%s: Account(%s).Balance = %d, want %d (applying once each transfer below the senders' nonces)", v.id, addr, acct.Balance, want[addr])
		}
		sum += acct.Balance
	}
	if sum != node.DevSupply {
		r.errorf("%s: sum of balances = %d, want the supply %d", v.id, sum, node.DevSupply)
	}
}

// checkNonce checks account a's nonce on node v against what the test
// knows is committed.
func checkNonce(r *report, v *heldView, a *account, nonce uint64, allCommitted bool) {
	r.t.Helper()
	signed := uint64(len(a.txs))
	switch {
	case nonce > signed:
		r.errorf("%s: Account(%s).Nonce = %d, but the test signed only %d txs", v.id, a.key.Address, nonce, signed)
	case allCommitted && nonce != signed:
		r.errorf("%s: Account(%s).Nonce = %d, want %d: every tx signed committed", v.id, a.key.Address, nonce, signed)
	}
	for n := range a.acked {
		if n >= nonce {
			r.errorf("%s: tx %s (nonce %d of %s) acknowledged, but the account's nonce is %d: lost", v.id, a.txs[n].id, n, a.key.Address, nonce)
		}
	}
	for _, s := range a.txs {
		if f, ok := v.held[s.id]; ok && s.tx.Nonce >= nonce {
			r.errorf("%s: tx %s (nonce %d) is in block %d, but the account's nonce is %d", v.id, s.id, s.tx.Nonce, f.block, nonce)
		}
	}
}

// byID indexes every transaction the test signed.
func (w *world) byID() map[ledger.Hash]*sentTx {
	out := make(map[ledger.Hash]*sentTx)
	for _, a := range w.accounts() {
		for _, s := range a.txs {
			out[s.id] = s
		}
	}
	return out
}

// settleHeld adopts, for every transaction committed without the test
// being told, the place v found it in, so later checks hold it there too.
func (w *world) settleHeld(v *heldView) {
	for _, a := range w.accounts() {
		for _, s := range a.txs {
			f, ok := v.held[s.id]
			if _, acked := a.acked[s.tx.Nonce]; ok && !acked {
				a.acked[s.tx.Nonce] = ack{block: f.block, index: f.index}
			}
		}
	}
}

// resubmit sends again, through node id, every transaction that node's
// state says is not committed (at or past its sender's nonce): each must
// be committed now. Those below the nonces were committed without the
// test being told: checkHeld and check find them.
func (tc *testCluster) resubmit(t *testing.T, id string, v *heldView) {
	t.Helper()
	l := &clusterLoad{w: tc.w, clients: []*client.Client{tc.client(id)}, reasons: make(map[string]int)}
	ctx := context.Background()
	var wg sync.WaitGroup
	for _, a := range tc.w.accounts() {
		wg.Go(func() {
			todo := a.txs[v.nonces[a.key.Address]:]
			for len(todo) > 0 {
				batch := todo[:min(len(todo), resubmitBatch)]
				todo = todo[len(batch):]
				if _, err := l.settle(ctx, 0, a, batch, true); err != nil {
					l.mu.Lock()
					l.failed = append(l.failed, err)
					l.mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	t.Logf("resubmitted through %s: %d committed now; sent again because of %v", id, l.acked, l.reasons)
	for _, err := range l.failed {
		t.Errorf("resubmit through %s: %v", id, err)
	}
}

// maxFullChecks is on how many nodes that hold the whole chain verify runs
// check, which looks up every transaction the test signed.
const maxFullChecks = 2

// verify checks the cluster once its load has stopped: it converges; the
// leader passes checkHeld; the transfers the leader's state says are not
// committed are sent again; once the cluster converges again, every node
// passes checkHeld with every transfer committed, and check on up to two
// of those that hold the whole chain, of which there must be at least one.
// Blocks in known must be unchanged.
// It returns the views of the nodes.
func (tc *testCluster) verify(t *testing.T, known map[uint64]api.BlockView) map[string]*heldView {
	t.Helper()
	start := time.Now()
	tc.converge(t)
	leader := tc.leader(t)
	v, ok := checkHeld(t, leader, tc.client(leader), tc.w, false, known)
	if !ok {
		t.FailNow() // the chain is wrong: resubmitting would only add noise
	}
	tc.resubmit(t, leader, v)
	tc.converge(t)
	views := make(map[string]*heldView)
	full := 0
	for _, id := range tc.ids() {
		v, ok := checkHeld(t, id, tc.client(id), tc.w, true, known)
		views[id] = v
		if !ok {
			continue
		}
		tc.w.settleHeld(v)
		t.Logf("%s: height %d, holds blocks from %d; %d acknowledged txs before them, checked through the state", id, v.status.Height, v.from, v.beyond)
		if v.from == 1 && full < maxFullChecks {
			full++
			check(t, tc.client(id), tc.w, true)
		}
	}
	acked, sent := tc.w.count()
	t.Logf("%d txs signed, %d settled; check ran on %d nodes that hold the whole chain; verified in %v", sent, acked, full, time.Since(start).Round(time.Millisecond))
	if full == 0 {
		// A node's archive keeps every block it applied, whatever happened
		// to its Redis; only a node that joined or caught up by snapshot
		// misses the blocks before it.
		t.Errorf("no node holds the whole chain; want the nodes that never installed a snapshot to serve it from their archives")
	}
	return views
}
