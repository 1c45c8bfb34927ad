package instrument

import (
	"context"
	"slices"
	"strconv"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Module is an instrumented contract module and what the runtime needs to
// know of it.
type Module struct {
	Wasm        []byte   // the instrumented module
	Functions   []string // callable exports: exported functions of type () -> (), sorted
	MemoryPages uint32   // initial memory pages
	Globals     []string // export names of the module's mutable globals, by global index

	// FirstHelper is the index of the first function instrumentation
	// added: every function from it on is a helper, not the module's own.
	// GrowHelper is the helper memory.grow became, 0 when no code grows
	// memory (a helper is never function 0).
	FirstHelper, GrowHelper uint32
	// Names names the module's functions by index, imports included, with
	// Options.FunctionNames: a function's first export name, else its name
	// in the name section, else "". Nil without the option.
	Names []string
}

// instrumenter holds what metering one module shares across its functions.
type instrumenter struct {
	m           *module
	opts        *Options
	gas         uint32 // index of the gas global
	depth       uint32 // index of the call depth global, right after it
	loads       uint32 // with Options.CountMemoryOps, the loads and stores
	stores      uint32 // counting globals, right after the depth global
	helpers     []helper
	helperIndex map[helper]uint32
}

// Instrument validates a contract module against opts and returns it
// rewritten to meter its gas (see the package documentation). A refused
// module's error satisfies errors.Is(err, ErrInvalid); invalid opts give
// an error wrapping ErrOptions.
func Instrument(wasm []byte, opts Options) (*Module, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if len(wasm) > opts.MaxCodeSize {
		return nil, refused("module of %d bytes refused, limit %d", len(wasm), opts.MaxCodeSize)
	}
	m, err := decode(wasm)
	if err != nil {
		return nil, err
	}
	if err := m.check(&opts); err != nil {
		return nil, err
	}
	n := uint32(len(m.globals))
	in := &instrumenter{m: m, opts: &opts, gas: n, depth: n + 1, loads: n + 2, stores: n + 3, helperIndex: make(map[helper]uint32)}
	bodies := make([][]byte, len(m.code))
	for i := range m.code {
		if bodies[i], err = in.meter(len(m.imports)+i, &m.code[i]); err != nil {
			return nil, err
		}
	}
	// The rules above are structural; wazero checks the rest (types,
	// indices) on the module as given, without its custom sections, whose
	// counts this package does not bound.
	if err := validate(encode(m)); err != nil {
		return nil, err
	}
	out := in.output(bodies)
	res := &Module{
		Wasm:        encode(out),
		Functions:   m.callable(),
		MemoryPages: m.memory.min,
		Globals:     append(m.mutableGlobals(), DepthGlobal),
		FirstHelper: uint32(len(m.imports) + len(m.funcs)),
	}
	if i, ok := in.helperIndex[helper{kind: helperGrow}]; ok {
		res.GrowHelper = i
	}
	if opts.FunctionNames {
		res.Names = m.functionNames()
	}
	return res, nil
}

// validate compiles b with wazero's interpreter, which validates it fully.
func validate(b []byte) error {
	ctx := context.Background()
	cfg := wazero.NewRuntimeConfigInterpreter().WithCoreFeatures(api.CoreFeaturesV2)
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	defer rt.Close(ctx)
	if _, err := rt.CompileModule(ctx, b); err != nil {
		return refused("invalid module: %v", err)
	}
	return nil
}

// output returns the instrumented module: the metered bodies, the helpers
// and their types, the gas global, the exports of the gas and mutable
// globals, and a memory maximum.
func (in *instrumenter) output(bodies [][]byte) *module {
	m := in.m
	out := *m
	out.code = make([]function, len(m.code), len(m.code)+len(in.helpers))
	for i, f := range m.code {
		out.code[i] = function{locals: f.locals, body: bodies[i]}
	}
	out.types = slices.Clip(m.types)
	out.funcs = slices.Clip(m.funcs)
	for _, h := range in.helpers {
		t := slices.IndexFunc(out.types[len(m.types):], h.funcType().Equal)
		if t < 0 {
			t = len(out.types) - len(m.types)
			out.types = append(out.types, h.funcType())
		}
		out.funcs = append(out.funcs, uint32(len(m.types)+t))
		out.code = append(out.code, function{locals: []byte{0}, body: in.body(h)})
	}
	out.globals = append(slices.Clip(m.globals),
		global{raw: []byte{byte(I64), 1, 0x42, 0, 0x0b}}, // gas, i64 0
		global{raw: []byte{byte(I32), 1, 0x41, 0, 0x0b}}) // depth, i32 0
	out.exports = append(slices.Clip(m.exports),
		export{name: GasGlobal, kind: externGlobal, index: in.gas},
		export{name: DepthGlobal, kind: externGlobal, index: in.depth})
	if in.opts.CountMemoryOps {
		out.globals = append(out.globals,
			global{raw: []byte{byte(I64), 1, 0x42, 0, 0x0b}}, // loads, i64 0
			global{raw: []byte{byte(I64), 1, 0x42, 0, 0x0b}}) // stores, i64 0
		out.exports = append(out.exports,
			export{name: LoadsGlobal, kind: externGlobal, index: in.loads},
			export{name: StoresGlobal, kind: externGlobal, index: in.stores})
	}
	for i, g := range m.globals {
		if g.mutable {
			out.exports = append(out.exports, export{name: globalExportName(i), kind: externGlobal, index: uint32(i)})
		}
	}
	out.memory = &limits{min: m.memory.min, max: m.memory.max, hasMax: true}
	if !m.memory.hasMax {
		out.memory.max = in.opts.MaxMemoryPages
	}
	return &out
}

func globalExportName(i int) string { return globalExportPrefix + strconv.Itoa(i) }

// callable returns the names of the exported functions of type () -> (),
// sorted.
func (m *module) callable() []string {
	var names []string
	for _, e := range m.exports {
		if e.kind != externFunc {
			continue
		}
		var t uint32
		if n := uint32(len(m.imports)); e.index < n {
			t = m.imports[e.index].typ
		} else {
			t = m.funcs[e.index-n]
		}
		if ft := m.types[t]; len(ft.Params) == 0 && len(ft.Results) == 0 {
			names = append(names, e.name)
		}
	}
	slices.Sort(names)
	return names
}

// mutableGlobals returns the export names of the mutable globals.
func (m *module) mutableGlobals() []string {
	var names []string
	for i, g := range m.globals {
		if g.mutable {
			names = append(names, globalExportName(i))
		}
	}
	return names
}
