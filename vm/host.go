package vm

import (
	"context"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/vm/instrument"
)

// HostModule is the import module name of the host functions.
const HostModule = "dualchain"

// hostFunc is one host function of the ABI (docs/contract-abi.md).
type hostFunc struct {
	name    string
	params  []api.ValueType
	results []api.ValueType
	fn      func(c *running, mod api.Module, stack []uint64)
}

var i32, i64 = api.ValueTypeI32, api.ValueTypeI64

// hostFuncs is the whole ABI.
var hostFuncs = []hostFunc{
	{"input_len", nil, []api.ValueType{i32}, func(c *running, _ api.Module, s []uint64) {
		s[0] = uint64(c.env.InputLen())
	}},
	{"input", []api.ValueType{i32}, nil, func(c *running, m api.Module, s []uint64) {
		c.store(m, s[0], c.env.Input())
	}},
	{"output", []api.ValueType{i32, i32}, nil, func(c *running, m api.Module, s []uint64) {
		c.env.Output(c.load(m, s[0], s[1]))
	}},
	{"caller", []api.ValueType{i32}, nil, func(c *running, m api.Module, s []uint64) {
		a := c.env.Caller()
		c.store(m, s[0], a[:])
	}},
	{"address", []api.ValueType{i32}, nil, func(c *running, m api.Module, s []uint64) {
		a := c.env.Address()
		c.store(m, s[0], a[:])
	}},
	{"block_height", nil, []api.ValueType{i64}, func(c *running, _ api.Module, s []uint64) {
		s[0] = c.env.Height()
	}},
	{"storage_read", []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}, func(c *running, m api.Module, s []uint64) {
		v, n := c.env.Read(c.load(m, s[0], s[1]), int(uint32(s[3])))
		c.store(m, s[2], v)
		s[0] = uint64(n)
	}},
	{"storage_write", []api.ValueType{i32, i32, i32, i32}, nil, func(c *running, m api.Module, s []uint64) {
		c.env.Write(c.load(m, s[0], s[1]), c.load(m, s[2], s[3]))
	}},
	{"emit", []api.ValueType{i32, i32, i32, i32}, nil, func(c *running, m api.Module, s []uint64) {
		c.env.Emit(string(c.load(m, s[0], s[1])), c.load(m, s[2], s[3]))
	}},
	{"abort", []api.ValueType{i32, i32, i32}, nil, func(c *running, m api.Module, s []uint64) {
		n := min(uint32(s[2]), MaxMessageSize)
		status := ledger.StatusAborted
		if code := uint32(s[0]); code <= uint32(ledger.StatusBadArgs) {
			status = ledger.Status(code) // Abort keeps only the codes a contract may use
		}
		c.env.Abort(status, string(c.load(m, s[1], uint64(n))))
	}},
}

// hostImports lists the host functions' signatures for the instrumenter,
// which refuses a module importing anything else.
func hostImports() map[string]instrument.FuncType {
	m := make(map[string]instrument.FuncType, len(hostFuncs))
	for _, h := range hostFuncs {
		m[h.name] = instrument.FuncType{Params: valueTypes(h.params), Results: valueTypes(h.results)}
	}
	return m
}

// valueTypes converts wazero's value types to the instrumenter's: both are
// the types' binary encodings.
func valueTypes(ts []api.ValueType) []instrument.ValueType {
	out := make([]instrument.ValueType, len(ts))
	for i, t := range ts {
		out[i] = instrument.ValueType(t)
	}
	return out
}

// running is a call in progress in the VM, found by host functions in the
// context.
type running struct {
	env   *Env
	gas   api.MutableGlobal // the instance's gas counter
	trace *tracer           // a traced VM's, nil otherwise
}

type runningKey struct{}

// exportHost adds the host module to rt.
func exportHost(ctx context.Context, rt wazero.Runtime) error {
	b := rt.NewHostModuleBuilder(HostModule)
	for _, h := range hostFuncs {
		fn := h.fn
		b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, stack []uint64) {
			c := ctx.Value(runningKey{}).(*running)
			c.env.left = int64(c.gas.Get())
			defer func() { c.gas.Set(uint64(c.env.left)) }()
			fn(c, m, stack)
		}), h.params, h.results).Export(h.name)
	}
	_, err := b.Instantiate(ctx)
	return err
}

// load returns a copy of length bytes of memory at ptr, or stops the call
// when they are out of bounds.
func (c *running) load(m api.Module, ptr, length uint64) []byte {
	b, ok := m.Memory().Read(uint32(ptr), uint32(length))
	if !ok {
		c.env.fail("memory access out of bounds: %d bytes at %d", uint32(length), uint32(ptr))
	}
	return append([]byte(nil), b...)
}

// store writes b to memory at ptr, or stops the call when out of bounds.
func (c *running) store(m api.Module, ptr uint64, b []byte) {
	if !m.Memory().Write(uint32(ptr), b) {
		c.env.fail("memory access out of bounds: %d bytes at %d", len(b), uint32(ptr))
	}
}
