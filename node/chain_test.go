package node

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/consensus"
	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/ledger"
	"github.com/jonboulle/clockwork"
)

// lostReplyStore applies an update but, once, reports an error as if the
// store's answer was lost on the way back.
type lostReplyStore struct {
	hotchain.Store
	lose bool
}

func (s *lostReplyStore) Apply(ctx context.Context, u *hotchain.Update) (bool, error) {
	applied, err := s.Store.Apply(ctx, u)
	if s.lose && err == nil {
		s.lose = false
		return false, errors.New("read tcp: connection reset by peer")
	}
	return applied, err
}

// A retried apply whose first attempt landed must still move the head, or
// the next block is built on a stale head and the chain stops for good.
// The entry's index also skips some: Raft keeps its own entries from the
// state machine.
func TestApplyWhoseReplyWasLostMovesTheHead(t *testing.T) {
	ctx := context.Background()
	gen := &hotchain.Genesis{Hash: ledger.Hash{1}}
	store := &lostReplyStore{Store: hotchain.NewMemoryStore(), lose: true}
	c := &chain{store: store, gen: gen}
	if err := c.open(ctx); err != nil {
		t.Fatal(err)
	}
	archive, err := hotchain.OpenArchive(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer archive.Close()
	sm := &stateMachine{chain: c, logHead: c.Head(), archive: archive, dir: newDirectory(), logger: testLogger(t), clock: clockwork.NewRealClock(), ctx: ctx,
		applied: func(*hotchain.Update) {}, rebuilt: func() {}, fatal: func(err error) { t.Errorf("fatal: %v", err) }}
	alice, bob := testKey(1), testKey(2)
	ex := executeIn(t, testDispatcher(t), c.Head(), tokenState(state{}), txs(alice, bob, 0, 1))
	data, _, err := encodeBlockEntry(ex)
	if err != nil {
		t.Fatal(err)
	}
	const index = 7
	if err := sm.Apply(consensus.Entry{Index: index, Term: 2, Data: data}); err != nil {
		t.Fatalf("apply = %v", err)
	}
	if h := c.Head(); h.Index != index || h.Height != 1 || h.Head != ex.block.Header.Hash() {
		t.Fatalf("head after a lost reply = index %d height %d, want index %d height 1", h.Index, h.Height, index)
	}
	// Raft replays it after a restart: nothing changes.
	if err := sm.Apply(consensus.Entry{Index: index, Term: 2, Data: data}); err != nil {
		t.Fatalf("apply again = %v", err)
	}
	if m, _ := store.Meta(ctx); m.Index != index || m.Height != 1 {
		t.Fatalf("store after a replay = index %d height %d, want %d and 1", m.Index, m.Height, index)
	}
}

// A client resubmitting a transaction that was dropped waits for the new
// attempt instead of reading the old failure.
func TestTrackerForgetsFailuresOnResubmit(t *testing.T) {
	tr := newTracker()
	id := ledger.Hash{7}
	tr.finish([]ledger.Hash{id}, []api.WaitResult{{Err: ErrBlockFailed}})
	tr.forget(id)
	known, chans := tr.watch([]ledger.Hash{id})
	if chans[0] == nil {
		t.Fatalf("watch after forget = %+v, want a channel for the new attempt", known[0])
	}
	rec := &ledger.TxRecord{Height: 3}
	tr.finish([]ledger.Hash{id}, []api.WaitResult{{Record: rec}})
	if got := <-chans[0]; got.Record != rec {
		t.Fatalf("waiter got %+v, want the new record", got)
	}
	tr.forget(id) // a commit is never forgotten
	if known, _ := tr.watch([]ledger.Hash{id}); known[0].Record != rec {
		t.Fatalf("watch after forgetting a commit = %+v, want the record", known[0])
	}
}

// Stopping answers every waiter, and anyone who waits afterwards.
func TestTrackerStop(t *testing.T) {
	tr := newTracker()
	_, chans := tr.watch([]ledger.Hash{{1}})
	tr.stop(ErrStopped)
	if got := <-chans[0]; !errors.Is(got.Err, ErrStopped) {
		t.Fatalf("waiter at stop got %+v, want %v", got, ErrStopped)
	}
	if known, chans := tr.watch([]ledger.Hash{{2}}); chans[0] != nil || !errors.Is(known[0].Err, ErrStopped) {
		t.Fatalf("watch after stop = %+v, want %v at once", known[0], ErrStopped)
	}
}

// stopDuringApply stops the node (through stop) when the first block is
// being applied, after it is in the log.
type stopDuringApply struct {
	hotchain.Store
	stop func()
	once sync.Once
}

func (s *stopDuringApply) Apply(ctx context.Context, u *hotchain.Update) (bool, error) {
	s.once.Do(s.stop)
	if err := ctx.Err(); err != nil { // like Redis I/O, give up on a done ctx
		return false, err
	}
	return s.Store.Apply(ctx, u)
}

// A block in the log is committed: stopping the node while it is applied
// must not tell its senders it failed.
func TestStopDuringApplyDoesNotFailCommittedBlock(t *testing.T) {
	cfg := TestConfig(t.TempDir())
	cfg.Logger = testLogger(t)
	ctx, cancel := context.WithCancel(context.Background())
	cfg.store = &stopDuringApply{Store: hotchain.NewMemoryStore(), stop: cancel}
	n, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	tx := transfer(faucet(t, cfg), 0, testKey(3).Address, 1)
	ids, errs := n.Backend().Submit(context.Background(), []*ledger.Tx{tx})
	if errs[0] != nil {
		t.Fatal(errs[0])
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	got := n.Backend().Wait(wctx, ids)[0]
	<-done
	if got.Record == nil || errors.Is(got.Err, ErrBlockFailed) {
		t.Fatalf("Wait after stopping mid-apply = %+v, want the committed record", got)
	}
}

// While the store is rebuilt, clients' reads are refused, not answered
// from a state between genesis and the head.
func TestReadsRefusedDuringRebuild(t *testing.T) {
	cfg := TestConfig(t.TempDir())
	n := startNode(t, cfg)
	n.chain.rebuilding.Store(true)
	defer n.chain.rebuilding.Store(false)
	b := n.Backend()
	if _, err := b.Account(context.Background(), testKey(1).Address); !errors.Is(err, ErrRebuilding) {
		t.Fatalf("Account during rebuild = %v, want %v", err, ErrRebuilding)
	}
	if _, err := b.Tx(context.Background(), ledger.Hash{1}); !errors.Is(err, ErrRebuilding) {
		t.Fatalf("Tx during rebuild = %v, want %v", err, ErrRebuilding)
	}
	if _, err := b.Block(context.Background(), 0); !errors.Is(err, ErrRebuilding) {
		t.Fatalf("Block during rebuild = %v, want %v", err, ErrRebuilding)
	}
}

// A block that did not extend the head when it committed is skipped by
// every node, and again when Raft replays the log to a node whose store
// is past it: its writes never reach dirty (and so never the cold
// chain's mirror, nor a settlement).
func TestStaleBlockIsSkippedOnReplayToo(t *testing.T) {
	ctx := context.Background()
	gen := &hotchain.Genesis{Hash: ledger.Hash{1}}
	store := hotchain.NewMemoryStore()
	genesis, err := hotchain.GenesisMeta(gen)
	if err != nil {
		t.Fatal(err)
	}
	newSM := func() *stateMachine {
		c := &chain{store: store, gen: gen}
		if err := c.open(ctx); err != nil {
			t.Fatal(err)
		}
		archive, err := hotchain.OpenArchive(t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { archive.Close() })
		return &stateMachine{chain: c, logHead: genesis, dirty: map[string][]byte{}, archive: archive, dir: newDirectory(),
			logger: testLogger(t), clock: clockwork.NewRealClock(), ctx: ctx,
			applied: func(*hotchain.Update) {}, rebuilt: func() {}, fatal: func(err error) { t.Errorf("fatal: %v", err) }}
	}
	alice, bob := testKey(1), testKey(2)
	d := testDispatcher(t)
	b1 := executeIn(t, d, genesis, tokenState(state{}), txs(alice, bob, 0, 1))
	stale := executeIn(t, d, genesis, tokenState(state{}), txs(bob, alice, 0, 2)) // also on genesis
	after1 := tokenState(state{})
	for _, w := range b1.block.Writes {
		after1[string(w.Key)] = w.Value
	}
	head1 := hotchain.Meta{Height: 1, Head: b1.block.Header.Hash(), Commitment: b1.commitment}
	b2 := executeIn(t, d, head1, after1, txs(alice, bob, 1, 1))
	var entries []consensus.Entry
	for i, ex := range []*execution{b1, stale, b2} {
		data, _, err := encodeBlockEntry(ex)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, consensus.Entry{Index: uint64(5 + i), Term: 2, Data: data})
	}
	staleKey := ledger.NonceKey(bob.Address)                   // written by the stale block only
	for round, sm := range []*stateMachine{newSM(), newSM()} { // the second is a restart: the store is at index 7
		for i, e := range entries {
			err := sm.Apply(e)
			if i == 1 && !errors.Is(err, errStaleBlock) || i != 1 && err != nil {
				t.Fatalf("round %d: apply entry %d = %v", round, e.Index, err)
			}
		}
		if _, ok := sm.dirty[string(staleKey)]; ok {
			t.Fatalf("round %d: the stale block's writes are in dirty", round)
		}
		if sm.logHead.Height != 2 || sm.logHead.Head != b2.block.Header.Hash() || sm.position != 7 {
			t.Fatalf("round %d: log head %+v at %d, want height 2 at 7", round, sm.logHead, sm.position)
		}
	}
}
