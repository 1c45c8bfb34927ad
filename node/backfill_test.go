package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/ledger"
	"github.com/jonboulle/clockwork"
)

var backfillGenesis = ledger.Hash{0x9e}

// backfillChain returns blocks 1..n, each with one signed transfer,
// linked by parent hash from backfillGenesis.
func backfillChain(n int) []*ledger.Block {
	from, to := testKey(71), testKey(72).Address
	out := make([]*ledger.Block, n)
	parent := backfillGenesis
	for i := range out {
		tx := transfer(from, uint64(i), to, 1)
		b := &ledger.Block{
			Header:   ledger.Header{ChainID: DefaultConfig().ChainID, Height: uint64(i + 1), Parent: parent, Time: int64(i)},
			Txs:      []ledger.Tx{*tx},
			Receipts: []ledger.Receipt{{TxID: tx.ID(), Status: ledger.StatusOK, GasUsed: 7}},
		}
		b.Seal()
		parent = b.Header.Hash()
		out[i] = b
	}
	return out
}

// gapOf is the gap whose top is block top of blocks.
func gapOf(blocks []*ledger.Block, top uint64) hotchain.Backfill {
	return hotchain.Backfill{Top: top, Hash: blocks[top-1].Header.Hash()}
}

// fakePeers serves blocks to a backfiller: each peer id maps to what it
// answers for a height. It records what was asked.
type fakePeers struct {
	mu    sync.Mutex
	serve map[string]func(h uint64) ([]byte, error)
	asked map[string][]uint64
}

func (p *fakePeers) fetch(ctx context.Context, url string, h uint64) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	id := strings.TrimPrefix(url, "http://")
	p.mu.Lock()
	p.asked[id] = append(p.asked[id], h)
	serve := p.serve[id]
	p.mu.Unlock()
	return serve(h)
}

// honest serves blocks as they are.
func honest(blocks []*ledger.Block) func(uint64) ([]byte, error) {
	return func(h uint64) ([]byte, error) {
		if h == 0 || h > uint64(len(blocks)) {
			return nil, ErrNotFound
		}
		return blocks[h-1].Encode(), nil
	}
}

// newTestBackfiller fills archive from peers (n1 is this node).
func newTestBackfiller(t *testing.T, archive *hotchain.Archive, peers *fakePeers) *backfiller {
	dir := newDirectory()
	dir.replace([]memberInfo{{ID: "n1", URL: "http://n1"}})
	for id := range peers.serve {
		dir.set(memberInfo{ID: id, URL: "http://" + id})
	}
	if peers.asked == nil {
		peers.asked = make(map[string][]uint64)
	}
	return &backfiller{
		archive: archive, dir: dir, self: "n1", genesis: backfillGenesis,
		logger: testLogger(t), clock: clockwork.NewRealClock(), fetch: peers.fetch,
	}
}

// openTestArchive opens an archive in dir holding blocks 1..held, and the
// gap at top.
func openTestArchive(t *testing.T, dir string, blocks []*ledger.Block, held, top uint64) *hotchain.Archive {
	t.Helper()
	a, err := hotchain.OpenArchive(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks[:held] {
		if err := a.Put(b, b.Encode()); err != nil {
			t.Fatal(err)
		}
	}
	if top > 0 {
		if err := a.SetBackfill(gapOf(blocks, top)); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// wantArchived fails unless archive holds blocks 1..len(blocks) as they
// are, and no gap.
func wantArchived(t *testing.T, a *hotchain.Archive, blocks []*ledger.Block) {
	t.Helper()
	for _, b := range blocks {
		h := b.Header.Height
		if raw, err := a.RawBlock(h); err != nil || !bytes.Equal(raw, b.Encode()) {
			t.Fatalf("archived block %d = %x, %v; want the chain's", h, raw, err)
		}
		if rec, err := a.Tx(b.Receipts[0].TxID); err != nil || rec.Height != h {
			t.Fatalf("archived tx of block %d = %+v, %v; want it indexed", h, rec, err)
		}
	}
	if gaps, err := a.Backfills(); err != nil || len(gaps) != 0 {
		t.Fatalf("Backfills() = %v, %v; want none left", gaps, err)
	}
}

// A peer that serves blocks that are not the chain's is skipped: each is
// checked against the hash its child names before it is archived, and
// fetched again from another peer.
func TestBackfillSkipsBadPeer(t *testing.T) {
	blocks := backfillChain(150)
	tamper := map[string]func(h uint64, raw []byte) []byte{
		"header changed": func(h uint64, _ []byte) []byte {
			b := *blocks[h-1]
			b.Header.Time++
			return b.Encode()
		},
		"body changed": func(h uint64, _ []byte) []byte {
			b := *blocks[h-1]
			b.Receipts = []ledger.Receipt{b.Receipts[0]}
			b.Receipts[0].GasUsed++
			return b.Encode()
		},
		"another height": func(h uint64, _ []byte) []byte { return blocks[h%150].Encode() },
		"trailing bytes": func(_ uint64, raw []byte) []byte { return append(raw, 0) },
		"garbage":        func(uint64, []byte) []byte { return []byte{0xff, 0x00} },
	}
	for name, bad := range tamper {
		for _, held := range []uint64{0, 20} { // a gap down to genesis, or to held history
			t.Run(fmt.Sprintf("%s/held %d", name, held), func(t *testing.T) {
				a := openTestArchive(t, t.TempDir(), blocks, held, 150)
				defer a.Close()
				peers := &fakePeers{serve: map[string]func(uint64) ([]byte, error){
					"n2": func(h uint64) ([]byte, error) { return bad(h, blocks[h-1].Encode()), nil },
					"n3": honest(blocks),
				}}
				f := newTestBackfiller(t, a, peers)
				if err := f.fillAll(t.Context()); err != nil {
					t.Fatalf("fillAll = %v", err)
				}
				wantArchived(t, a, blocks)
				if got, want := f.filled.Load(), int64(150-held); got != want {
					t.Errorf("filled = %d, want %d", got, want)
				}
				if len(peers.asked["n2"]) == 0 {
					t.Errorf("the bad peer was never asked; the test shows nothing")
				}
				if f.pending() != 0 || !f.complete() {
					t.Errorf("pending = %v, complete = %v after the fill; want 0, true", f.pending(), f.complete())
				}
			})
		}
	}
}

// When no peer serves a block as the chain has it, nothing unchecked is
// archived: the fill fails, to be retried, and the gap stays.
func TestBackfillNoGoodPeer(t *testing.T) {
	blocks := backfillChain(10)
	a := openTestArchive(t, t.TempDir(), blocks, 3, 10)
	defer a.Close()
	peers := &fakePeers{serve: map[string]func(uint64) ([]byte, error){
		"n2": func(h uint64) ([]byte, error) { return blocks[(h+1)%10].Encode(), nil },
		"n3": func(uint64) ([]byte, error) { return nil, errors.New("connection refused") },
	}}
	f := newTestBackfiller(t, a, peers)
	err := f.fillAll(t.Context())
	if err == nil || !errors.Is(err, errBadBackfill) {
		t.Fatalf("fillAll = %v, want %v from n2 (and n3's error)", err, errBadBackfill)
	}
	if ok, _ := a.Has(10); ok {
		t.Fatal("block 10 archived though no peer served it right")
	}
	if gaps, err := a.Backfills(); err != nil || len(gaps) != 1 || gaps[0] != gapOf(blocks, 10) {
		t.Fatalf("Backfills() = %v, %v; want the gap at 10 kept", gaps, err)
	}
	if got := f.pending(); got != 7 {
		t.Errorf("pending = %v, want 7 (blocks 4..10)", got)
	}
}

// A node stopped in the middle of a backfill resumes from the gap it
// recorded as it went: blocks archived before the stop are not fetched
// again.
func TestBackfillResumesAfterCrash(t *testing.T) {
	blocks := backfillChain(200)
	dir := filepath.Join(t.TempDir(), "archive")
	a := openTestArchive(t, dir, blocks, 5, 200)
	ctx, stop := context.WithCancel(t.Context())
	served := 0
	var mu sync.Mutex
	peers := &fakePeers{serve: map[string]func(uint64) ([]byte, error){
		"n2": func(h uint64) ([]byte, error) {
			mu.Lock()
			defer mu.Unlock()
			if served++; served > 100 {
				stop() // the node stops mid-batch
				return nil, context.Canceled
			}
			return blocks[h-1].Encode(), nil
		},
	}}
	if err := newTestBackfiller(t, a, peers).fillAll(ctx); err == nil {
		t.Fatal("fillAll = nil after the stop, want an error")
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	a = openTestArchive(t, dir, blocks, 0, 0)
	defer a.Close()
	gaps, err := a.Backfills()
	if err != nil || len(gaps) != 1 || gaps[0].Top >= 200 || gaps[0].Top <= 5 || gaps[0] != gapOf(blocks, gaps[0].Top) {
		t.Fatalf("Backfills() after the stop = %v, %v; want one gap, moved down part of the way with its block's hash", gaps, err)
	}
	resume := gaps[0].Top
	peers = &fakePeers{serve: map[string]func(uint64) ([]byte, error){"n2": honest(blocks)}}
	f := newTestBackfiller(t, a, peers)
	if err := f.fillAll(t.Context()); err != nil {
		t.Fatalf("fillAll after restart = %v", err)
	}
	wantArchived(t, a, blocks)
	for _, h := range peers.asked["n2"] {
		if h > resume || h <= 5 {
			t.Fatalf("after restart fetched block %d; want only %d..%d", h, 6, resume)
		}
	}
	if got := f.filled.Load(); got != int64(resume-5) {
		t.Errorf("filled after restart = %d, want %d", got, resume-5)
	}
}

// A gap that meets an archived block other than the one the chain above
// names is corruption: reported, never papered over.
func TestBackfillArchiveFork(t *testing.T) {
	blocks, fork := backfillChain(10), backfillChain(10)
	fork[4].Header.Time = 99 // another block 5
	a := openTestArchive(t, t.TempDir(), fork, 5, 0)
	defer a.Close()
	if err := a.SetBackfill(gapOf(blocks, 10)); err != nil {
		t.Fatal(err)
	}
	peers := &fakePeers{serve: map[string]func(uint64) ([]byte, error){"n2": honest(blocks)}}
	if err := newTestBackfiller(t, a, peers).fillAll(t.Context()); !errors.Is(err, errArchiveFork) {
		t.Fatalf("fillAll = %v, want %v", err, errArchiveFork)
	}
	if gaps, _ := a.Backfills(); len(gaps) != 1 || gaps[0].Top != 5 {
		t.Fatalf("Backfills() = %v, want the gap kept at 5", gaps)
	}
}

// A node that joins a cluster whose log was compacted installs a snapshot,
// then fetches the history below it from its peers: it serves block 1 and
// an early transaction as the leader does, and says when it is complete.
func TestClusterJoinBackfillsArchive(t *testing.T) {
	c := startCluster(t, 3, nil)
	f, bob := faucet(t, c.cfgs[0]), testKey(81)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	first, err := c.client(c.leader()).SubmitWait(ctx, transfer(f, 0, bob.Address, 1))
	if err != nil || first[0].Status != "committed" {
		t.Fatalf("first transfer = %+v, %v", first, err)
	}
	const blocks = 300 // past TestConfig's snapshot threshold (128) and trailing logs (64)
	c.sendOneByOne(c.leader(), f, bob.Address, 1, blocks)
	l := c.leader()
	waitFor(t, "a snapshot on the leader", func() bool { return c.nodes[l].replica.State().LastSnapshotIndex > 64 })

	n4 := c.join(c.follower(), "n4", false)
	if got := c.nodes[n4].sm.restores.Load(); got < 1 {
		t.Fatalf("n4 restored %d snapshots, want at least 1 (the log it needed was compacted)", got)
	}
	waitFor(t, "n4 to backfill its archive", func() bool {
		st, err := c.client(n4).Status(ctx)
		return err == nil && st.ArchiveComplete
	})
	want, err := c.client(l).Block(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.client(n4).Block(ctx, 1); err != nil || got.Hash != want.Hash {
		t.Fatalf("block 1 on n4 = %+v, %v; want hash %s as on the leader", got, err, want.Hash)
	}
	if rec, err := c.client(n4).Tx(ctx, first[0].ID); err != nil || rec.Block != first[0].Block {
		t.Fatalf("first transfer on n4 = %+v, %v; want it in block %d", rec, err, first[0].Block)
	}
	if n, err := c.client(n4).Metric(ctx, "dualchain_archive_backfilled_blocks_total"); err != nil || n < 1 {
		t.Fatalf("dualchain_archive_backfilled_blocks_total on n4 = %v, %v; want > 0", n, err)
	}
	if n, err := c.client(n4).Metric(ctx, "dualchain_archive_backfill_pending"); err != nil || n != 0 {
		t.Fatalf("dualchain_archive_backfill_pending on n4 = %v, %v; want 0", n, err)
	}
	raw, err := c.client(n4).RawBlock(ctx, 1)
	if b, derr := ledger.DecodeBlock(raw); err != nil || derr != nil || b.Header.Hash() != want.Hash {
		t.Fatalf("raw block 1 on n4 = %v, %v; want the leader's block 1", err, derr)
	}
}

// A follower stopped while the log moved past what the leader keeps
// installs a snapshot when it comes back, and fills the gap between the
// blocks it had archived and the snapshot from its peers.
func TestClusterLaggingFollowerBackfillsGap(t *testing.T) {
	c := startCluster(t, 3, nil)
	f, bob := faucet(t, c.cfgs[0]), testKey(82)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	before := c.sendOneByOne(c.leader(), f, bob.Address, 0, 20)
	fol := c.follower()
	c.converged(before)
	c.nodes[fol].stop()
	c.nodes[fol] = nil

	last := c.sendOneByOne(c.leader(), f, bob.Address, 20, 320) // past the snapshot threshold and trailing logs
	l := c.leader()
	waitFor(t, "a snapshot on the leader", func() bool { return c.nodes[l].replica.State().LastSnapshotIndex > 100 })
	c.nodes[fol] = startNodeNoWait(t, c.cfgs[fol])
	waitCaughtUp(t, c.nodes[fol].Node)
	c.converged(last)
	if got := c.nodes[fol].sm.restores.Load(); got < 1 {
		t.Fatalf("the lagging follower restored %d snapshots, want at least 1", got)
	}
	waitFor(t, "the follower to backfill its archive", func() bool {
		st, err := c.client(fol).Status(ctx)
		return err == nil && st.ArchiveComplete
	})
	for _, h := range []uint64{1, before, before + 1, last - 100} {
		want, err := c.client(l).Block(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := c.client(fol).Block(ctx, h); err != nil || got.Hash != want.Hash {
			t.Fatalf("block %d on the follower = %+v, %v; want hash %s as on the leader", h, got, err, want.Hash)
		}
	}
	if n := c.nodes[fol].fill.filled.Load(); n < 1 || n >= int64(last) {
		t.Fatalf("backfilled %d blocks; want some, not the ones the follower had kept", n)
	}
}
