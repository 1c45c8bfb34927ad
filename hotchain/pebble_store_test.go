package hotchain

import (
	"context"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// pebbleBackend runs the shared suite on a Pebble store in memory
// (vfs.NewMem), as the memory backend runs in-process.
func pebbleBackend() backend {
	return backend{name: "pebble", setup: func(t *testing.T) (func() Store, func(), func() map[string]string) {
		p := newPebbleSetup(t, "hotstore", vfs.NewMem())
		return p.handle, p.wipe, p.dump
	}}
}

// pebbleSetup is one Pebble database; its handles share it, as Redis
// handles share a server.
type pebbleSetup struct {
	t  *testing.T
	db *pebbleDB
}

// newPebbleSetup opens a database in dir on fs (nil: the OS's), closed when
// the test ends.
func newPebbleSetup(t *testing.T, dir string, fs vfs.FS) *pebbleSetup {
	t.Helper()
	s, err := OpenPebble(dir, fs, nil)
	if err != nil {
		t.Fatalf("OpenPebble(%s) = %v", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	return &pebbleSetup{t: t, db: s.db}
}

// handle returns a new handle on the database, not yet opened.
func (p *pebbleSetup) handle() Store { return &PebbleStore{db: p.db} }

// wipe deletes every key, as FLUSHDB would in Redis.
func (p *pebbleSetup) wipe() {
	if err := p.db.db.DeleteRange(pebbleMin, pebbleMax, pebble.Sync); err != nil {
		p.t.Fatalf("wipe: %v", err)
	}
}

func (p *pebbleSetup) dump() map[string]string { return p.db.dump(p.t) }

// dump returns every key and value of the database, keys as stored.
func (d *pebbleDB) dump(t *testing.T) map[string]string {
	t.Helper()
	it, err := d.db.NewIter(nil)
	if err != nil {
		t.Fatalf("NewIter: %v", err)
	}
	defer it.Close()
	out := map[string]string{}
	for it.First(); it.Valid(); it.Next() {
		out[string(it.Key())] = string(it.Value())
	}
	return out
}

// load replaces everything the database holds with records (from dump), as
// a restart from an older backup would.
func (d *pebbleDB) load(t *testing.T, records map[string]string) {
	t.Helper()
	b := d.db.NewBatch()
	defer b.Close()
	if err := b.DeleteRange(pebbleMin, pebbleMax, nil); err != nil {
		t.Fatalf("load: %v", err)
	}
	for k, v := range records {
		if err := b.Set([]byte(k), []byte(v), nil); err != nil {
			t.Fatalf("load: %v", err)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		t.Fatalf("load: %v", err)
	}
}

// openBenchPebble opens a store in a temp dir on the real disk.
func openBenchPebble(b *testing.B) Store {
	s, err := OpenPebble(b.TempDir(), nil, nil)
	if err != nil {
		b.Fatalf("OpenPebble() = %v", err)
	}
	return s
}

// TestPebbleKeySchema checks that a block lands under the keys of the
// schema in pebble_store.go and no others.
func TestPebbleKeySchema(t *testing.T) {
	ctx := context.Background()
	p := newPebbleSetup(t, "hotstore", vfs.NewMem())
	s := p.handle()
	chain := newTestChain(3, 4, 1000)
	if _, err := s.Open(ctx, chain.gen); err != nil {
		t.Fatalf("Open() = %v", err)
	}
	u := chain.nextBlock(2)
	if ok, err := s.Apply(ctx, u); !ok || err != nil {
		t.Fatalf("Apply() = %v, %v, want true, nil", ok, err)
	}
	want := map[string]bool{string(pebbleMetaKey): true, string(pebbleBlockKey(u.Block.Header.Height)): true}
	for k := range chain.state {
		want[string(pebbleStateKey([]byte(k)))] = true
	}
	for i := range u.Block.Receipts {
		want[string(pebbleTxKey(u.Block.Receipts[i].TxID))] = true
	}
	got := p.dump()
	for k := range got {
		if !want[k] {
			t.Errorf("key %x is not in the schema", k)
		}
	}
	if len(got) != len(want) {
		t.Errorf("store has %d keys, want %d", len(got), len(want))
	}
}

// TestPebbleReopen: blocks applied survive closing the store and opening
// the directory again, on the real disk.
func TestPebbleReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	chain := newTestChain(4, 20, 1000)
	s, err := OpenPebble(dir, nil, nil)
	if err != nil {
		t.Fatalf("OpenPebble() = %v", err)
	}
	first, err := s.Open(ctx, chain.gen)
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	var last *Update
	for range 5 {
		last = chain.nextBlock(6)
		if ok, err := s.Apply(ctx, last); !ok || err != nil {
			t.Fatalf("Apply(block %d) = %v, %v", last.Block.Header.Height, ok, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	s, err = OpenPebble(dir, nil, nil)
	if err != nil {
		t.Fatalf("OpenPebble() again = %v", err)
	}
	defer s.Close()
	m, err := s.Open(ctx, chain.gen)
	if err != nil || !sameChain(m, chain.meta) || m.Incarnation != first.Incarnation {
		t.Fatalf("Open() after reopen = index %d incarnation %q, %v, want %d %q", m.Index, m.Incarnation, err, chain.meta.Index, first.Incarnation)
	}
	assertState(t, ctx, s, chain.state)
	assertBlock(t, ctx, s, last.Block)
}

// TestPebbleApplySynced: every applied block survives a crash that loses
// whatever was not synced (vfs.NewCrashableMem), because Apply commits
// with pebble.Sync.
func TestPebbleApplySynced(t *testing.T) {
	ctx := context.Background()
	fs := vfs.NewCrashableMem()
	chain := newTestChain(5, 20, 1000)
	s, err := OpenPebble("hotstore", fs, nil)
	if err != nil {
		t.Fatalf("OpenPebble() = %v", err)
	}
	if _, err := s.Open(ctx, chain.gen); err != nil {
		t.Fatalf("Open() = %v", err)
	}
	for range 4 {
		if ok, err := s.Apply(ctx, chain.nextBlock(5)); !ok || err != nil {
			t.Fatalf("Apply() = %v, %v", ok, err)
		}
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{}) // exactly what was synced
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	s, err = OpenPebble("hotstore", crashed, nil)
	if err != nil {
		t.Fatalf("OpenPebble(after crash) = %v", err)
	}
	defer s.Close()
	m, err := s.Open(ctx, chain.gen)
	if err != nil || !sameChain(m, chain.meta) {
		t.Fatalf("Open() after crash = index %d height %d, %v, want %d %d", m.Index, m.Height, err, chain.meta.Index, chain.meta.Height)
	}
	assertState(t, ctx, s, chain.state)
}
