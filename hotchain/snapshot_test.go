package hotchain

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"maps"
	"runtime"
	"slices"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

// The conformance tests of Snapshot and Restore; TestStoreConformance runs
// them against every backend.

// testSnapshotRestore: snapshot after some blocks, apply more, restore:
// the store holds exactly the snapshot's state and meta under a new
// incarnation, no history, skips entries at or below the snapshot's index,
// and applies the blocks after it.
func testSnapshotRestore(t *testing.T, f fixture) {
	var pre []*Update
	for range 3 {
		pre = append(pre, f.chain.nextBlock(6))
		f.apply(t, pre[len(pre)-1])
	}
	old, _ := f.s.Meta(f.ctx)
	snap := mustSnapshot(t, f)
	wantState, wantMeta := maps.Clone(f.chain.state), f.chain.meta
	assertSnapshotIs(t, snap, wantState, wantMeta)
	next := make([]*Update, 4)
	for i := range next {
		next[i] = f.chain.nextBlock(6)
	}
	f.apply(t, next[0])
	f.apply(t, next[1])

	m, err := f.s.Restore(f.ctx, snap)
	if err != nil || !sameChain(m, wantMeta) || m.Incarnation == "" || m.Incarnation == old.Incarnation {
		t.Fatalf("Restore() = index %d height %d incarnation %q, %v, want %d %d and a new incarnation",
			m.Index, m.Height, m.Incarnation, err, wantMeta.Index, wantMeta.Height)
	}
	if got, err := f.s.Meta(f.ctx); err != nil || got != m {
		t.Errorf("Meta() after Restore = %+v, %v, want what Restore returned", got.Index, err)
	}
	assertState(t, f.ctx, f.s, wantState)
	if n := len(f.dump()); n != len(wantState)+1 {
		t.Errorf("records after Restore = %d, want %d (state and meta: no history)", n, len(wantState)+1)
	}
	for _, u := range []*Update{pre[2], next[1]} {
		if _, err := f.s.Block(f.ctx, u.Block.Header.Height); !errors.Is(err, ErrNotFound) {
			t.Errorf("Block(%d) after Restore = %v, want %v", u.Block.Header.Height, err, ErrNotFound)
		}
	}
	if ok, err := f.s.Apply(f.ctx, pre[2]); ok || err != nil {
		t.Errorf("Apply(index %d) at restored index %d = %v, %v, want false, nil", pre[2].Index, m.Index, ok, err)
	}
	for _, u := range next {
		f.apply(t, u)
	}
	assertState(t, f.ctx, f.s, f.chain.state)
}

// testSnapshotRoundTrip: a store's snapshot survives WriteTo and
// ReadSnapshot unchanged, and restores.
func testSnapshotRoundTrip(t *testing.T, f fixture) {
	for range 3 {
		f.apply(t, f.chain.nextBlock(8))
	}
	snap := mustSnapshot(t, f)
	var buf bytes.Buffer
	n, err := snap.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo() = %d, %v, want %d, nil", n, err, buf.Len())
	}
	buf.WriteString("after")
	got, err := ReadSnapshot(&buf)
	if err != nil || !equalSnapshots(got, snap) {
		t.Fatalf("ReadSnapshot(WriteTo()) = %d writes, %v, want %d writes and the same meta", snapshotLen(got), err, len(snap.Writes))
	}
	if rest := buf.String(); rest != "after" {
		t.Errorf("ReadSnapshot read past the snapshot: %q left, want %q", rest, "after")
	}
	f.apply(t, f.chain.nextBlock(8))
	if _, err := f.s.Restore(f.ctx, got); err != nil {
		t.Fatalf("Restore(decoded snapshot) = %v", err)
	}
	assertState(t, f.ctx, f.s, stateOf(snap))
}

// testRestoreRefused: a snapshot that is malformed, whose commitment is
// not its writes', or of another chain is refused, and the store is as
// it was.
func testRestoreRefused(t *testing.T, f fixture) {
	f.apply(t, f.chain.nextBlock(5))
	snap := mustSnapshot(t, f)
	f.apply(t, f.chain.nextBlock(5))
	other := newTestChain(99, 5, 7)
	tests := []struct {
		name string
		snap *Snapshot
		want error
	}{
		{"nil", nil, ErrBadSnapshot},
		{"commitment not its writes'", withValue(snap, 0, []byte("changed")), ErrCommitmentMismatch},
		{"a write left out", &Snapshot{Meta: snap.Meta, Writes: snap.Writes[1:]}, ErrCommitmentMismatch},
		{"unsorted", &Snapshot{Meta: snap.Meta, Writes: slices.Concat(snap.Writes[1:2], snap.Writes[:1], snap.Writes[2:])}, ErrBadSnapshot},
		{"empty value", withValue(snap, 1, nil), ErrBadSnapshot},
		{"another genesis", genesisSnapshot(other), ErrGenesisMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.dump()
			if m, err := f.s.Restore(f.ctx, tt.snap); !errors.Is(err, tt.want) {
				t.Errorf("Restore(%s) = index %d, %v, want %v", tt.name, m.Index, err, tt.want)
			}
			f.unchanged(t, "Restore("+tt.name+")", before)
		})
	}
	// Another handle, not opened, on a store holding this chain.
	if _, err := f.handle().Restore(f.ctx, genesisSnapshot(other)); !errors.Is(err, ErrGenesisMismatch) {
		t.Errorf("Restore(another genesis) on a handle not opened = %v, want %v", err, ErrGenesisMismatch)
	}
	f.apply(t, f.chain.nextBlock(5))
	assertState(t, f.ctx, f.s, f.chain.state)
}

// testRestoreWiped: a wiped store refuses Snapshot with ErrWiped and takes
// a Restore (the rebuild path), after which Apply goes on.
func testRestoreWiped(t *testing.T, f fixture) {
	f.apply(t, f.chain.nextBlock(5))
	snap := mustSnapshot(t, f)
	f.wipe()
	if _, err := f.s.Snapshot(f.ctx); !errors.Is(err, ErrWiped) {
		t.Errorf("Snapshot() after wipe = %v, want %v", err, ErrWiped)
	}
	if m, err := f.s.Restore(f.ctx, snap); err != nil || !sameChain(m, f.chain.meta) {
		t.Fatalf("Restore() after wipe = index %d, %v, want %d", m.Index, err, f.chain.meta.Index)
	}
	f.apply(t, f.chain.nextBlock(5))
	assertState(t, f.ctx, f.s, f.chain.state)
}

func mustSnapshot(t *testing.T, f fixture) *Snapshot {
	t.Helper()
	snap, err := f.s.Snapshot(f.ctx)
	if err != nil {
		t.Fatalf("Snapshot() = %v", err)
	}
	return snap
}

// assertSnapshotIs checks a snapshot's meta (no incarnation) and writes
// (sorted, exactly state).
func assertSnapshotIs(t *testing.T, snap *Snapshot, state map[string][]byte, m Meta) {
	t.Helper()
	if snap.Meta.Incarnation != "" || !sameChain(snap.Meta, m) {
		t.Errorf("Snapshot().Meta = index %d height %d incarnation %q, want %d %d and none",
			snap.Meta.Index, snap.Meta.Height, snap.Meta.Incarnation, m.Index, m.Height)
	}
	if err := checkSnapshot(snap); err != nil {
		t.Errorf("Snapshot() writes: %v", err)
	}
	if got := stateOf(snap); !maps.EqualFunc(got, state, bytes.Equal) {
		t.Errorf("Snapshot() = %d writes, want %d%s", len(got), len(state), diffState(got, state))
	}
}

func stateOf(snap *Snapshot) map[string][]byte {
	out := make(map[string][]byte, len(snap.Writes))
	for _, w := range snap.Writes {
		out[string(w.Key)] = w.Value
	}
	return out
}

func equalSnapshots(a, b *Snapshot) bool {
	return a != nil && b != nil && a.Meta == b.Meta && slices.EqualFunc(a.Writes, b.Writes, func(x, y ledger.Write) bool {
		return bytes.Equal(x.Key, y.Key) && bytes.Equal(x.Value, y.Value)
	})
}

func snapshotLen(s *Snapshot) int {
	if s == nil {
		return -1
	}
	return len(s.Writes)
}

// withValue returns a copy of snap with write i's value replaced.
func withValue(snap *Snapshot, i int, v []byte) *Snapshot {
	c := &Snapshot{Meta: snap.Meta, Writes: slices.Clone(snap.Writes)}
	c.Writes[i].Value = v
	return c
}

// genesisSnapshot is a valid snapshot of c's genesis state.
func genesisSnapshot(c *testChain) *Snapshot {
	writes, _, _ := genesisState(c.gen)
	snap := &Snapshot{Meta: c.meta, Writes: slices.Clone(writes)}
	sortWrites(snap.Writes)
	return snap
}

// testSnapshot is a small valid snapshot, built without a store.
func testSnapshot(n int) *Snapshot {
	c := newTestChain(5, n, 100)
	for range 2 {
		c.nextBlock(n)
	}
	snap := &Snapshot{Meta: c.meta}
	for _, k := range slices.Sorted(maps.Keys(c.state)) {
		snap.Writes = append(snap.Writes, ledger.Write{Key: []byte(k), Value: c.state[k]})
	}
	return snap
}

func encodeSnapshot(t testing.TB, snap *Snapshot) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := snap.WriteTo(&buf); err != nil {
		t.Fatalf("WriteTo() = %v", err)
	}
	return buf.Bytes()
}

// TestReadSnapshotRefuses: every truncation and every single changed byte
// of an encoded snapshot is refused with ErrBadSnapshot.
func TestReadSnapshotRefuses(t *testing.T) {
	data := encodeSnapshot(t, testSnapshot(6))
	for n := range len(data) {
		if _, err := ReadSnapshot(bytes.NewReader(data[:n])); !errors.Is(err, ErrBadSnapshot) {
			t.Fatalf("ReadSnapshot(first %d of %d bytes) = %v, want %v", n, len(data), err, ErrBadSnapshot)
		}
	}
	for i := range data {
		bad := slices.Clone(data)
		bad[i] ^= 0x10
		if _, err := ReadSnapshot(bytes.NewReader(bad)); !errors.Is(err, ErrBadSnapshot) {
			t.Fatalf("ReadSnapshot(byte %d of %d changed) = %v, want %v", i, len(data), err, ErrBadSnapshot)
		}
	}
}

// TestReadSnapshotReaderError: an error of the reader is returned as it
// is, not as a bad snapshot.
func TestReadSnapshotReaderError(t *testing.T) {
	data := encodeSnapshot(t, testSnapshot(3))
	failing := errors.New("disk on fire")
	r := io.MultiReader(bytes.NewReader(data[:100]), iotestErrReader{failing})
	if _, err := ReadSnapshot(r); !errors.Is(err, failing) || errors.Is(err, ErrBadSnapshot) {
		t.Errorf("ReadSnapshot(failing reader) = %v, want %v and not %v", err, failing, ErrBadSnapshot)
	}
}

type iotestErrReader struct{ err error }

func (r iotestErrReader) Read([]byte) (int, error) { return 0, r.err }

// TestReadSnapshotBoundedAlloc: lengths and counts in the stream are not
// trusted beyond what was read: a header claiming 2^40 records and a record
// claiming a 64 MiB value, both truncated, allocate little.
func TestReadSnapshotBoundedAlloc(t *testing.T) {
	snap := testSnapshot(2)
	h := headerOf(snap)
	h.Count = 1 << 40
	head := mustMarshal(h)
	data := binary.BigEndian.AppendUint32([]byte(snapshotMagic), uint32(len(head)))
	data = append(data, head...)
	data = append(data, 0, 0, 0, 1, 'k', 0x04, 0, 0, 0) // value of 64 MiB
	data = append(data, "only this"...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ReadSnapshot(bytes.NewReader(data))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrBadSnapshot) {
		t.Errorf("ReadSnapshot(truncated, huge lengths) = %v, want %v", err, ErrBadSnapshot)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 4*readChunk {
		t.Errorf("ReadSnapshot(truncated, huge lengths) allocated %d bytes, want at most %d", got, 4*readChunk)
	}
}

// TestWriteToRefuses: WriteTo writes nothing for a snapshot ReadSnapshot
// would refuse.
func TestWriteToRefuses(t *testing.T) {
	snap := testSnapshot(3)
	tests := []struct {
		name string
		snap *Snapshot
	}{
		{"unsorted", &Snapshot{Meta: snap.Meta, Writes: slices.Concat(snap.Writes[1:2], snap.Writes[:1])}},
		{"empty key", &Snapshot{Writes: []ledger.Write{{Value: []byte("v")}}}},
		{"oversized key", &Snapshot{Writes: []ledger.Write{{Key: make([]byte, maxSnapshotKey+1), Value: []byte("v")}}}},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if n, err := tt.snap.WriteTo(&buf); !errors.Is(err, ErrBadSnapshot) || n != 0 || buf.Len() != 0 {
			t.Errorf("WriteTo(%s) = %d, %v with %d bytes written, want 0, %v", tt.name, n, err, buf.Len(), ErrBadSnapshot)
		}
	}
}

// TestSnapshotDifferential: the memory and the Redis store, fed the same
// blocks, give the same snapshot byte for byte, and each restores the
// other's, after which both apply the same next blocks alike.
func TestSnapshotDifferential(t *testing.T) {
	ctx := context.Background()
	chain := newTestChain(21, 60, 1_000)
	chain.dupWrites, chain.failEvery = true, 6
	mem, red := NewMemoryStore(), newRedisSetup(t).handle()
	for _, s := range []Store{mem, red} {
		if _, err := s.Open(ctx, chain.gen); err != nil {
			t.Fatalf("%s: Open() = %v", s.Kind(), err)
		}
	}
	for round := range 4 {
		for range 5 {
			applyAll(t, ctx, chain.nextBlock(chain.r.IntN(30)), mem, red)
		}
		ms, rs := snapshotOf(t, ctx, mem), snapshotOf(t, ctx, red)
		if mb, rb := encodeSnapshot(t, ms), encodeSnapshot(t, rs); !bytes.Equal(mb, rb) {
			t.Fatalf("round %d: snapshots differ: memory %d bytes, redis %d", round, len(mb), len(rb))
		}
		u := chain.nextBlock(10)
		applyAll(t, ctx, u, mem, red) // both move past the snapshots
		for _, r := range []struct {
			s    Store
			snap *Snapshot
		}{{mem, rs}, {red, ms}} {
			if _, err := r.s.Restore(ctx, r.snap); err != nil {
				t.Fatalf("round %d: %s Restore() = %v", round, r.s.Kind(), err)
			}
			if ok, err := r.s.Apply(ctx, u); !ok || err != nil {
				t.Fatalf("round %d: %s Apply(block %d) after Restore = %v, %v", round, r.s.Kind(), u.Block.Header.Height, ok, err)
			}
		}
		compareStores(t, ctx, chain, u, mem, red)
	}
}

func applyAll(t *testing.T, ctx context.Context, u *Update, stores ...Store) {
	t.Helper()
	for _, s := range stores {
		if ok, err := s.Apply(ctx, u); !ok || err != nil {
			t.Fatalf("%s: Apply(block %d) = %v, %v", s.Kind(), u.Block.Header.Height, ok, err)
		}
	}
}

func snapshotOf(t *testing.T, ctx context.Context, s Store) *Snapshot {
	t.Helper()
	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatalf("%s: Snapshot() = %v", s.Kind(), err)
	}
	return snap
}

// FuzzReadSnapshot: ReadSnapshot never panics, refuses with ErrBadSnapshot,
// and accepts only what WriteTo writes for the snapshot it returns. Each
// input is also read with its last 32 bytes replaced by the right checksum,
// so that mutations reach the header and records instead of stopping at
// the checksum.
func FuzzReadSnapshot(f *testing.F) {
	for _, n := range []int{0, 1, 4} {
		f.Add(encodeSnapshot(f, testSnapshot(n)))
	}
	f.Add([]byte(snapshotMagic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		checkReadSnapshot(t, data)
		if len(data) >= sha256.Size {
			body := data[:len(data)-sha256.Size]
			sum := sha256.Sum256(body)
			checkReadSnapshot(t, append(slices.Clip(body), sum[:]...))
		}
	})
}

func checkReadSnapshot(t *testing.T, data []byte) {
	r := bytes.NewReader(data)
	snap, err := ReadSnapshot(r)
	if err != nil {
		if !errors.Is(err, ErrBadSnapshot) {
			t.Fatalf("ReadSnapshot() = %v, want %v", err, ErrBadSnapshot)
		}
		return
	}
	read := data[:len(data)-r.Len()]
	if again := encodeSnapshot(t, snap); !bytes.Equal(again, read) {
		t.Fatalf("ReadSnapshot accepted %d bytes that WriteTo encodes as %d other bytes", len(read), len(again))
	}
}
