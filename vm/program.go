package vm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/vm/instrument"
)

// Program is a contract's module, instrumented and compiled, with a pool of
// instances in their clean state.
type Program struct {
	Hash      ledger.Hash
	Functions []string

	vm       *VM
	compiled wazero.CompiledModule
	exports  map[string]bool
	globals  []string

	wasm  []byte // instrumented, to compile again after an eviction
	pages uint32 // of initial memory

	listen *listeners // a traced VM's: the listeners to compile with
	names  []string   // a traced VM's: frame names by function index

	mu       sync.Mutex
	free     []*instance
	snapped  bool
	snapshot []byte   // memory right after instantiation
	initial  []uint64 // mutable globals right after instantiation
}

// close releases the program's pooled instances and compiled code; calls
// in progress finish on their own instances, which are then closed.
func (p *Program) close(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, in := range p.free {
		p.vm.discard(ctx, in)
	}
	p.free = nil
	if p.compiled != nil {
		p.compiled.Close(ctx)
		p.compiled = nil
	}
}

// Has reports whether the program exports function.
func (p *Program) Has(function string) bool { return p.exports[function] }

// instance is one instantiation of a program. Its context lives as long as
// it does: host functions find the running call in it, and the watchdog
// cancels it when a call passes the deadline, which closes the instance.
type instance struct {
	mod     api.Module
	mem     api.Memory
	gas     api.MutableGlobal
	depth   api.Global // nested calls, past MaxCallDepth after a depth trap
	globals []api.MutableGlobal
	fns     map[string]api.Function

	ctx     context.Context
	cancel  context.CancelFunc
	run     running
	started atomic.Int64 // when the running call started (watchdog.now); 0 idle, claimedCall stopped
	stopped bool         // the watchdog stopped a call: never reuse
}

// Run calls function with env on a clean instance. A traced VM's result
// always has a Trace, with no frames when no code ran (an unknown
// function, or not enough gas for the call's base cost).
func (p *Program) Run(ctx context.Context, env *Env, function string) (r Result) {
	if p.vm.cfg.Trace {
		defer emptyTrace(&r) // after stopped, which makes a new result
	}
	defer env.stopped(ledger.PathVM, &r)
	env.chargeHost(GasCall + GasMemoryPage*uint64(max(p.pages, 1)-1))
	if !p.exports[function] {
		panic(&callError{ledger.StatusUnknownFunction, fmt.Sprintf("contract has no function %q", function)})
	}
	in, err := p.get(ctx)
	if err != nil {
		return env.result(ledger.PathVM, err)
	}
	err = p.call(in, env, function)
	trace := in.run.trace.end()
	p.put(ctx, in)
	r = env.result(ledger.PathVM, err)
	r.Trace = trace
	return r
}

// emptyTrace gives a traced VM's result a trace without frames when the
// call stopped before any code ran.
func emptyTrace(r *Result) {
	if r.Trace == nil {
		r.Trace = &ledger.Trace{}
	}
}

// call runs the export on in, moving the gas left into the instance's
// counter and back.
func (p *Program) call(in *instance, env *Env, function string) error {
	in.run.env = env
	in.gas.Set(uint64(env.left))
	if t := in.run.trace; t != nil {
		t.begin(function, env.left)
	}
	p.vm.watch.begin(in)
	_, err := in.fns[function].Call(in.ctx)
	in.stopped = p.vm.watch.end(in)
	in.run.env = nil
	env.left = int64(in.gas.Get())
	if err == nil || env.left < 0 {
		return err
	}
	var ce *callError
	if errors.As(err, &ce) {
		return ce
	}
	if in.ctx.Err() != nil {
		return &callError{ledger.StatusAborted, fmt.Sprintf("stopped after the %v deadline", p.vm.cfg.Deadline)}
	}
	if in.depth.Get() > MaxCallDepth {
		return &callError{ledger.StatusAborted, fmt.Sprintf("trap: call depth past %d", MaxCallDepth)}
	}
	return &callError{ledger.StatusAborted, trapMessage(err)}
}

// trapMessage is the first line of wazero's error, without its stack trace.
func trapMessage(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return "trap: " + strings.TrimPrefix(msg, "wasm error: ")
}

// get takes a pooled instance, or makes one.
func (p *Program) get(ctx context.Context) (*instance, error) {
	p.mu.Lock()
	if n := len(p.free); n > 0 && !p.vm.cfg.Fresh {
		in := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return in, nil
	}
	compiled := p.compiled
	p.mu.Unlock()
	if compiled != nil {
		return p.instantiate(ctx, compiled)
	}
	// Evicted from the cache while a caller held it: compile it for this
	// call alone. The instance keeps the compiled code alive.
	compiled, err := p.compile(ctx)
	if err != nil {
		return nil, fmt.Errorf("vm: compile %x again: %w", p.Hash[:8], err)
	}
	defer compiled.Close(ctx)
	return p.instantiate(ctx, compiled)
}

// compile compiles the instrumented module, with a traced VM's listeners.
func (p *Program) compile(ctx context.Context) (wazero.CompiledModule, error) {
	if p.listen != nil {
		ctx = experimental.WithFunctionListenerFactory(ctx, p.listen)
	}
	return p.vm.rt.CompileModule(ctx, p.wasm)
}

func (p *Program) instantiate(ctx context.Context, compiled wazero.CompiledModule) (*instance, error) {
	mod, err := p.vm.rt.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		return nil, fmt.Errorf("vm: instantiate %x: %w", p.Hash[:8], err)
	}
	in := &instance{mod: mod, mem: mod.Memory(), fns: make(map[string]api.Function, len(p.exports))}
	in.gas = mod.ExportedGlobal(instrument.GasGlobal).(api.MutableGlobal)
	in.depth = mod.ExportedGlobal(instrument.DepthGlobal)
	for _, name := range p.globals {
		in.globals = append(in.globals, mod.ExportedGlobal(name).(api.MutableGlobal))
	}
	for f := range p.exports {
		in.fns[f] = mod.ExportedFunction(f)
	}
	in.run.gas = in.gas
	if p.listen != nil {
		in.run.trace = newTracer(mod, p.names)
	}
	in.ctx, in.cancel = context.WithCancel(context.Background())
	in.ctx = context.WithValue(in.ctx, runningKey{}, &in.run)
	p.vm.watch.add(in)
	p.snap(in)
	return in, nil
}

// snap takes the clean state from the program's first instance.
func (p *Program) snap(in *instance) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.snapped {
		return
	}
	p.snapped = true
	mem, _ := in.mem.Read(0, in.mem.Size())
	p.snapshot = append([]byte(nil), mem...)
	for _, g := range in.globals {
		p.initial = append(p.initial, g.Get())
	}
}

// put returns in to the pool in its clean state, or closes it when that
// cannot be restored: memory grew, or the deadline closed it.
func (p *Program) put(ctx context.Context, in *instance) {
	if p.vm.cfg.Fresh || in.stopped || in.ctx.Err() != nil || in.mod.IsClosed() || in.mem.Size() != uint32(len(p.snapshot)) {
		p.vm.discard(ctx, in)
		return
	}
	in.mem.Write(0, p.snapshot)
	for i, g := range in.globals {
		g.Set(p.initial[i])
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.compiled == nil || len(p.free) >= maxPooled {
		p.vm.discard(ctx, in)
		return
	}
	p.free = append(p.free, in)
}

// maxPooled bounds the idle instances kept per program.
const maxPooled = 8
