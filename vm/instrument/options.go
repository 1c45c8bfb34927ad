package instrument

import (
	"fmt"
	"slices"
	"strings"
)

// ValueType is a WebAssembly value type, by its binary encoding.
type ValueType byte

// The value types. Host functions use only I32 and I64.
const (
	I32       ValueType = 0x7f
	I64       ValueType = 0x7e
	F32       ValueType = 0x7d
	F64       ValueType = 0x7c
	V128      ValueType = 0x7b
	FuncRef   ValueType = 0x70
	ExternRef ValueType = 0x6f
)

func (v ValueType) String() string {
	switch v {
	case I32:
		return "i32"
	case I64:
		return "i64"
	case F32:
		return "f32"
	case F64:
		return "f64"
	case V128:
		return "v128"
	case FuncRef:
		return "funcref"
	case ExternRef:
		return "externref"
	}
	return fmt.Sprintf("valtype(%#x)", byte(v))
}

// FuncType is a function signature.
type FuncType struct {
	Params, Results []ValueType
}

// Equal reports whether t and u are the same signature.
func (t FuncType) Equal(u FuncType) bool {
	return slices.Equal(t.Params, u.Params) && slices.Equal(t.Results, u.Results)
}

func (t FuncType) String() string {
	join := func(vs []ValueType) string {
		s := make([]string, len(vs))
		for i, v := range vs {
			s[i] = v.String()
		}
		return strings.Join(s, ", ")
	}
	return "(" + join(t.Params) + ") -> (" + join(t.Results) + ")"
}

// HostModule is the module name contracts import host functions from.
const HostModule = "dualchain"

// DepthGlobal is the exported mutable i32 global counting nested calls. The
// runtime resets it between calls (it is in Module.Globals); after a trap,
// a value past Options.MaxCallDepth says the call depth limit stopped it.
const DepthGlobal = "__dc_depth"

// GasGlobal is the exported mutable i64 global holding the gas left. The
// runtime sets it before a call and reads it after; negative means out of gas.
const GasGlobal = "__dc_gas"

// LoadsGlobal and StoresGlobal are the exported mutable i64 globals that
// count the memory load and store instructions run, with
// Options.CountMemoryOps. They start at 0 and only grow: a runtime reads
// them before and after what it measures.
const (
	LoadsGlobal  = "__dc_loads"
	StoresGlobal = "__dc_stores"
)

// ReservedPrefix starts every export name the instrumentation adds; a module
// may not export a name that starts with it.
const ReservedPrefix = "__dc_"

// globalExportPrefix and a global's index name the export of a mutable global.
const globalExportPrefix = ReservedPrefix + "g"

// Options are the limits and gas prices instrumentation applies.
type Options struct {
	MaxCodeSize    int    // bytes of module
	MaxFunctions   int    // functions, imported ones included
	MaxGlobals     int    // globals the module defines
	MaxLocals      int    // locals one function declares, parameters not counted
	MaxCallDepth   uint32 // nested calls of the module's own functions; deeper traps
	MaxMemoryPages uint32 // initial and maximum; a memory with no maximum gets this one
	MaxTableSize   uint32 // initial and maximum elements of the table

	// Imports are the host functions a module may import from HostModule,
	// with their signatures.
	Imports map[string]FuncType

	GrowPageCost  int64 // gas per page asked of memory.grow
	BulkChunk     int64 // memory.fill, .copy and .init pay BulkChunkCost per BulkChunk bytes,
	BulkChunkCost int64 // rounded up
	AllowFloat    bool  // tests only: let floating point through (toolchain output such as Go's)
	AllowImports  bool  // tests only: allow any function import (such as WASI's)

	// CountMemoryOps adds LoadsGlobal and StoresGlobal and the code that
	// counts into them (see the package documentation). It changes no
	// gas and nothing that is refused.
	CountMemoryOps bool
	// FunctionNames fills Module.Names. It changes nothing else.
	FunctionNames bool
}

// maxPrice bounds every price so no charge can overflow an int64: at most
// 2^32 pages or bytes times 2^24.
const maxPrice = 1 << 24

// DefaultOptions returns the limits and prices of docs/contract-abi.md.
func DefaultOptions() Options {
	return Options{
		MaxCodeSize:    64 << 10,
		MaxFunctions:   10_000,
		MaxGlobals:     1_000,
		MaxLocals:      10_000,
		MaxCallDepth:   1_000,
		MaxMemoryPages: 64,
		MaxTableSize:   10_000,
		Imports:        HostImports(),
		GrowPageCost:   2_000,
		BulkChunk:      32,
		BulkChunkCost:  1,
	}
}

// HostImports returns the host functions of docs/contract-abi.md, a new map
// on every call.
func HostImports() map[string]FuncType {
	i32, i64 := []ValueType{I32}, []ValueType{I64}
	i32x2, i32x3, i32x4 := []ValueType{I32, I32}, []ValueType{I32, I32, I32}, []ValueType{I32, I32, I32, I32}
	return map[string]FuncType{
		"input_len":     {Results: i32},
		"input":         {Params: i32},
		"output":        {Params: i32x2},
		"caller":        {Params: i32},
		"address":       {Params: i32},
		"block_height":  {Results: i64},
		"storage_read":  {Params: i32x4, Results: i32},
		"storage_write": {Params: i32x4},
		"emit":          {Params: i32x4},
		"abort":         {Params: i32x3},
	}
}

// Validate reports Options that could not be applied, wrapping ErrOptions.
func (o Options) Validate() error {
	switch {
	case o.MaxCodeSize <= 0, o.MaxFunctions <= 0, o.MaxGlobals < 0, o.MaxLocals < 0:
		return fmt.Errorf("%w: code size, function, global and local limits must be positive", ErrOptions)
	case o.MaxCallDepth == 0 || o.MaxCallDepth > 1<<20:
		return fmt.Errorf("%w: MaxCallDepth %d not in 1..%d", ErrOptions, o.MaxCallDepth, 1<<20)
	case o.MaxMemoryPages == 0 || o.MaxMemoryPages > 65536:
		return fmt.Errorf("%w: MaxMemoryPages %d not in 1..65536", ErrOptions, o.MaxMemoryPages)
	case o.BulkChunk <= 0 || o.BulkChunk > maxPrice:
		return fmt.Errorf("%w: BulkChunk %d not in 1..%d", ErrOptions, o.BulkChunk, maxPrice)
	case o.GrowPageCost < 0 || o.GrowPageCost > maxPrice || o.BulkChunkCost < 0 || o.BulkChunkCost > maxPrice:
		return fmt.Errorf("%w: prices must be in 0..%d", ErrOptions, maxPrice)
	}
	return nil
}
