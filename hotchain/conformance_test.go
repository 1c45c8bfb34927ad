package hotchain

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
)

// backend is one Store implementation as the shared suite sees it.
type backend struct {
	name string
	// setup makes new, empty backing storage and returns a function that
	// opens a handle on it (for memory, the same store each time), one that
	// wipes it as FLUSHDB would, and one that dumps every record it holds.
	setup func(t *testing.T) (handle func() Store, wipe func(), dump func() map[string]string)
}

func memoryBackend() backend {
	return backend{name: "memory", setup: func(t *testing.T) (func() Store, func(), func() map[string]string) {
		s := NewMemoryStore()
		return func() Store { return s }, s.Wipe, s.dump
	}}
}

// dump returns every record the store holds, keyed as Redis would.
func (s *MemoryStore) dump() map[string]string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := map[string]string{}
	if s.meta != nil {
		out[metaKey] = string(encodeMeta(*s.meta))
	}
	for k, v := range s.state {
		out[stateKey([]byte(k))] = string(v)
	}
	for h, v := range s.blocks {
		out[blockKey(h)] = string(v)
	}
	for id, v := range s.txs {
		out[txKey(id)] = string(v)
	}
	return out
}

// snapshot returns a copy of everything the store holds and a function
// that puts it back, as a restart from an RDB or AOF file would.
func (s *MemoryStore) snapshot() (restore func()) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	meta, state, blocks, txs := *s.meta, maps.Clone(s.state), maps.Clone(s.blocks), maps.Clone(s.txs)
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		m := meta
		s.meta, s.state, s.blocks, s.txs = &m, maps.Clone(state), maps.Clone(blocks), maps.Clone(txs)
	}
}

func backends() []backend { return []backend{memoryBackend(), redisBackend(), pebbleBackend()} }

// TestStoreConformance runs the Store contract against every backend.
func TestStoreConformance(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, f fixture)
	}{
		{"OpenGenesis", testOpenGenesis},
		{"ReopenKeepsChain", testReopenKeepsChain},
		{"GenesisMismatch", testGenesisMismatch},
		{"NotOpen", testNotOpen},
		{"Get", testGet},
		{"ApplyAndRead", testApplyAndRead},
		{"SkipAtOrBelowIndex", testSkipAtOrBelowIndex},
		{"NotNext", testNotNext},
		{"Wiped", testWiped},
		{"MetaLost", testMetaLost},
		{"RestoredOlder", testRestoredOlder},
		{"CommitmentMismatch", testCommitmentMismatch},
		{"BadUpdate", testBadUpdate},
		{"ReceiptForAnotherTx", testReceiptForAnotherTx},
		{"BlockAndTx", testBlockAndTx},
		{"Scan", testScan},
		{"Deletes", testDeletes},
		{"ConcurrentReads", testConcurrentReads},
		{"SnapshotRestore", testSnapshotRestore},
		{"SnapshotRoundTrip", testSnapshotRoundTrip},
		{"RestoreRefused", testRestoreRefused},
		{"RestoreWiped", testRestoreWiped},
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) { tt.run(t, newFixture(t, b)) })
			}
		})
	}
}

// fixture is an opened store on fresh storage, with a chain to feed it.
type fixture struct {
	ctx    context.Context
	s      Store
	handle func() Store
	wipe   func()
	dump   func() map[string]string
	chain  *testChain
}

func newFixture(t *testing.T, b backend) fixture {
	handle, wipe, dump := b.setup(t)
	f := fixture{ctx: context.Background(), s: handle(), handle: handle, wipe: wipe, dump: dump}
	f.chain = newTestChain(1, 20, 1000)
	if _, err := f.s.Open(f.ctx, f.chain.gen); err != nil {
		t.Fatalf("Open(genesis) = %v", err)
	}
	return f
}

// loseMeta removes the meta record and nothing else, as a DEL dc:meta, the
// eviction of that key, or a crash before it was written would.
func (f fixture) loseMeta(t *testing.T) {
	t.Helper()
	switch s := f.s.(type) {
	case *MemoryStore:
		s.mu.Lock()
		s.meta = nil
		s.mu.Unlock()
	case *RedisStore:
		mustDo(t, s.rdb.Del(f.ctx, metaKey))
	case *PebbleStore:
		if err := s.db.db.Delete(pebbleMetaKey, pebble.Sync); err != nil {
			t.Fatalf("delete meta: %v", err)
		}
	default:
		t.Fatalf("loseMeta: unknown store %T", f.s)
	}
}

// snapshot returns a function that puts the store's storage back to what it
// holds now, as a restart from an RDB or AOF file written now would. The
// handle, and the incarnation it opened, stay.
func (f fixture) snapshot(t *testing.T) (restore func()) {
	t.Helper()
	switch s := f.s.(type) {
	case *MemoryStore:
		return s.snapshot()
	case *RedisStore:
		saved := f.dump()
		return func() {
			f.wipe()
			mustDo(t, s.rdb.MSet(f.ctx, pairs(saved)...))
		}
	case *PebbleStore:
		saved := f.dump()
		return func() { s.db.load(t, saved) }
	}
	t.Fatalf("snapshot: unknown store %T", f.s)
	return nil
}

// apply applies u and fails the test unless it was applied.
func (f fixture) apply(t *testing.T, u *Update) {
	t.Helper()
	if ok, err := f.s.Apply(f.ctx, u); !ok || err != nil {
		t.Fatalf("Apply(block %d, index %d) = %v, %v, want true, nil", u.Block.Header.Height, u.Index, ok, err)
	}
}

// unchanged fails the test if the store's records differ from before.
func (f fixture) unchanged(t *testing.T, what string, before map[string]string) {
	t.Helper()
	after := f.dump()
	if !maps.Equal(before, after) {
		t.Errorf("%s changed the store: %d records before, %d after", what, len(before), len(after))
	}
}

// sameChain compares metas but for the incarnation.
func sameChain(a, b Meta) bool {
	a.Incarnation, b.Incarnation = "", ""
	return a == b
}

func testOpenGenesis(t *testing.T, f fixture) {
	m, err := f.s.Meta(f.ctx)
	if err != nil {
		t.Fatalf("Meta() error = %v", err)
	}
	if !sameChain(m, f.chain.meta) || m.Incarnation == "" {
		t.Errorf("Meta() = index %d height %d head %s commitment %v incarnation %q, want 0 0 %s %v and an incarnation",
			m.Index, m.Height, m.Head, m.Commitment, m.Incarnation, f.chain.meta.Head, f.chain.meta.Commitment)
	}
	if got, err := Recompute(f.ctx, f.s); err != nil || got != m.Commitment {
		t.Errorf("Recompute() = %v, %v, want %v", got, err, m.Commitment)
	}
	assertState(t, f.ctx, f.s, f.chain.state)
}

func testReopenKeepsChain(t *testing.T, f fixture) {
	first, _ := f.s.Meta(f.ctx)
	f.apply(t, f.chain.nextBlock(3))
	h := f.handle()
	m, err := h.Open(f.ctx, f.chain.gen)
	if err != nil || !sameChain(m, f.chain.meta) || m.Incarnation != first.Incarnation {
		t.Errorf("Open() again = %+v, %v, want height 1 and incarnation %s", m.Height, err, first.Incarnation)
	}
	f.apply(t, f.chain.nextBlock(3))
}

func testGenesisMismatch(t *testing.T, f fixture) {
	other := &Genesis{Hash: ledger.Hash{0xff}}
	before := f.dump()
	if _, err := f.handle().Open(f.ctx, other); !errors.Is(err, ErrGenesisMismatch) {
		t.Errorf("Open(other genesis) = %v, want %v", err, ErrGenesisMismatch)
	}
	f.unchanged(t, "Open(other genesis)", before)
	if _, err := f.handle().Open(f.ctx, nil); !errors.Is(err, ErrBadGenesis) {
		t.Errorf("Open(nil) = %v, want %v", err, ErrBadGenesis)
	}
}

func testNotOpen(t *testing.T, f fixture) {
	if _, ok := f.s.(*MemoryStore); ok {
		f.s = NewMemoryStore() // a memory handle is the store itself
	} else {
		f.s = f.handle()
	}
	u := f.chain.nextBlock(1)
	if _, err := f.s.Apply(f.ctx, u); !errors.Is(err, ErrNotOpen) {
		t.Errorf("Apply before Open = %v, want %v", err, ErrNotOpen)
	}
	assertReadsFail(t, f.ctx, f.s, "before Open", u.Block, ErrNotOpen)
}

// assertReadsFail checks that every read fails with want: Get of b's
// first written key, Meta, Block and Tx of b and its first tx, and Scan.
func assertReadsFail(t *testing.T, ctx context.Context, s Store, when string, b *ledger.Block, want error) {
	t.Helper()
	h, id := b.Header.Height, b.Receipts[0].TxID
	reads := []struct {
		call string
		read func() error
	}{
		{fmt.Sprintf("Get(%x)", b.Writes[0].Key), func() error { _, err := s.Get(ctx, [][]byte{b.Writes[0].Key}); return err }},
		{"Meta()", func() error { _, err := s.Meta(ctx); return err }},
		{fmt.Sprintf("Block(%d)", h), func() error { _, err := s.Block(ctx, h); return err }},
		{fmt.Sprintf("Tx(%s)", id), func() error { _, err := s.Tx(ctx, id); return err }},
		{"Scan()", func() error { return s.Scan(ctx, func(k, v []byte) error { return nil }) }},
		{"Snapshot()", func() error { _, err := s.Snapshot(ctx); return err }},
	}
	for _, r := range reads {
		if err := r.read(); !errors.Is(err, want) {
			t.Errorf("%s %s = %v, want %v", r.call, when, err, want)
		}
	}
}

func testGet(t *testing.T, f fixture) {
	a, b := f.chain.accounts[0], f.chain.accounts[1]
	keys := [][]byte{token.BalanceKey(a), []byte("missing"), token.BalanceKey(b), token.BalanceKey(a), ledger.NonceKey(a)}
	want := [][]byte{ledger.EncodeUint64(1000), nil, ledger.EncodeUint64(1000), ledger.EncodeUint64(1000), nil}
	got, err := f.s.Get(f.ctx, keys)
	if err != nil || !slices.EqualFunc(got, want, bytes.Equal) {
		t.Errorf("Get(%d keys) = %x, %v, want %x", len(keys), got, err, want)
	}
	if got, err := f.s.Get(f.ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("Get(no keys) = %x, %v, want none", got, err)
	}
	got, _ = f.s.Get(f.ctx, keys[:1])
	got[0][7] ^= 1
	if again, _ := f.s.Get(f.ctx, keys[:1]); !bytes.Equal(again[0], want[0]) {
		t.Errorf("Get after the caller changed a result = %x, want %x", again[0], want[0])
	}
}

func testApplyAndRead(t *testing.T, f fixture) {
	for range 3 {
		u := f.chain.nextBlock(5)
		f.apply(t, u)
		m, err := f.s.Meta(f.ctx)
		if err != nil || !sameChain(m, f.chain.meta) {
			t.Fatalf("Meta() after block %d = height %d index %d, %v, want height %d index %d",
				u.Block.Header.Height, m.Height, m.Index, err, f.chain.meta.Height, f.chain.meta.Index)
		}
		assertState(t, f.ctx, f.s, f.chain.state)
	}
}

func testSkipAtOrBelowIndex(t *testing.T, f fixture) {
	u1 := f.chain.nextBlock(2)
	f.apply(t, u1)
	u2 := f.chain.nextBlock(2)
	f.apply(t, u2)
	stale := f.chain.nextBlock(2) // a new block, but at an old index
	stale.Index = u2.Index
	before := f.dump()
	for _, u := range []*Update{u1, u2, stale} {
		if ok, err := f.s.Apply(f.ctx, u); ok || err != nil {
			t.Errorf("Apply(index %d) at applied index %d = %v, %v, want false, nil", u.Index, u2.Index, ok, err)
		}
	}
	f.unchanged(t, "skipped Apply", before)
}

func testNotNext(t *testing.T, f fixture) {
	f.apply(t, f.chain.nextBlock(2))
	good := f.chain.nextBlock(2)
	tests := []struct {
		name   string
		mutate func(h *ledger.Header)
	}{
		{"wrong parent", func(h *ledger.Header) { h.Parent[0] ^= 1 }},
		{"height gap", func(h *ledger.Header) { h.Height++ }},
		{"same height", func(h *ledger.Header) { h.Height-- }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := *good
			b := *good.Block
			tt.mutate(&b.Header)
			u.Block = &b
			before := f.dump()
			if ok, err := f.s.Apply(f.ctx, &u); ok || !errors.Is(err, ErrNotNext) {
				t.Errorf("Apply(%s) = %v, %v, want false, %v", tt.name, ok, err, ErrNotNext)
			}
			f.unchanged(t, "Apply("+tt.name+")", before)
		})
	}
	f.apply(t, good)
}

func testWiped(t *testing.T, f fixture) {
	committed := f.chain.nextBlock(2)
	f.apply(t, committed)
	old, _ := f.s.Meta(f.ctx)
	f.wipe()
	u := f.chain.nextBlock(2)
	if ok, err := f.s.Apply(f.ctx, u); ok || !errors.Is(err, ErrWiped) {
		t.Errorf("Apply after wipe = %v, %v, want false, %v", ok, err, ErrWiped)
	}
	if got := f.dump(); len(got) != 0 {
		t.Errorf("Apply after wipe wrote %d records, want 0", len(got))
	}
	// A committed block and tx read ErrWiped, not ErrNotFound.
	assertReadsFail(t, f.ctx, f.s, "after wipe", committed.Block, ErrWiped)
	m, err := f.s.Open(f.ctx, f.chain.gen)
	if err != nil || m.Height != 0 || m.Incarnation == old.Incarnation {
		t.Errorf("Open after wipe = height %d incarnation %q, %v, want height 0 and a new incarnation", m.Height, m.Incarnation, err)
	}
}

// testMetaLost: only the meta record is gone (DEL dc:meta, its eviction, a
// crash mid-initialization); the rest of the old incarnation is still there.
// Open must start the new incarnation from exactly the genesis state.
func testMetaLost(t *testing.T, f fixture) {
	genesis, genMeta := f.chain.genesis(), f.chain.meta
	old, _ := f.s.Meta(f.ctx)
	u := f.chain.nextBlock(6)
	f.apply(t, u)
	f.apply(t, f.chain.nextBlock(6))
	f.loseMeta(t)
	m, err := f.s.Open(f.ctx, f.chain.gen)
	if err != nil || !sameChain(m, genMeta) || m.Incarnation == old.Incarnation {
		t.Fatalf("Open() after the meta was lost = height %d index %d incarnation %q, %v, want height 0 index 0 and a new incarnation",
			m.Height, m.Index, m.Incarnation, err)
	}
	assertState(t, f.ctx, f.s, genesis)
	if n := len(f.dump()); n != len(genesis)+1 {
		t.Errorf("records after Open() = %d, want %d (genesis state and meta)", n, len(genesis)+1)
	}
	if _, err := f.s.Block(f.ctx, u.Block.Header.Height); !errors.Is(err, ErrNotFound) {
		t.Errorf("Block(%d) of the old incarnation = %v, want %v", u.Block.Header.Height, err, ErrNotFound)
	}
	id := u.Block.Receipts[0].TxID
	if _, err := f.s.Tx(f.ctx, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("Tx(%s) of the old incarnation = %v, want %v", id, err, ErrNotFound)
	}
}

// testRestoredOlder: the store comes back from an older snapshot (Redis
// restarted from an RDB or AOF file): the same incarnation at an older
// index. Meta must show the older index; Apply of the block after the newer
// head must fail with ErrNotNext, writing nothing; the blocks after the
// older index apply again.
func testRestoredOlder(t *testing.T, f fixture) {
	us := make([]*Update, 6)
	for i := range us {
		us[i] = f.chain.nextBlock(3)
	}
	for _, u := range us[:3] {
		f.apply(t, u)
	}
	older, _ := f.s.Meta(f.ctx)
	restore := f.snapshot(t)
	for _, u := range us[3:5] {
		f.apply(t, u)
	}
	if m, err := f.s.Meta(f.ctx); err != nil || m.Index != us[4].Index {
		t.Fatalf("Meta() before the restore = index %d, %v, want %d", m.Index, err, us[4].Index)
	}
	restore()
	assertRestoredOlder(t, f, older, us[3:])
}

// assertRestoredOlder checks a store that was at the head of the first two
// of next and came back at older: Meta, Apply of next[2] (ErrNotNext), the
// blocks it lost (ErrNotFound: not detected, the node compares Meta with
// its head), and applying next again.
func assertRestoredOlder(t *testing.T, f fixture, older Meta, next []*Update) {
	t.Helper()
	if m, err := f.s.Meta(f.ctx); err != nil || m != older {
		t.Fatalf("Meta() after the restore = index %d height %d incarnation %q, %v, want %d %d %q",
			m.Index, m.Height, m.Incarnation, err, older.Index, older.Height, older.Incarnation)
	}
	before := f.dump()
	if ok, err := f.s.Apply(f.ctx, next[2]); ok || !errors.Is(err, ErrNotNext) {
		t.Errorf("Apply(index %d) at restored index %d = %v, %v, want false, %v", next[2].Index, older.Index, ok, err, ErrNotNext)
	}
	f.unchanged(t, "Apply past the restored head", before)
	h := next[1].Block.Header.Height
	if _, err := f.s.Block(f.ctx, h); !errors.Is(err, ErrNotFound) {
		t.Errorf("Block(%d) after the restore = %v, want %v", h, err, ErrNotFound)
	}
	for _, u := range next {
		f.apply(t, u)
	}
	assertState(t, f.ctx, f.s, f.chain.state)
}

func testCommitmentMismatch(t *testing.T, f fixture) {
	u := f.chain.nextBlock(3)
	bad := *u
	bad.Commitment.Add([]byte("extra"), []byte("x"))
	before := f.dump()
	if ok, err := f.s.Apply(f.ctx, &bad); ok || !errors.Is(err, ErrCommitmentMismatch) {
		t.Errorf("Apply(commitment not the header's) = %v, %v, want false, %v", ok, err, ErrCommitmentMismatch)
	}
	f.unchanged(t, "Apply(commitment not the header's)", before)

	// A commitment that matches its header but not the state: only the
	// invariants build can tell.
	wrongBlock := *u.Block
	wrongBlock.Header.Commitment = bad.Commitment.Digest()
	bad.Block = &wrongBlock
	ok, err := f.s.Apply(f.ctx, &bad)
	if invariants && (ok || !errors.Is(err, ErrCommitmentMismatch)) {
		t.Errorf("Apply(commitment not the state's) with invariants = %v, %v, want false, %v", ok, err, ErrCommitmentMismatch)
	}
	if !invariants && (!ok || err != nil) {
		t.Errorf("Apply(commitment not the state's) without invariants = %v, %v, want true, nil", ok, err)
	}
}

func testBadUpdate(t *testing.T, f fixture) {
	u := f.chain.nextBlock(2)
	noReceipt := *u.Block
	noReceipt.Receipts = noReceipt.Receipts[:1]
	emptyKey := *u.Block
	emptyKey.Writes = append(slices.Clone(emptyKey.Writes), ledger.Write{Value: []byte("v")})
	tests := []struct {
		name string
		u    *Update
	}{
		{"nil", nil},
		{"no block", &Update{Index: 9}},
		{"receipt missing", &Update{Index: u.Index, Block: &noReceipt, Commitment: u.Commitment}},
		{"empty key", &Update{Index: u.Index, Block: &emptyKey, Commitment: u.Commitment}},
	}
	before := f.dump()
	for _, tt := range tests {
		if ok, err := f.s.Apply(f.ctx, tt.u); ok || !errors.Is(err, ErrBadUpdate) {
			t.Errorf("Apply(%s) = %v, %v, want false, %v", tt.name, ok, err, ErrBadUpdate)
		}
	}
	f.unchanged(t, "bad updates", before)
}

// testReceiptForAnotherTx: a receipt whose tx id is not its tx's. Only the
// invariants build checks the ids.
func testReceiptForAnotherTx(t *testing.T, f fixture) {
	u := f.chain.nextBlock(3)
	u.Block.Receipts[1].TxID[0] ^= 1
	before := f.dump()
	ok, err := f.s.Apply(f.ctx, u)
	if invariants {
		if ok || !errors.Is(err, ErrBadUpdate) {
			t.Errorf("Apply(receipt for another tx) with invariants = %v, %v, want false, %v", ok, err, ErrBadUpdate)
		}
		f.unchanged(t, "Apply(receipt for another tx)", before)
		return
	}
	if !ok || err != nil {
		t.Errorf("Apply(receipt for another tx) without invariants = %v, %v, want true, nil", ok, err)
	}
}

func testBlockAndTx(t *testing.T, f fixture) {
	f.chain.failEvery = 3
	var us []*Update
	for _, n := range []int{4, 0, 7} {
		u := f.chain.nextBlock(n)
		f.apply(t, u)
		us = append(us, u)
	}
	for _, u := range us {
		assertBlock(t, f.ctx, f.s, u.Block)
	}
	for _, h := range []uint64{0, 4, 1 << 40} {
		if _, err := f.s.Block(f.ctx, h); !errors.Is(err, ErrNotFound) {
			t.Errorf("Block(%d) = %v, want %v", h, err, ErrNotFound)
		}
	}
	if _, err := f.s.Tx(f.ctx, ledger.Hash{1}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Tx(unknown) = %v, want %v", err, ErrNotFound)
	}
}

// assertBlock checks that the store returns b and each of its txs intact.
func assertBlock(t *testing.T, ctx context.Context, s Store, b *ledger.Block) {
	t.Helper()
	h := b.Header.Height
	got, err := s.Block(ctx, h)
	if err != nil || !bytes.Equal(got.Encode(), b.Encode()) {
		t.Errorf("Block(%d) = %v, want the block applied (%d txs)", h, err, len(b.Txs))
	}
	for i := range b.Txs {
		id := b.Receipts[i].TxID
		rec, err := s.Tx(ctx, id)
		if err != nil {
			t.Errorf("Tx(%s) = %v", id, err)
			continue
		}
		want := ledger.TxRecord{Tx: b.Txs[i], Receipt: b.Receipts[i], Height: h, Index: uint32(i)}
		if !bytes.Equal(mustMarshal(rec), mustMarshal(&want)) {
			t.Errorf("Tx(%s) = height %d index %d status %v, want %d %d %v", id, rec.Height, rec.Index, rec.Receipt.Status, h, i, b.Receipts[i].Status)
		}
	}
}

func testScan(t *testing.T, f fixture) {
	f.apply(t, f.chain.nextBlock(10))
	assertState(t, f.ctx, f.s, f.chain.state)
	stop := errors.New("stop")
	calls := 0
	err := f.s.Scan(f.ctx, func(k, v []byte) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Scan(fn failing) = %v after %d calls, want %v after 1", err, calls, stop)
	}
}

func testDeletes(t *testing.T, f fixture) {
	a, b := f.chain.accounts[0], f.chain.accounts[1]
	for range 4 { // move everything between two accounts, deleting and re-creating keys
		u := f.chain.writesBlock([]ledger.Write{
			{Key: token.BalanceKey(a)}, // delete
			{Key: token.BalanceKey(b), Value: ledger.EncodeUint64(2000)},
			{Key: token.BalanceKey(a), Value: ledger.EncodeUint64(7)}, // and set again
			{Key: token.BalanceKey(a)},                                // and delete again
			{Key: []byte("tmp"), Value: []byte("x")},
			{Key: []byte("tmp")},
			{Key: []byte("tmp"), Value: []byte("y")},
		})
		f.apply(t, u)
		assertState(t, f.ctx, f.s, f.chain.state)
		a, b = b, a
	}
}

func testConcurrentReads(t *testing.T, f fixture) {
	keys := [][]byte{token.BalanceKey(f.chain.accounts[0]), token.BalanceKey(f.chain.accounts[1])}
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	errs := make(chan error, 2)
	for range 2 {
		wg.Go(func() {
			for ctx.Err() == nil {
				if _, err := f.s.Get(ctx, keys); err != nil && ctx.Err() == nil {
					errs <- err
					return
				}
				_, _ = f.s.Meta(ctx)
			}
		})
	}
	for range 10 {
		f.apply(t, f.chain.nextBlock(5))
	}
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Get during Apply = %v", err)
	}
	assertState(t, f.ctx, f.s, f.chain.state)
}

// assertState checks that s holds exactly want: by Scan, by Recompute
// against the meta's commitment, and by Get of every key.
func assertState(t *testing.T, ctx context.Context, s Store, want map[string][]byte) {
	t.Helper()
	got := map[string][]byte{}
	err := s.Scan(ctx, func(k, v []byte) error {
		got[string(k)] = slices.Clone(v)
		return nil
	})
	if err != nil || !maps.EqualFunc(got, want, bytes.Equal) {
		t.Errorf("Scan() = %d keys, %v, want %d keys%s", len(got), err, len(want), diffState(got, want))
	}
	m, err := s.Meta(ctx)
	if c, rerr := Recompute(ctx, s); err != nil || rerr != nil || c != m.Commitment {
		t.Errorf("Recompute() = %v, %v, want Meta().Commitment %v, %v", c, rerr, m.Commitment, err)
	}
	keys := slices.Sorted(maps.Keys(want))
	bkeys := make([][]byte, len(keys))
	for i, k := range keys {
		bkeys[i] = []byte(k)
	}
	vals, err := s.Get(ctx, bkeys)
	for i, k := range keys {
		if err != nil || !bytes.Equal(vals[i], want[k]) {
			t.Errorf("Get(%x) = %x, %v, want %x", k, vals[i], err, want[k])
			return
		}
	}
}

func diffState(got, want map[string][]byte) string {
	for k, v := range want {
		if !bytes.Equal(got[k], v) {
			return fmt.Sprintf(": key %x is %x, want %x", k, got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			return fmt.Sprintf(": key %x is %x, want absent", k, v)
		}
	}
	return ""
}
