package coldchain

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dualchain/dualchain/ledger"
)

// scenario makes cold blocks that a chain applies in order: settlements,
// transfers and deposits at the right nonces, credits of earlier
// deposits, cleanups, and hot writes for the mirror.
type scenario struct {
	r        *rand.Rand
	addrs    []ledger.Address
	nonces   map[ledger.Address]uint64
	deposits []ledger.Hash
	ids      []ledger.Hash // every settlement and transaction id
	index    uint64
}

func newScenario(seed uint64, accounts int) *scenario {
	s := &scenario{r: rand.New(rand.NewPCG(seed, seed+1)), nonces: map[ledger.Address]uint64{}}
	for i := range accounts {
		s.addrs = append(s.addrs, testAddr(int(seed)*1000+i))
	}
	return s
}

func (s *scenario) addr() ledger.Address { return s.addrs[s.r.IntN(len(s.addrs))] }

// next returns the next block.
func (s *scenario) next() BlockInput {
	s.index += 1 + s.r.Uint64N(3)
	in := BlockInput{Index: s.index, Time: int64(s.index), Mirror: map[string][]byte{},
		Checkpoint: ledger.Checkpoint{HotHeight: s.index * 10, HotHash: testID(fmt.Sprint("hot", s.index))}}
	for i := range 1 + s.r.IntN(3) {
		st := settlement(fmt.Sprintf("%d/%d/%d", s.r.Uint64(), s.index, i), s.addr(), 1+s.r.Uint64N(1000))
		in.Settlements = append(in.Settlements, st)
		s.ids = append(s.ids, st.Transfer.ID)
	}
	for _, id := range s.deposits {
		if s.r.IntN(3) == 0 {
			in.Credits = append(in.Credits, Credit{ID: id, HotHeight: s.index * 10, HotKey: []byte(fmt.Sprint("credit/", id))})
		} else if s.r.IntN(3) == 0 {
			in.Cleaned = append(in.Cleaned, id)
		}
	}
	for range s.r.IntN(5) {
		from := s.addr()
		tx := newTx(TxTransfer, from, s.nonces[from], s.addr(), 1+s.r.Uint64N(300))
		if s.r.IntN(3) == 0 {
			tx = newTx(TxDeposit, from, s.nonces[from], ledger.Address{}, 1+s.r.Uint64N(200))
			s.deposits = append(s.deposits, tx.ID)
		}
		s.nonces[from]++
		in.Txs = append(in.Txs, tx)
		s.ids = append(s.ids, tx.ID)
	}
	for range s.r.IntN(8) {
		k := fmt.Sprintf("hot/%d", s.r.IntN(20))
		if s.r.IntN(4) == 0 {
			in.Mirror[k] = nil
		} else {
			in.Mirror[k] = fmt.Appendf(nil, "v%d", s.r.Uint64())
		}
	}
	return in
}

// applyScenario applies n blocks of s to c.
func applyScenario(t testing.TB, c *Chain, s *scenario, n int) {
	t.Helper()
	for range n {
		mustApply(t, c, s.next())
	}
}

// requireSameChain checks that got holds what want holds: the same head,
// root, blocks, accounts, mirror, transfers and transactions, and record
// for record the same database.
func requireSameChain(t testing.TB, got, want *Chain, s *scenario) {
	t.Helper()
	if got.Head() != want.Head() || got.st.Root() != want.st.Root() || got.AppliedIndex() != want.AppliedIndex() {
		t.Fatalf("Head = %+v (root %v, index %d), want %+v (root %v, index %d)",
			got.Head(), got.st.Root(), got.AppliedIndex(), want.Head(), want.st.Root(), want.AppliedIndex())
	}
	for h := uint64(1); h <= want.Head().Height; h++ {
		wb, err := want.Block(h)
		if err != nil {
			t.Fatal(err)
		}
		requireStoredBlock(t, got, wb)
	}
	for _, a := range s.addrs {
		wa, _ := want.Account(a)
		requireAccount(t, got, a, wa)
	}
	for _, id := range s.ids {
		gt, gok, gerr := got.Transfer(id)
		wt, wok, _ := want.Transfer(id)
		if gerr != nil || gok != wok || gt != wt {
			t.Fatalf("Transfer(%v) = %+v, %v, %v; want %+v, %v", id, gt, gok, gerr, wt, wok)
		}
		gr, gerr := got.Tx(id)
		wr, werr := want.Tx(id)
		if (gerr == nil) != (werr == nil) || gerr == nil && !bytes.Equal(mustMarshal(gr), mustMarshal(wr)) {
			t.Fatalf("Tx(%v) = %+v, %v; want %+v, %v", id, gr, gerr, wr, werr)
		}
	}
	if g, w := mirrorOf(got), mirrorOf(want); !maps.Equal(g, w) {
		t.Fatalf("Mirror = %q, want %q", g, w)
	}
	gs, _ := got.Sum()
	ws, _ := want.Sum()
	if gs != ws {
		t.Fatalf("Sum = %+v, want %+v", gs, ws)
	}
	if !bytes.Equal(chainDump(t, got), chainDump(t, want)) {
		t.Fatalf("the databases' records differ")
	}
	if err := got.st.Check(); err != nil {
		t.Fatal(err)
	}
}

func requireNoRestoreLeftovers(t testing.TB, fs vfs.FS, dir string) {
	t.Helper()
	for _, d := range []string{dir + ".restore", dir + ".old"} {
		if _, err := fs.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("Stat(%s) = %v, want it gone", d, err)
		}
	}
}

// TestSnapshotRoundTrip: a chain restored from another's snapshot holds
// exactly what the other holds, whatever it held before, and goes on
// from there as the other does.
func TestSnapshotRoundTrip(t *testing.T) {
	src := openChain(t, TestConfig())
	s := newScenario(1, 20)
	applyScenario(t, src, s, 15)
	cfg := TestConfig()
	dst := openChain(t, cfg)
	applyScenario(t, dst, newScenario(2, 20), 25) // higher and different

	snap, err := src.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if snap.Index() != src.AppliedIndex() {
		t.Fatalf("Snapshot.Index = %d, want %d", snap.Index(), src.AppliedIndex())
	}
	var buf bytes.Buffer
	n, err := snap.WriteTo(&buf)
	snap.Release()
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo = %d, %v; wrote %d bytes", n, err, buf.Len())
	}
	if err := dst.Restore(&buf); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	requireSameChain(t, dst, src, s)
	requireNoRestoreLeftovers(t, cfg.FS, cfg.Dir)

	next := s.next()
	b1, b2 := mustApply(t, src, next), mustApply(t, dst, next)
	if b1.Header.Hash() != b2.Header.Hash() {
		t.Fatalf("the next block differs after the restore: %v, want %v", b2.Header.Hash(), b1.Header.Hash())
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	requireSameChain(t, openChain(t, cfg), src, s)
}

// TestSnapshotOfEmptyChain: an empty chain's snapshot restores to an
// empty chain.
func TestSnapshotOfEmptyChain(t *testing.T) {
	empty := openChain(t, TestConfig())
	dst := openChain(t, TestConfig())
	s := newScenario(3, 5)
	applyScenario(t, dst, s, 3)
	if err := dst.Restore(bytes.NewReader(chainDump(t, empty))); err != nil {
		t.Fatal(err)
	}
	if dst.Head() != (Head{}) || dst.AppliedIndex() != 0 || dst.st.Root() != emptyHash {
		t.Fatalf("restored empty chain: head %+v, index %d, root %v", dst.Head(), dst.AppliedIndex(), dst.st.Root())
	}
	requireSameChain(t, dst, empty, s)
	mustApply(t, dst, BlockInput{Index: 1})
}

// TestSnapshotIsPointInTime: a snapshot written after more blocks were
// applied holds the chain as it was when it was taken.
func TestSnapshotIsPointInTime(t *testing.T) {
	c := openChain(t, TestConfig())
	ref := openChain(t, TestConfig())
	s := newScenario(4, 10)
	for range 6 {
		in := s.next()
		mustApply(t, c, in)
		mustApply(t, ref, in)
	}
	snap, err := c.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	applyScenario(t, c, s, 6)
	var buf bytes.Buffer
	if _, err := snap.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if snap.Index() != ref.AppliedIndex() {
		t.Fatalf("Snapshot.Index = %d, want %d", snap.Index(), ref.AppliedIndex())
	}
	if !bytes.Equal(buf.Bytes(), chainDump(t, ref)) {
		t.Fatalf("the snapshot holds records applied after it was taken")
	}
	dst := openChain(t, TestConfig())
	if err := dst.Restore(&buf); err != nil {
		t.Fatal(err)
	}
	requireSameChain(t, dst, ref, s)
}

// restoreTarget is a chain for Restore to refuse streams on, and what it
// holds.
type restoreTarget struct {
	cfg  Config
	c    *Chain
	head Head
	dump []byte
}

func newRestoreTarget(t *testing.T) *restoreTarget {
	cfg := TestConfig()
	c := openChain(t, cfg)
	applyScenario(t, c, newScenario(5, 5), 3)
	return &restoreTarget{cfg: cfg, c: c, head: c.Head(), dump: chainDump(t, c)}
}

// refuse checks that Restore refuses stream with ErrBadSnapshot and
// leaves the chain as it was.
func (rt *restoreTarget) refuse(t *testing.T, what string, stream []byte) {
	t.Helper()
	err := rt.c.Restore(bytes.NewReader(stream))
	if !errors.Is(err, ErrBadSnapshot) {
		t.Fatalf("Restore(%s) = %v, want ErrBadSnapshot", what, err)
	}
	if rt.c.Head() != rt.head {
		t.Fatalf("Restore(%s) changed the head to %+v", what, rt.c.Head())
	}
}

// unchanged checks, in full, that the refused restores changed nothing,
// also on disk.
func (rt *restoreTarget) unchanged(t *testing.T) {
	t.Helper()
	if !bytes.Equal(chainDump(t, rt.c), rt.dump) {
		t.Fatalf("refused restores changed the chain's records")
	}
	requireNoRestoreLeftovers(t, rt.cfg.FS, rt.cfg.Dir)
	if err := rt.c.Close(); err != nil {
		t.Fatal(err)
	}
	c := openChain(t, rt.cfg)
	if c.Head() != rt.head || !bytes.Equal(chainDump(t, c), rt.dump) {
		t.Fatalf("reopened after refused restores: head %+v, want %+v", c.Head(), rt.head)
	}
	mustApply(t, c, BlockInput{Index: rt.head.Index + 1})
}

// smallSnapshot returns the stream of a chain of one block.
func smallSnapshot(t testing.TB) []byte {
	c := openChain(t, TestConfig())
	mustApply(t, c, BlockInput{Index: 1, Settlements: []Settlement{settlement("s", testAddr(1), 10)},
		Mirror: map[string][]byte{"k": []byte("v")}})
	return chainDump(t, c)
}

// TestRestoreRefusesChangedByte: a stream with any one byte changed is
// refused, and the chain stays as it was.
func TestRestoreRefusesChangedByte(t *testing.T) {
	stream := smallSnapshot(t)
	rt := newRestoreTarget(t)
	step := 1
	if testing.Short() {
		step = 7
	}
	for i := 0; i < len(stream); i += step {
		for _, mask := range []byte{0x01, 0x80} {
			bad := slices.Clone(stream)
			bad[i] ^= mask
			rt.refuse(t, fmt.Sprintf("byte %d of %d ^ %#x", i, len(stream), mask), bad)
		}
	}
	rt.unchanged(t)
}

// TestRestoreRefusesTruncated: a stream cut anywhere is refused.
func TestRestoreRefusesTruncated(t *testing.T) {
	stream := smallSnapshot(t)
	rt := newRestoreTarget(t)
	step := 1
	if testing.Short() {
		step = 7
	}
	for n := 0; n < len(stream); n += step {
		rt.refuse(t, fmt.Sprintf("first %d of %d bytes", n, len(stream)), stream[:n])
	}
	rt.refuse(t, "all but the last byte", stream[:len(stream)-1])
	rt.unchanged(t)
}

// TestRestoreRefusesBadInput: garbage, an empty stream, declared lengths
// too large to be true, a stream cut inside a record: a clear error, no
// panic, the chain as it was.
func TestRestoreRefusesBadInput(t *testing.T) {
	magic := coldSnapshotMagic[:]
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	uv := func(n uint64) []byte { return binary.AppendUvarint(nil, n) }
	garbage := make([]byte, 4096)
	r := rand.New(rand.NewPCG(9, 9))
	for i := range garbage {
		garbage[i] = byte(r.Uint32())
	}
	tests := []struct {
		name   string
		stream []byte
	}{
		{"empty", nil},
		{"garbage", garbage},
		{"garbage after the magic", cat(magic, garbage)},
		{"other magic", cat([]byte("dcc\x02"), uv(0), make([]byte, 32))},
		{"magic only", magic},
		{"no checksum", cat(magic, uv(0))},
		{"short checksum", cat(magic, uv(0), make([]byte, 31))},
		{"zero checksum", cat(magic, uv(0), make([]byte, 32))},
		{"key of 2^40 bytes", cat(magic, uv(1<<40), []byte("k"))},
		{"key of 2^64-1 bytes", cat(magic, uv(^uint64(0)))},
		{"value of 2^62 bytes", cat(magic, uv(1), []byte("k"), uv(1<<62), []byte("v"))},
		{"key just over the limit", cat(magic, uv(maxSnapshotRecord+1))},
		{"key at the limit, cut short", cat(magic, uv(maxSnapshotRecord), []byte("k"))},
		{"length of 11 bytes", cat(magic, bytes.Repeat([]byte{0xff}, 11), []byte{1})},
		{"cut inside a length", cat(magic, []byte{0x80})},
		{"cut inside a key", cat(magic, uv(5), []byte("ab"))},
		{"cut before a value", cat(magic, uv(1), []byte("k"))},
	}
	rt := newRestoreTarget(t)
	for _, tc := range tests {
		rt.refuse(t, tc.name, tc.stream)
	}
	rt.unchanged(t)
}

// FuzzRestore: Restore of any stream refuses it with ErrBadSnapshot and
// leaves the chain as it was, or restores exactly the records it holds;
// it never panics.
func FuzzRestore(f *testing.F) {
	good := smallSnapshot(f)
	f.Add(good)
	f.Add([]byte{})
	f.Add(coldSnapshotMagic[:])
	f.Add(append(slices.Clone(good), 0))
	f.Add(good[:len(good)-1])
	f.Fuzz(func(t *testing.T, stream []byte) {
		c := openChain(t, TestConfig())
		mustApply(t, c, BlockInput{Index: 7, Mirror: map[string][]byte{"x": []byte("y")}})
		before := chainDump(t, c)
		if err := c.Restore(bytes.NewReader(stream)); err != nil {
			if !errors.Is(err, ErrBadSnapshot) {
				t.Fatalf("Restore = %v, want ErrBadSnapshot", err)
			}
			if !bytes.Equal(chainDump(t, c), before) {
				t.Fatalf("a refused Restore changed the chain")
			}
			return
		}
		if !bytes.HasPrefix(stream, chainDump(t, c)) {
			t.Fatalf("Restore accepted a stream and holds other records")
		}
	})
}

// errReader fails after n bytes of data.
type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestRestoreReadError: a reader that fails is an error, and the chain
// stays as it was.
func TestRestoreReadError(t *testing.T) {
	stream := smallSnapshot(t)
	rt := newRestoreTarget(t)
	errDisk := errors.New("disk on fire")
	for _, n := range []int{0, 3, 10, len(stream) - 40, len(stream) - 1} {
		err := rt.c.Restore(&errReader{data: stream[:n], err: errDisk})
		if err == nil {
			t.Fatalf("Restore(reader failing after %d bytes) = nil", n)
		}
		if rt.c.Head() != rt.head {
			t.Fatalf("a failed Restore changed the head")
		}
	}
	rt.unchanged(t)
}

// TestRestoreWithSnapshotOpen: Restore refuses while a snapshot of the
// chain is open (Raft may be persisting it): closing the database under
// it would break both. The open snapshot still reads the chain, and once
// it is released Restore works.
func TestRestoreWithSnapshotOpen(t *testing.T) {
	c := openChain(t, TestConfig())
	s := newScenario(6, 10)
	applyScenario(t, c, s, 5)
	want := chainDump(t, c)
	other := openChain(t, TestConfig())
	applyScenario(t, other, newScenario(7, 10), 5)
	stream := chainDump(t, other)

	snap, err := c.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	head := c.Head()
	if err := c.Restore(bytes.NewReader(stream)); !errors.Is(err, ErrSnapshotOpen) {
		t.Fatalf("Restore with a snapshot open = %v, want ErrSnapshotOpen", err)
	}
	if c.Head() != head || !bytes.Equal(chainDump(t, c), want) {
		t.Fatalf("a refused Restore changed the chain")
	}
	var buf bytes.Buffer
	if _, err := snap.WriteTo(&buf); err != nil || !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("the open snapshot after a refused Restore: %v, or other records", err)
	}
	snap.Release()
	if err := c.Restore(bytes.NewReader(stream)); err != nil {
		t.Fatalf("Restore after the snapshot's release: %v", err)
	}
	requireSameChain(t, c, other, s)
}

// crashFS is a crashable in-memory filesystem that, while armed, takes
// crash clones before and after each change of a directory's entries:
// each is a filesystem a crash at that point could leave.
//
// A clone keeping a random part of the unsynced directory entries (50%)
// models a filesystem that orders no metadata. Pebble itself does not
// reopen from every such state: a crash in its Open, between creating a
// MANIFEST and syncing the directory after its marker, can keep the
// marker and lose the MANIFEST (a plain pebble.Open shows it). So inside
// a database's directory (a name with a "/") the clones keep none or all
// of the unsynced data, and only Restore's own steps get the random one.
type crashFS struct {
	*vfs.MemFS
	mu     sync.Mutex
	armed  bool
	seed   uint64
	clones []crashPoint
	// failRename, if set, fails a rename of this name.
	failRename string
}

type crashPoint struct {
	what string
	pct  int
	fs   *vfs.MemFS
}

var errInjected = errors.New("injected failure")

// arm starts or stops the clones; failRename sets failRename. Pebble's
// background goroutines use the filesystem meanwhile.
func (f *crashFS) arm(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed = on
}

func (f *crashFS) setFailRename(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failRename = name
}

func (f *crashFS) point(what string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.armed {
		return
	}
	pcts := []int{0, 50, 100}
	if strings.Contains(what, "/") {
		pcts = []int{0, 100}
	}
	for _, pct := range pcts {
		f.seed++
		clone := f.MemFS.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: pct, RNG: rand.New(rand.NewPCG(f.seed, 1))})
		f.clones = append(f.clones, crashPoint{what: what, pct: pct, fs: clone})
	}
}

func (f *crashFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f.point("before create " + name)
	file, err := f.MemFS.Create(name, c)
	f.point("after create " + name)
	return file, err
}

func (f *crashFS) Rename(from, to string) error {
	f.mu.Lock()
	fail := from == f.failRename
	f.mu.Unlock()
	if fail {
		return errInjected
	}
	f.point("before rename " + from + " " + to)
	err := f.MemFS.Rename(from, to)
	f.point("after rename " + from + " " + to)
	return err
}

func (f *crashFS) Remove(name string) error {
	f.point("before remove " + name)
	err := f.MemFS.Remove(name)
	f.point("after remove " + name)
	return err
}

func (f *crashFS) RemoveAll(name string) error {
	f.point("before remove all " + name)
	err := f.MemFS.RemoveAll(name)
	f.point("after remove all " + name)
	return err
}

// TestRestoreCrash: a crash at any point of a Restore (while the new
// database is written, before the swap, between the two renames, after
// them, while the old one is removed) leaves a filesystem that OpenChain
// opens as the old chain or the new one, whole; once Restore has
// returned, as the new one.
func TestRestoreCrash(t *testing.T) {
	fs := &crashFS{MemFS: vfs.NewCrashableMem()}
	cfg := Config{Dir: "cold", FS: fs}
	c := openChain(t, cfg)
	applyScenario(t, c, newScenario(8, 10), 5)
	oldDump, oldHead := dumpAndHead(t, c)
	src := openChain(t, TestConfig())
	applyScenario(t, src, newScenario(9, 10), 8)
	newDump, newHead := dumpAndHead(t, src)

	fs.arm(true)
	err := c.Restore(bytes.NewReader(newDump))
	fs.point("Restore returned")
	fs.arm(false)
	if err != nil {
		t.Fatal(err)
	}
	if c.Head() != newHead {
		t.Fatalf("Head after Restore = %+v, want %+v", c.Head(), newHead)
	}
	var sawOld, sawNew, sawFirstRename bool
	for i, p := range fs.clones {
		if p.what == "before rename cold cold.old" {
			requireFirstRenameRecovers(t, p.fs, newDump)
			sawFirstRename = true
		}
		cc, err := OpenChain(Config{Dir: cfg.Dir, FS: p.fs}, testChainID)
		if err != nil {
			t.Fatalf("crash %d (%s, %d%% unsynced kept): OpenChain: %v", i, p.what, p.pct, err)
		}
		got, head := chainDump(t, cc), cc.Head()
		switch {
		case bytes.Equal(got, oldDump) && head == oldHead:
			sawOld = true
		case bytes.Equal(got, newDump) && head == newHead:
			sawNew = true
		default:
			t.Fatalf("crash %d (%s, %d%% unsynced kept): the chain is neither the old one nor the new one (head %+v)", i, p.what, p.pct, head)
		}
		if p.what == "Restore returned" && head != newHead {
			t.Fatalf("crash after Restore returned (%d%% unsynced kept): the old chain", p.pct)
		}
		if err := cc.st.Check(); err != nil {
			t.Fatalf("crash %d (%s): %v", i, p.what, err)
		}
		requireNoRestoreLeftovers(t, p.fs, cfg.Dir)
		if err := cc.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if !sawOld || !sawNew || !sawFirstRename {
		t.Fatalf("of %d crash points: old chain %v, new chain %v, first rename %v; want all", len(fs.clones), sawOld, sawNew, sawFirstRename)
	}
	t.Logf("%d crash points", len(fs.clones))
}

// requireFirstRenameRecovers checks the state a real filesystem can be
// left in and the crash clone cannot make (it keeps a renamed entry's old
// name): the first rename on disk, the second not. From the crash just
// before the first rename, it makes that rename, and checks that
// OpenChain finishes the swap.
func requireFirstRenameRecovers(t *testing.T, before *vfs.MemFS, newDump []byte) {
	t.Helper()
	fs := before.CrashClone(vfs.CrashCloneCfg{}) // an exact copy: a clone's entries are all synced
	if err := fs.Rename("cold", "cold.old"); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Stat("cold"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Stat(cold) = %v after renaming it", err)
	}
	c, err := OpenChain(Config{Dir: "cold", FS: fs}, testChainID)
	if err != nil {
		t.Fatalf("OpenChain after the first rename: %v", err)
	}
	defer c.Close()
	if !bytes.Equal(chainDump(t, c), newDump) {
		t.Fatalf("OpenChain after the first rename: not the restored chain")
	}
	requireNoRestoreLeftovers(t, fs, "cold")
}

// dumpAndHead returns the chain's records and head.
func dumpAndHead(t testing.TB, c *Chain) ([]byte, Head) { return chainDump(t, c), c.Head() }

// TestRestoreSwapFails: when the swap fails after the old database is
// closed, the chain answers ErrClosed (no panic), and reopening it finds
// a whole chain.
func TestRestoreSwapFails(t *testing.T) {
	for _, failing := range []string{"cold", "cold.restore"} {
		t.Run("rename "+failing, func(t *testing.T) {
			fs := &crashFS{MemFS: vfs.NewCrashableMem()}
			fs.setFailRename(failing)
			cfg := Config{Dir: "cold", FS: fs}
			c := openChain(t, cfg)
			applyScenario(t, c, newScenario(10, 5), 3)
			oldDump := chainDump(t, c)
			src := openChain(t, TestConfig())
			applyScenario(t, src, newScenario(11, 5), 4)
			newDump := chainDump(t, src)
			if err := c.Restore(bytes.NewReader(newDump)); !errors.Is(err, errInjected) {
				t.Fatalf("Restore = %v, want the injected failure", err)
			}
			if _, err := c.Block(1); !errors.Is(err, ErrClosed) {
				t.Fatalf("Block after a failed swap = %v, want ErrClosed", err)
			}
			if _, err := c.Apply(BlockInput{Index: 100}); !errors.Is(err, ErrClosed) {
				t.Fatalf("Apply after a failed swap = %v, want ErrClosed", err)
			}
			fs.setFailRename("")
			cc := openChain(t, cfg)
			if got := chainDump(t, cc); !bytes.Equal(got, oldDump) && !bytes.Equal(got, newDump) {
				t.Fatalf("reopened after a failed swap: neither chain")
			}
		})
	}
}
