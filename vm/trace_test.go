package vm

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dualchain/dualchain/ledger"
)

// tracedConfig is the default configuration with traces on.
func tracedConfig() Config {
	cfg := DefaultConfig()
	cfg.Trace = true
	return cfg
}

const page = 1 << 16

// The frames of trace.wasm's exports, counted by hand from trace.wat.
var (
	runFrames = []ledger.Frame{
		{Depth: 0, Function: "run", MemBefore: page, MemAfter: 2 * page, Gas: 7, Loads: 1, Stores: 1},
		{Depth: 1, Function: "func[2]", MemBefore: page, MemAfter: 2 * page, Gas: 7 + GasHostCall, Loads: 1, Stores: 1},
		{Depth: 2, Function: "leaf", MemBefore: page, MemAfter: 2 * page, GrowPages: 1, GrowGas: GasGrowPage,
			Gas: 7 + GasGrowPage + 2, Stores: 1},
	}
	trapFrames = []ledger.Frame{
		{Depth: 0, Function: "trap", MemBefore: page, MemAfter: 2 * page, Gas: 2},
		runFrames[1],
		runFrames[2],
		{Depth: 1, Function: "func[5]", MemBefore: 2 * page, MemAfter: 2 * page, Gas: 4, Loads: 1},
		{Depth: 2, Function: "func[6]", MemBefore: 2 * page, MemAfter: 2 * page, Gas: 4, Stores: 1},
	}
)

// TestTraceFrames checks every field of every frame of trace.wasm's
// exports, on calls that return, trap, run out of gas and pass the frame
// cap.
func TestTraceFrames(t *testing.T) {
	const base = GasCall // trace.wasm has one page of memory
	tests := []struct {
		name, fn string
		gas      uint64
		status   ledger.Status
		frames   []ledger.Frame
		dropped  uint64
	}{
		{"nested", "run", 1e6, ledger.StatusOK, runFrames, 0},
		{"trap two frames down", "trap", 1e6, ledger.StatusAborted, trapFrames, 0},
		// The grow's charge finds 1,000 gas left: it takes them and the
		// call runs out of gas; nothing grows.
		{"out of gas in memory.grow", "run", base + 7 + 27 + 7 + 1000, ledger.StatusOutOfGas, []ledger.Frame{
			{Depth: 0, Function: "run", MemBefore: page, MemAfter: page, Gas: 7, Loads: 1, Stores: 1},
			{Depth: 1, Function: "func[2]", MemBefore: page, MemAfter: page, Gas: 7 + GasHostCall, Loads: 1, Stores: 1},
			{Depth: 2, Function: "leaf", MemBefore: page, MemAfter: page, GrowGas: 1000, Gas: 7 + 1000, Stores: 1},
		}, 0},
		// The host call's 20 find 10 left.
		{"out of gas in a host call", "run", base + 7 + 7 + 10, ledger.StatusOutOfGas, []ledger.Frame{
			{Depth: 0, Function: "run", MemBefore: page, MemAfter: page, Gas: 7, Loads: 1, Stores: 1},
			{Depth: 1, Function: "func[2]", MemBefore: page, MemAfter: page, Gas: 7 + 10, Loads: 1, Stores: 1},
		}, 0},
		{"grow past the maximum", "grow_past_max", 1e6, ledger.StatusOK, []ledger.Frame{
			{Depth: 0, Function: "grow_past_max", MemBefore: page, MemAfter: page, GrowGas: 10 * GasGrowPage, Gas: 3 + 10*GasGrowPage},
		}, 0},
		// The block's charge fails: it was not entered, and counts no
		// loads or stores.
		{"no gas for the first block", "run", base + 6, ledger.StatusOutOfGas, []ledger.Frame{
			{Depth: 0, Function: "run", MemBefore: page, MemAfter: page, Gas: 6},
		}, 0},
	}
	p := compile(t, newVM(t, tracedConfig()), "trace.wasm")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(p, MapState{}, tt.fn, nil, tt.gas)
			if r.Status != tt.status {
				t.Fatalf("%s = %v %q, want %v", tt.fn, r.Status, r.Error, tt.status)
			}
			if r.Trace == nil {
				t.Fatalf("%s: no trace", tt.fn)
			}
			if !reflect.DeepEqual(r.Trace.Frames, tt.frames) || r.Trace.Dropped != tt.dropped {
				t.Errorf("%s trace =\n%s, want\n%s", tt.fn, frames(r.Trace), frames(&ledger.Trace{Frames: tt.frames, Dropped: tt.dropped}))
			}
			checkTraceSums(t, p, r)
		})
	}
}

// frames formats a trace a frame a line, for failures.
func frames(tr *ledger.Trace) string {
	var b strings.Builder
	for _, f := range tr.Frames {
		fmt.Fprintf(&b, "  %+v\n", f)
	}
	fmt.Fprintf(&b, "  dropped %d", tr.Dropped)
	return b.String()
}

// checkTraceSums checks what holds of every trace: the frames' gas sums to
// the call's gas less its base cost, grow gas is part of gas, the pages
// grown sum to the depth-0 frame's growth, depths nest.
func checkTraceSums(t *testing.T, p *Program, r Result) {
	t.Helper()
	tr := r.Trace
	var gas, pages uint64
	for i, f := range tr.Frames {
		gas, pages = gas+f.Gas, pages+uint64(f.GrowPages)
		if f.GrowGas > f.Gas || f.MemAfter < f.MemBefore {
			t.Errorf("frame %d %+v: grow gas past gas, or memory shrank", i, f)
		}
		if (i == 0) != (f.Depth == 0) || (i > 0 && f.Depth > tr.Frames[i-1].Depth+1) {
			t.Errorf("frame %d at depth %d after depth %d", i, f.Depth, tr.Frames[max(i, 1)-1].Depth)
		}
	}
	base := uint64(GasCall + GasMemoryPage*(max(p.pages, 1)-1))
	if len(tr.Frames) == 0 {
		return
	}
	if gas != r.GasUsed-base {
		t.Errorf("frames' gas sums to %d, want gas used %d less base cost %d", gas, r.GasUsed, base)
	}
	if f := tr.Frames[0]; pages*page != f.MemAfter-f.MemBefore {
		t.Errorf("frames grew %d pages, the call's memory %d to %d bytes", pages, f.MemBefore, f.MemAfter)
	}
}

// TestTraceDropped: frames past MaxTraceFrames are counted, not kept, and
// their costs go to their nearest kept ancestor.
func TestTraceDropped(t *testing.T) {
	p := compile(t, newVM(t, tracedConfig()), "trace.wasm")
	r := run(p, MapState{}, "many", nil, 1e6)
	const calls = 2000
	kept := ledger.MaxTraceFrames - 1
	if r.Status != ledger.StatusOK || len(r.Trace.Frames) != ledger.MaxTraceFrames || r.Trace.Dropped != calls-uint64(kept) {
		t.Fatalf("many = %v, %d frames, %d dropped, want ok, %d, %d", r.Status, len(r.Trace.Frames), r.Trace.Dropped, ledger.MaxTraceFrames, calls-kept)
	}
	// Entry 4, 6 a turn, and the 1 gas of each dropped $tiny.
	want := ledger.Frame{Function: "many", MemBefore: page, MemAfter: page, Gas: 4 + 6*calls + (calls - uint64(kept))}
	tiny := ledger.Frame{Depth: 1, Function: "func[8]", MemBefore: page, MemAfter: page, Gas: 1}
	if r.Trace.Frames[0] != want || r.Trace.Frames[1] != tiny || r.Trace.Frames[kept] != tiny {
		t.Errorf("frames 0, 1, last = %+v, %+v, %+v, want %+v, then %+v", r.Trace.Frames[0], r.Trace.Frames[1], r.Trace.Frames[kept], want, tiny)
	}
	checkTraceSums(t, p, r)
}

// TestTraceOff: no trace without Config.Trace, nor from a native call; a
// traced VM gives a trace without frames when no code ran.
func TestTraceOff(t *testing.T) {
	p := compile(t, newVM(t, DefaultConfig()), "trace.wasm")
	if r := run(p, MapState{}, "run", nil, 1e6); r.Status != ledger.StatusOK || r.Trace != nil {
		t.Errorf("untraced run = %v, trace %v, want ok and no trace", r.Status, r.Trace)
	}
	native := RunNative(NewEnv(MapState{}, Call{GasLimit: 1e6}), func(e *Env) { e.Charge(5) })
	if native.Status != ledger.StatusOK || native.Trace != nil {
		t.Errorf("RunNative = %v, trace %v, want ok and no trace", native.Status, native.Trace)
	}
	traced := compile(t, newVM(t, tracedConfig()), "trace.wasm")
	for _, c := range []struct {
		fn  string
		gas uint64
	}{{"missing", 1e6}, {"run", GasCall - 1}} {
		r := run(traced, MapState{}, c.fn, nil, c.gas)
		if r.Status == ledger.StatusOK || r.Trace == nil || len(r.Trace.Frames) != 0 {
			t.Errorf("%s with %d gas = %v, trace %v, want a failure and an empty trace", c.fn, c.gas, r.Status, r.Trace)
		}
	}
}

// TestTraceKeepsGas runs every export of every module in testdata, and the
// token's, with traces on and off: the outcomes are the same, and each
// trace's sums hold.
func TestTraceKeepsGas(t *testing.T) {
	plain, traced := newVM(t, DefaultConfig()), newVM(t, tracedConfig())
	files, _ := filepath.Glob("testdata/*.wasm")
	modules := map[string][]byte{"token": tokenWasm(t)}
	for _, f := range files {
		modules[filepath.Base(f)], _ = os.ReadFile(f)
	}
	bob := ledger.Address{0xb0}
	args := [][]byte{nil, []byte("keyval"), binary.BigEndian.AppendUint64(append([]byte(nil), bob[:]...), 5)}
	st := MapState{tokenBalance(caller): ledger.EncodeUint64(100)}
	for name, code := range modules {
		p1, err1 := plain.Compile(context.Background(), code)
		p2, err2 := traced.Compile(context.Background(), code)
		if err1 != nil || err2 != nil {
			t.Fatalf("Compile(%s) = %v untraced, %v traced", name, err1, err2)
		}
		for _, fn := range p1.Functions {
			for _, a := range args {
				for _, gas := range []uint64{1e6, 600, 2_000} {
					off, on := run(p1, st, fn, a, gas), run(p2, st, fn, a, gas)
					if !off.Same(on) || off.Trace != nil || on.Trace == nil {
						t.Errorf("%s %s(%q) with %d gas: traced %+v\nuntraced %+v", name, fn, a, gas, on, off)
						continue
					}
					checkTraceSums(t, p2, on)
				}
			}
		}
	}
}

// TestTracePooledFreshEvicted: the same trace on a pooled instance again
// and again, on fresh instances, and from a program evicted from the
// cache; an earlier call's trace is never overwritten by a later one.
func TestTracePooledFreshEvicted(t *testing.T) {
	fresh := tracedConfig()
	fresh.Fresh = true
	small := tracedConfig()
	small.MaxPrograms = 1
	for name, cfg := range map[string]Config{"pooled": tracedConfig(), "fresh": fresh, "evicted": small} {
		v := newVM(t, cfg)
		p := compile(t, v, "trace.wasm")
		if name == "evicted" {
			compile(t, v, "abi.wasm")
		}
		var first Result
		for i := range 4 {
			fn, want := "run", runFrames
			if i%2 == 1 {
				fn, want = "trap", trapFrames
			}
			r := run(p, MapState{}, fn, nil, 1e6)
			if !reflect.DeepEqual(r.Trace.Frames, want) {
				t.Fatalf("%s: call %d of %s: trace\n%s, want\n%s", name, i, fn, frames(r.Trace), frames(&ledger.Trace{Frames: want}))
			}
			if i == 0 {
				first = r
			}
		}
		if !reflect.DeepEqual(first.Trace.Frames, runFrames) {
			t.Errorf("%s: the first call's trace changed after later calls:\n%s", name, frames(first.Trace))
		}
	}
}

// TestTraceConcurrent runs traced calls on one program from several
// goroutines: each gets its own trace (and the race detector watches).
func TestTraceConcurrent(t *testing.T) {
	p := compile(t, newVM(t, tracedConfig()), "trace.wasm")
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				fn, want := "run", runFrames
				if (g+i)%2 == 1 {
					fn, want = "trap", trapFrames
				}
				if r := run(p, MapState{}, fn, nil, 1e6); !reflect.DeepEqual(r.Trace.Frames, want) {
					errs <- fmt.Sprintf("goroutine %d, call %d of %s: trace\n%s", g, i, fn, frames(r.Trace))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestTraceDeadline: a call the watchdog stops still has its trace, the
// frame it was in closed; the next call has its own.
func TestTraceDeadline(t *testing.T) {
	cfg := tracedConfig()
	cfg.Deadline = 50 * time.Millisecond
	p := compile(t, newVM(t, cfg), "hostile.wasm")
	r := run(p, MapState{}, "loop", nil, 1<<60)
	if r.Status != ledger.StatusAborted || !strings.Contains(r.Error, "deadline") {
		t.Fatalf("loop with unlimited gas = %v %q, want aborted by the deadline", r.Status, r.Error)
	}
	if len(r.Trace.Frames) != 1 || r.Trace.Frames[0].Function != "loop" || r.Trace.Frames[0].Gas == 0 {
		t.Errorf("trace of a stopped loop =\n%s, want one frame, loop, with gas", frames(r.Trace))
	}
	checkTraceSums(t, p, r)
	if r := run(p, MapState{}, "dirty", nil, 1e6); r.Status != ledger.StatusOK || len(r.Trace.Frames) != 1 || r.Trace.Frames[0].Function != "dirty" {
		t.Fatalf("after the deadline, dirty = %v %q, trace\n%s", r.Status, r.Error, frames(r.Trace))
	}
}

// TestTraceDeepRecursion: a recursion stopped by the call depth limit
// unwinds every frame; the trace has them all.
func TestTraceDeepRecursion(t *testing.T) {
	p := compile(t, newVM(t, tracedConfig()), "hostile.wasm")
	r := run(p, MapState{}, "recurse", nil, MaxGasForTests)
	if r.Status != ledger.StatusAborted || len(r.Trace.Frames) != MaxCallDepth+1 || r.Trace.Dropped != 0 {
		t.Fatalf("recurse = %v %q, %d frames, %d dropped, want aborted and %d frames", r.Status, r.Error, len(r.Trace.Frames), r.Trace.Dropped, MaxCallDepth+1)
	}
	if last := r.Trace.Frames[MaxCallDepth]; last.Depth != MaxCallDepth || last.Function != "recurse" {
		t.Errorf("deepest frame = %+v, want recurse at depth %d", last, MaxCallDepth)
	}
	checkTraceSums(t, p, r)
}

// TestTraceCompilationCache: traced and untraced VMs over one compilation
// cache directory each get their own code: the traced one traces after a
// restart, the untraced one does not.
func TestTraceCompilationCache(t *testing.T) {
	dir := t.TempDir()
	var want Result
	for i, traced := range []bool{true, false, true, false} {
		cfg := DefaultConfig()
		cfg.CacheDir, cfg.Trace = dir, traced
		v := newVM(t, cfg)
		r := run(compile(t, v, "trace.wasm"), MapState{}, "run", nil, 1e6)
		v.Close(context.Background())
		if i == 0 {
			want = r
		}
		if !r.Same(want) || (r.Trace != nil) != traced || (traced && !reflect.DeepEqual(r.Trace.Frames, runFrames)) {
			t.Errorf("VM %d (traced %v) over the cache: %+v", i, traced, r)
		}
	}
}

func TestFrameNames(t *testing.T) {
	long := strings.Repeat("é", maxFrameName) // two bytes each
	got := frameNames([]string{"", "run", long, strings.Repeat("a", maxFrameName+1)})
	want := []string{"func[0]", "run", long[:maxFrameName], strings.Repeat("a", maxFrameName)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("frameNames = %q, want %q", got, want)
	}
	if got := truncateName("a" + long); len(got) != maxFrameName-1 {
		t.Errorf("truncateName cut a two-byte character: %d bytes", len(got))
	}
}
