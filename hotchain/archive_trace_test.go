package hotchain

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dualchain/dualchain/ledger"
)

// testTrace is a trace of n frames, told apart by seed.
func testTrace(seed uint64, n int) ledger.Trace {
	t := ledger.Trace{Frames: make([]ledger.Frame, n), Dropped: seed % 3}
	for i := range t.Frames {
		t.Frames[i] = ledger.Frame{Depth: uint32(i % 2), Function: fmt.Sprintf("f%d", seed), MemBefore: 65536,
			MemAfter: 65536 * (seed + 1), GrowPages: uint32(seed), GrowGas: seed * 10, Gas: seed + uint64(i), Loads: 3, Stores: 4}
	}
	return t
}

// tracedBlock is archivedBlock(height, ids...) with a trace for the
// transactions at the indexes given.
func tracedBlock(height uint64, ids []byte, traced ...uint32) (*ledger.Block, []TxTrace) {
	b := archivedBlock(height, ids...)
	var ts []TxTrace
	for _, i := range traced {
		ts = append(ts, TxTrace{Index: i, Trace: testTrace(height*100+uint64(i), 1+int(i))})
	}
	return b, ts
}

type placedTrace struct {
	height uint64
	index  uint32
	trace  ledger.Trace
}

func scanTraces(t *testing.T, a *Archive, from, to uint64) []placedTrace {
	t.Helper()
	var got []placedTrace
	err := a.Traces(from, to, func(h uint64, i uint32, tr *ledger.Trace) error {
		got = append(got, placedTrace{h, i, *tr})
		return nil
	})
	if err != nil {
		t.Fatalf("Traces(%d, %d) = %v", from, to, err)
	}
	return got
}

func TestArchiveTraces(t *testing.T) {
	dir := t.TempDir()
	a, err := OpenArchive(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	b1, t1 := tracedBlock(1, []byte{10, 11, 12}, 0, 2)
	b2 := archivedBlock(2, 20) // no traces
	b3, t3 := tracedBlock(3, []byte{30}, 0)
	for _, p := range []struct {
		b  *ledger.Block
		ts []TxTrace
	}{{b1, t1}, {b2, nil}, {b3, t3}, {b1, nil}} { // a replay puts b1 again, its traces kept
		if err := a.PutWithTraces(p.b, nil, p.ts); err != nil {
			t.Fatalf("PutWithTraces(%d) = %v", p.b.Header.Height, err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if a, err = OpenArchive(dir, nil); err != nil { // they survive a reopen
		t.Fatal(err)
	}
	defer a.Close()

	tests := []struct {
		id   byte
		want *ledger.Trace
	}{{10, &t1[0].Trace}, {11, nil}, {12, &t1[1].Trace}, {20, nil}, {30, &t3[0].Trace}, {99, nil}}
	for _, tt := range tests {
		got, err := a.Trace(ledger.Hash{tt.id})
		switch {
		case tt.want == nil && !errors.Is(err, ErrNotFound):
			t.Errorf("Trace(%d) = %+v, %v; want %v", tt.id, got, err, ErrNotFound)
		case tt.want != nil && (err != nil || !reflect.DeepEqual(got, tt.want)):
			t.Errorf("Trace(%d) = %+v, %v; want %+v", tt.id, got, err, tt.want)
		}
	}

	all := []placedTrace{{1, 0, t1[0].Trace}, {1, 2, t1[1].Trace}, {3, 0, t3[0].Trace}}
	ranges := []struct {
		from, to uint64
		want     []placedTrace
	}{
		{0, math.MaxUint64, all},
		{1, 3, all},
		{1, 1, all[:2]},
		{2, 2, nil},
		{2, 3, all[2:]},
		{3, 1, nil},
		{4, 10, nil},
	}
	for _, r := range ranges {
		if got := scanTraces(t, a, r.from, r.to); !reflect.DeepEqual(got, r.want) {
			t.Errorf("Traces(%d, %d) = %+v, want %+v", r.from, r.to, got, r.want)
		}
	}
	stop := errors.New("stop")
	calls := 0
	err = a.Traces(1, 3, func(uint64, uint32, *ledger.Trace) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Traces with fn failing = %v after %d calls, want %v after 1", err, calls, stop)
	}
}

func TestArchiveBadTraces(t *testing.T) {
	a, err := OpenArchive(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	big := TxTrace{Index: 0, Trace: ledger.Trace{Frames: make([]ledger.Frame, ledger.MaxTraceFrames+1)}}
	tests := []struct {
		name   string
		traces []TxTrace
	}{
		{"index past the block", []TxTrace{{Index: 2}}},
		{"out of order", []TxTrace{{Index: 1}, {Index: 0}}},
		{"twice", []TxTrace{{Index: 1}, {Index: 1}}},
		{"too many frames", []TxTrace{big}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := a.PutWithTraces(archivedBlock(1, 1, 2), nil, tt.traces); !errors.Is(err, ErrBadTraces) {
				t.Fatalf("PutWithTraces = %v, want %v", err, ErrBadTraces)
			}
			if held, _ := a.Has(1); held {
				t.Fatal("a block with bad traces was archived")
			}
		})
	}
}

// TestArchiveTracesCrash crashes the archive's file system after blocks
// with traces were put unsynced, keeping a random part of what was not
// synced: each block comes back with all its traces or not at all.
func TestArchiveTracesCrash(t *testing.T) {
	fs := vfs.NewCrashableMem()
	a, err := openArchive("archive", fs, nil)
	if err != nil {
		t.Fatal(err)
	}
	const blocks = 40
	want := make(map[uint64][]TxTrace)
	for h := uint64(1); h <= blocks; h++ {
		b, ts := tracedBlock(h, []byte{byte(h), byte(h + 100), byte(h + 200)}, 0, 2)
		if err := a.PutWithTraces(b, nil, ts); err != nil {
			t.Fatal(err)
		}
		want[h] = ts
		if h == blocks/4 {
			if err := a.Sync(); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, pct := range []int{0, 30, 60, 90, 100} {
		clone := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: pct, RNG: rand.New(rand.NewPCG(uint64(i), 9))})
		c, err := openArchive("archive", clone, nil)
		if err != nil {
			t.Fatalf("reopen after a crash (%d%% unsynced kept): %v", pct, err)
		}
		got := make(map[uint64][]placedTrace)
		for _, p := range scanTraces(t, c, 1, blocks) {
			got[p.height] = append(got[p.height], p)
		}
		for h := uint64(1); h <= blocks; h++ {
			held, err := c.Has(h)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case h <= blocks/4 && !held:
				t.Errorf("%d%%: synced block %d lost", pct, h)
			case held && len(got[h]) != len(want[h]):
				t.Errorf("%d%%: block %d back with %d traces, want %d", pct, h, len(got[h]), len(want[h]))
			case !held && len(got[h]) != 0:
				t.Errorf("%d%%: block %d lost, %d of its traces kept", pct, h, len(got[h]))
			}
		}
		if last, _ := c.Has(blocks); pct == 0 && last {
			t.Errorf("none of the unsynced data kept, yet the last block is held: the test crashed nothing")
		}
		c.Close()
	}
	a.Close()
}
