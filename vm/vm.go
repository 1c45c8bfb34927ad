package vm

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/vm/instrument"
)

// Config configures a VM.
type Config struct {
	// CacheDir keeps compiled modules between restarts; empty keeps them in
	// memory only.
	CacheDir string
	// Deadline stops a call that runs this long. It is a backstop for a
	// metering bug, never the metering: gas stops runaway modules first.
	Deadline time.Duration
	// Fresh instantiates every call's module anew instead of restoring a
	// pooled instance's clean state. Both give every call the same clean
	// state; Fresh is slower and exists to measure and test that.
	Fresh bool
	// MaxPrograms bounds how many compiled modules are kept.
	MaxPrograms int
}

// DefaultConfig returns the configuration a node runs with.
func DefaultConfig() Config {
	return Config{Deadline: DefaultDeadlineMS * time.Millisecond, MaxPrograms: 256}
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Deadline <= 0:
		return fmt.Errorf("%w: deadline must be positive", ErrConfig)
	case c.MaxPrograms < 1:
		return fmt.Errorf("%w: max programs must be at least 1", ErrConfig)
	}
	return nil
}

// VM runs contracts. It is safe for concurrent use; calls to the same
// contract run on separate instances.
type VM struct {
	cfg   Config
	rt    wazero.Runtime
	cache wazero.CompilationCache

	mu       sync.Mutex
	programs map[ledger.Hash]*Program
}

// New starts a VM: a wazero runtime in compiler mode with the host module.
func New(ctx context.Context, cfg Config) (*VM, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cache := wazero.NewCompilationCache()
	if cfg.CacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("vm: compilation cache %s: %w", cfg.CacheDir, err)
		}
		cache = c
	}
	rc := wazero.NewRuntimeConfigCompiler().
		WithCompilationCache(cache).
		WithCloseOnContextDone(true).
		WithMemoryLimitPages(MaxMemoryPages).
		WithCoreFeatures(api.CoreFeaturesV2)
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	if err := exportHost(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("vm: host module: %w", err)
	}
	return &VM{cfg: cfg, rt: rt, cache: cache, programs: make(map[ledger.Hash]*Program)}, nil
}

// Close releases the runtime and every compiled module.
func (v *VM) Close(ctx context.Context) error {
	err := v.rt.Close(ctx)
	return errors.Join(err, v.cache.Close(ctx))
}

// Options returns the instrumentation options deploy applies.
func Options() instrument.Options {
	o := instrument.DefaultOptions()
	o.Imports = hostImports()
	o.MaxCodeSize, o.MaxFunctions, o.MaxGlobals = MaxCodeSize, MaxFunctions, MaxGlobals
	o.MaxMemoryPages, o.MaxTableSize = MaxMemoryPages, MaxTableSize
	o.GrowPageCost, o.BulkChunk, o.BulkChunkCost = GasGrowPage, GasBulkBytes, 1
	return o
}

// Program is a contract's module, instrumented and compiled, with a pool of
// instances in their clean state.
type Program struct {
	Hash      ledger.Hash
	Functions []string

	vm       *VM
	compiled wazero.CompiledModule
	exports  map[string]bool
	globals  []string

	mu       sync.Mutex
	free     []*instance
	snapshot []byte   // memory right after instantiation
	initial  []uint64 // mutable globals right after instantiation
}

// Compile validates, instruments and compiles code, or returns a cached
// Program for it. The error of code that can never run wraps ErrInvalid.
func (v *VM) Compile(ctx context.Context, code []byte) (*Program, error) {
	h := ledger.Hash(sha256.Sum256(code))
	v.mu.Lock()
	p := v.programs[h]
	v.mu.Unlock()
	if p != nil {
		return p, nil
	}
	m, err := instrument.Instrument(code, Options())
	if err != nil {
		return nil, err // wraps ErrInvalid
	}
	compiled, err := v.rt.CompileModule(ctx, m.Wasm)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	p = &Program{
		Hash: h, Functions: m.Functions, vm: v, compiled: compiled,
		exports: make(map[string]bool, len(m.Functions)), globals: m.Globals,
	}
	for _, f := range m.Functions {
		p.exports[f] = true
	}
	return v.keep(ctx, p), nil
}

// Lookup returns the compiled program of the code with hash h, or nil when
// it is not compiled yet.
func (v *VM) Lookup(h ledger.Hash) *Program {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.programs[h]
}

// keep caches p, dropping an arbitrary other program when full, and
// returns the cached program of p's code: another caller may have compiled
// the same code meanwhile.
func (v *VM) keep(ctx context.Context, p *Program) *Program {
	v.mu.Lock()
	defer v.mu.Unlock()
	if old := v.programs[p.Hash]; old != nil {
		p.close(ctx)
		return old
	}
	if len(v.programs) >= v.cfg.MaxPrograms {
		for h, old := range v.programs {
			delete(v.programs, h)
			old.close(ctx)
			break
		}
	}
	v.programs[p.Hash] = p
	return p
}

// close releases the program's pooled instances and compiled code; calls
// in progress finish on their own instances, which are then closed.
func (p *Program) close(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, in := range p.free {
		in.mod.Close(ctx)
	}
	p.free = nil
	if p.compiled != nil {
		p.compiled.Close(ctx)
		p.compiled = nil
	}
}

// Has reports whether the program exports function.
func (p *Program) Has(function string) bool { return p.exports[function] }

// instance is one instantiation of a program.
type instance struct {
	mod     api.Module
	mem     api.Memory
	gas     api.MutableGlobal
	globals []api.MutableGlobal
	fns     map[string]api.Function
}

// Run calls function with env on a clean instance.
func (p *Program) Run(ctx context.Context, env *Env, function string) (r Result) {
	defer func() {
		if rec := recover(); rec != nil {
			ce, ok := rec.(*callError)
			if !ok {
				panic(rec)
			}
			r = env.result(ledger.PathVM, ce)
		}
	}()
	env.chargeHost(GasCall)
	if !p.exports[function] {
		panic(&callError{ledger.StatusUnknownFunction, fmt.Sprintf("contract has no function %q", function)})
	}
	in, err := p.get(ctx)
	if err != nil {
		return env.result(ledger.PathVM, err)
	}
	err = p.call(ctx, in, env, function)
	p.put(ctx, in)
	return env.result(ledger.PathVM, err)
}

// call runs the export on in, moving the gas left into the instance's
// counter and back.
func (p *Program) call(ctx context.Context, in *instance, env *Env, function string) error {
	ctx, cancel := context.WithTimeout(ctx, p.vm.cfg.Deadline)
	defer cancel()
	ctx = context.WithValue(ctx, runningKey{}, &running{env: env, gas: in.gas})
	in.gas.Set(uint64(env.left))
	_, err := in.fns[function].Call(ctx)
	env.left = int64(in.gas.Get())
	if err == nil || env.left < 0 {
		return err
	}
	var ce *callError
	if errors.As(err, &ce) {
		return ce
	}
	if ctx.Err() != nil {
		return &callError{ledger.StatusAborted, fmt.Sprintf("stopped after the %v deadline", p.vm.cfg.Deadline)}
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
	if compiled == nil {
		return nil, fmt.Errorf("vm: program %x was closed", p.Hash[:8])
	}
	return p.instantiate(ctx, compiled)
}

func (p *Program) instantiate(ctx context.Context, compiled wazero.CompiledModule) (*instance, error) {
	mod, err := p.vm.rt.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		return nil, fmt.Errorf("vm: instantiate %x: %w", p.Hash[:8], err)
	}
	in := &instance{mod: mod, mem: mod.Memory(), fns: make(map[string]api.Function, len(p.exports))}
	in.gas = mod.ExportedGlobal(instrument.GasGlobal).(api.MutableGlobal)
	for _, name := range p.globals {
		in.globals = append(in.globals, mod.ExportedGlobal(name).(api.MutableGlobal))
	}
	for f := range p.exports {
		in.fns[f] = mod.ExportedFunction(f)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.snapshot == nil {
		p.snapshot, _ = in.mem.Read(0, in.mem.Size())
		p.snapshot = append([]byte(nil), p.snapshot...)
		for _, g := range in.globals {
			p.initial = append(p.initial, g.Get())
		}
	}
	return in, nil
}

// put returns in to the pool in its clean state, or closes it when that
// cannot be restored: memory grew, or the deadline closed it.
func (p *Program) put(ctx context.Context, in *instance) {
	if p.vm.cfg.Fresh || in.mod.IsClosed() || in.mem.Size() != uint32(len(p.snapshot)) {
		in.mod.Close(ctx)
		return
	}
	in.mem.Write(0, p.snapshot)
	for i, g := range in.globals {
		g.Set(p.initial[i])
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.compiled == nil || len(p.free) >= maxPooled {
		in.mod.Close(ctx)
		return
	}
	p.free = append(p.free, in)
}

// maxPooled bounds the idle instances kept per program.
const maxPooled = 8
