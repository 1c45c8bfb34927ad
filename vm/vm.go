package vm

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
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
	// It has a price: wazero checks for it at every loop iteration, which
	// makes tight loops up to 20 times slower (docs/benchmarks.md). Zero
	// turns it off.
	Deadline time.Duration
	// Fresh instantiates every call's module anew instead of restoring a
	// pooled instance's clean state. Both give every call the same clean
	// state; Fresh is slower and exists to measure and test that.
	Fresh bool
	// MaxPrograms bounds how many compiled modules are kept.
	MaxPrograms int
	// Trace records a memory trace of every call (Result.Trace): its
	// frames, each with its memory sizes, growth, gas and loads and
	// stores. It costs time on every function call (DESIGN.md); off, it
	// costs nothing, as nothing of it is compiled in.
	Trace bool
}

// DefaultConfig returns the configuration a node runs with.
func DefaultConfig() Config {
	return Config{Deadline: DefaultDeadlineMS * time.Millisecond, MaxPrograms: 256}
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Deadline < 0:
		return fmt.Errorf("%w: deadline must not be negative", ErrConfig)
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

	watch *watchdog

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
		WithCloseOnContextDone(cfg.Deadline > 0).
		WithMemoryLimitPages(MaxMemoryPages).
		WithCoreFeatures(api.CoreFeaturesV2)
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	if err := exportHost(ctx, rt); err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("vm: host module: %w", err)
	}
	v := &VM{cfg: cfg, rt: rt, cache: cache, programs: make(map[ledger.Hash]*Program)}
	v.watch = startWatchdog(cfg.Deadline)
	return v, nil
}

// Close stops the watchdog and releases the runtime and every compiled
// module.
func (v *VM) Close(ctx context.Context) error {
	v.watch.stop()
	err := v.rt.Close(ctx)
	return errors.Join(err, v.cache.Close(ctx))
}

// discard closes an instance for good.
func (v *VM) discard(ctx context.Context, in *instance) {
	v.watch.remove(in)
	in.mod.Close(ctx)
	in.cancel()
}

// Options returns the instrumentation options deploy applies.
func Options() instrument.Options {
	o := instrument.DefaultOptions()
	o.Imports = hostImports()
	o.MaxCodeSize, o.MaxFunctions, o.MaxGlobals = MaxCodeSize, MaxFunctions, MaxGlobals
	o.MaxMemoryPages, o.MaxTableSize, o.MaxCallDepth = MaxMemoryPages, MaxTableSize, MaxCallDepth
	o.GrowPageCost, o.BulkChunk, o.BulkChunkCost = GasGrowPage, GasBulkBytes, 1
	return o
}

// options returns the instrumentation options of v's modules: a traced
// VM's count memory accesses and name functions too, which changes neither
// gas nor what is refused.
func (v *VM) options() instrument.Options {
	o := Options()
	o.CountMemoryOps, o.FunctionNames = v.cfg.Trace, v.cfg.Trace
	return o
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
	m, err := instrument.Instrument(code, v.options())
	if err != nil {
		return nil, err // wraps ErrInvalid
	}
	p = &Program{
		Hash: h, Functions: m.Functions, vm: v,
		exports: make(map[string]bool, len(m.Functions)), globals: m.Globals,
		wasm: m.Wasm, pages: m.MemoryPages,
	}
	if v.cfg.Trace {
		p.listen, p.names = newListeners(m), frameNames(m.Names)
	}
	if p.compiled, err = p.compile(ctx); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	for _, f := range m.Functions {
		p.exports[f] = true
	}
	return v.keep(ctx, p), nil
}

// Check reports why code could never run, like Compile, but keeps nothing:
// admission checks every submitted module with it, and only modules that
// deploy enter the cache.
func Check(code []byte) error {
	_, err := instrument.Instrument(code, Options())
	return err
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
