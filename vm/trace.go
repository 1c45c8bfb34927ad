package vm

import (
	"context"
	"strconv"
	"unicode/utf8"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/vm/instrument"
)

// A traced VM (Config.Trace) compiles every module with wazero function
// listeners: frameListener on the module's own functions, growListener on
// the helper memory.grow became, none on the other helpers. The listeners
// hold nothing: they find the call's tracer through the instance context,
// as host functions find the running call. wazero shares one compiled
// module, listeners included, between compiles of the same bytes, which is
// harmless for listeners that hold nothing.

// listeners is the listener factory of one instrumented module.
type listeners struct {
	firstHelper, growHelper uint32
}

func newListeners(m *instrument.Module) *listeners {
	return &listeners{firstHelper: m.FirstHelper, growHelper: m.GrowHelper}
}

// NewFunctionListener implements experimental.FunctionListenerFactory.
func (l *listeners) NewFunctionListener(def api.FunctionDefinition) experimental.FunctionListener {
	switch i := def.Index(); {
	case l.growHelper != 0 && i == l.growHelper:
		return growListener{}
	case i >= l.firstHelper:
		return nil
	}
	return frameListener{}
}

// tracerOf returns the tracer of the call running with ctx.
func tracerOf(ctx context.Context) *tracer {
	return ctx.Value(runningKey{}).(*running).trace
}

// frameListener opens a frame when a function of the module's is called and
// closes it when the function returns or is unwound by a trap.
type frameListener struct{}

func (frameListener) Before(ctx context.Context, _ api.Module, def api.FunctionDefinition, _ []uint64, _ experimental.StackIterator) {
	tracerOf(ctx).enter(def.Index())
}

func (frameListener) After(ctx context.Context, _ api.Module, _ api.FunctionDefinition, _ []uint64) {
	tracerOf(ctx).exit()
}

func (frameListener) Abort(ctx context.Context, _ api.Module, _ api.FunctionDefinition, _ error) {
	tracerOf(ctx).exit()
}

// growListener adds what a memory.grow is charged to the call's grow gas.
// The helper charges on entry, before anything else, so its arguments say
// it all.
type growListener struct{}

func (growListener) Before(ctx context.Context, _ api.Module, _ api.FunctionDefinition, params []uint64, _ experimental.StackIterator) {
	tracerOf(ctx).grow(uint32(params[0]))
}

func (growListener) After(context.Context, api.Module, api.FunctionDefinition, []uint64) {}

func (growListener) Abort(context.Context, api.Module, api.FunctionDefinition, error) {}

// maxFrameName bounds a frame's function name, in bytes: an export or name
// section name can be as long as the module, and a trace repeats it per
// frame.
const maxFrameName = 128

// frameNames returns the name of each function by index for frames: the
// instrumenter's names, each at most maxFrameName bytes, and "func[N]" for
// a function without one.
func frameNames(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		if n == "" {
			n = "func[" + strconv.Itoa(i) + "]"
		}
		out[i] = truncateName(n)
	}
	return out
}

// truncateName cuts s to maxFrameName bytes at most, between UTF-8
// characters.
func truncateName(s string) string {
	if len(s) <= maxFrameName {
		return s
	}
	n := maxFrameName
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// tracer records the frames of the calls on one instance, a call at a
// time. Every column is measured the same way: a counter that only grows
// during a call is read when a frame opens and when it closes; the
// difference is the frame's total, and the frame's own figure is its total
// less its kept callees' totals. So a frame past MaxTraceFrames, which is
// not kept, is simply part of its nearest kept ancestor's own figures, and
// the columns still sum to the call's totals.
type tracer struct {
	mem                api.Memory
	gas, loads, stores api.Global
	names              []string // by function index

	export  string // the export the call runs: depth 0's name
	start   int64  // gas at the call's start
	growGas uint64 // charged by memory.grow so far in the call

	frames  []ledger.Frame
	hint    int // frames of the last call, to size the next one's
	dropped uint64
	open    []openFrame // kept frames not closed yet, innermost last
	over    int         // frames not kept and not closed yet, all inside open's last
}

// openFrame is a kept frame not closed yet.
type openFrame struct {
	frame   int      // index in frames
	at      counters // when it opened
	callees counters // its kept callees' totals
}

// counters are the call's totals so far: gas used, loads, stores, memory
// pages and grow gas.
type counters struct {
	gas, loads, stores, pages, growGas uint64
}

func (c counters) minus(d counters) counters {
	return counters{c.gas - d.gas, c.loads - d.loads, c.stores - d.stores, c.pages - d.pages, c.growGas - d.growGas}
}

func (c *counters) add(d counters) {
	c.gas, c.loads, c.stores = c.gas+d.gas, c.loads+d.loads, c.stores+d.stores
	c.pages, c.growGas = c.pages+d.pages, c.growGas+d.growGas
}

func newTracer(mod api.Module, names []string) *tracer {
	return &tracer{
		mem: mod.Memory(), names: names,
		gas:    mod.ExportedGlobal(instrument.GasGlobal),
		loads:  mod.ExportedGlobal(instrument.LoadsGlobal),
		stores: mod.ExportedGlobal(instrument.StoresGlobal),
	}
}

// begin starts recording a call of export with gas left.
func (t *tracer) begin(export string, gas int64) {
	t.export, t.start, t.growGas = truncateName(export), gas, 0
	t.frames, t.dropped, t.open, t.over = make([]ledger.Frame, 0, min(max(t.hint, 4), 64)), 0, t.open[:0], 0
}

// end closes the frames no listener closed (none, unless wazero unwound a
// frame without telling: it does not for a stack overflow, which the call
// depth limit should prevent) and returns the call's trace.
func (t *tracer) end() *ledger.Trace {
	if t == nil {
		return nil
	}
	for len(t.open) > 0 || t.over > 0 {
		t.exit()
	}
	tr := &ledger.Trace{Frames: t.frames, Dropped: t.dropped}
	t.frames, t.hint = nil, len(tr.Frames)
	return tr
}

// read returns the call's counters now. The gas global is negative once
// the call ran out of gas: it then used all it had.
func (t *tracer) read() counters {
	left := max(int64(t.gas.Get()), 0)
	return counters{
		gas: uint64(t.start - left), loads: t.loads.Get(), stores: t.stores.Get(),
		pages: uint64(t.mem.Size() / pageSize), growGas: t.growGas,
	}
}

const pageSize = 1 << 16

// enter opens a frame for a call of function fn.
func (t *tracer) enter(fn uint32) {
	if len(t.frames) == ledger.MaxTraceFrames {
		t.dropped++
		t.over++
		return
	}
	name := t.export
	if len(t.open) > 0 {
		name = t.names[fn]
	}
	c := t.read()
	t.frames = append(t.frames, ledger.Frame{Depth: uint32(len(t.open)), Function: name, MemBefore: c.pages * pageSize})
	t.open = append(t.open, openFrame{frame: len(t.frames) - 1, at: c})
}

// exit closes the innermost open frame.
func (t *tracer) exit() {
	if t.over > 0 {
		t.over--
		return
	}
	n := len(t.open) - 1
	o := t.open[n]
	t.open = t.open[:n]
	c := t.read()
	total := c.minus(o.at)
	own := total.minus(o.callees)
	f := &t.frames[o.frame]
	f.MemAfter, f.GrowPages, f.GrowGas = c.pages*pageSize, uint32(own.pages), own.growGas
	f.Gas, f.Loads, f.Stores = own.gas, own.loads, own.stores
	if n > 0 {
		t.open[n-1].callees.add(total)
	}
}

// grow records a memory.grow of pages about to be charged: what it costs,
// or the gas left when that is less, as the call then runs out of gas
// there and has used all it had.
func (t *tracer) grow(pages uint32) {
	left := max(int64(t.gas.Get()), 0)
	t.growGas += min(uint64(pages)*GasGrowPage, uint64(left))
}
