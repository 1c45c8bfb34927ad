// Package instrument validates a contract's WebAssembly module and rewrites it
// to meter its own gas, deterministically and without host calls. The node runs
// it once, when a contract is deployed; the runtime (package vm) then runs only
// its output.
//
// # What is refused
//
// Instrument refuses, with an *Error that satisfies errors.Is(err, ErrInvalid)
// and names what it refused and where: bytes that are not a valid WebAssembly
// 2.0 module; a module over Options.MaxCodeSize; floating point (an f32 or f64
// type in a signature, local, global, block type or typed select, or any float
// instruction) unless Options.AllowFloat; SIMD (the 0xFD prefix and v128);
// threads and atomics (the 0xFE prefix, shared memories); a start section;
// table-changing instructions (table.set, table.grow, table.fill, table.copy,
// table.init, elem.drop) and data.drop, which change an instance beyond its
// memory and globals, so a reused instance could not start a call clean;
// imported memories, tables and globals; imports other
// than the functions of Options.Imports from module "dualchain" with exactly
// their signature, unless Options.AllowImports; more than one memory or table;
// a memory or table past its limit; a module without a memory exported as
// "memory"; an export named with the reserved prefix "__dc_"; more functions,
// globals or locals than the limits; and every instruction outside the set
// below (tail calls, exceptions, GC and anything unknown).
//
// The instructions accepted are the MVP set, sign extension (0xC0–0xC4),
// saturating truncation (0xFC 0–7, floats), bulk memory (memory.init,
// memory.copy, memory.fill), reference types (ref.null,
// ref.is_null, ref.func, table.get, table.size) and multi-value block types.
//
// # How gas is counted
//
// A function body is cut into metered blocks. A metered block begins at the
// function's entry and right after every block, loop, if, else, end, br,
// br_if, br_table, return and unreachable instruction; it runs to the next of
// those instructions, which it includes (else and end belong to no block).
// Every instruction costs 1 gas except else and end, which cost nothing; a
// prefixed instruction (0xFC n) is one instruction. Code entering a metered
// block first charges the block's whole cost; the entry block also charges
// 1 per local the function declares (parameters not counted), as a call
// zeroes them. A block that costs nothing is not charged.
//
// memory.grow, memory.fill, memory.copy and memory.init become calls to
// injected helpers that charge, on top of the instruction's 1, GrowPageCost
// per page asked for (whether or not the grow succeeds) or BulkChunkCost per
// BulkChunk bytes, rounded up, and then do the operation.
//
// # Call depth
//
// Every call of one of the module's own functions (call to a non-imported
// function, call_indirect) is bracketed by code that increments the
// exported i32 global DepthGlobal and traps with unreachable when it passes
// Options.MaxCallDepth, and decrements it when the call returns. A trap
// leaves it past the limit, which is how the runtime names it. The
// bracketing costs no gas; the call instruction pays 1 as any other. So a
// runaway recursion stops at the same depth and gas on every platform,
// rather than where wazero's stack ends.
//
// # Counting memory accesses
//
// With Options.CountMemoryOps, two more exported mutable i64 globals,
// LoadsGlobal and StoresGlobal, count the memory loads and stores a call
// runs. Each metered block adds its static counts to them right after its
// charge, with code that costs no gas: so, like gas, a block is counted
// whole when it is entered, and a block that traps half-way has counted
// all of its accesses. A load is one of i32.load … i64.load32_u (f32.load
// and f64.load included), a store one of i32.store … i64.store32; a bulk
// instruction counts once whatever its length: memory.copy as a load and a
// store, memory.fill and memory.init as a store (memory.init reads a data
// segment, not memory). memory.grow and memory.size are neither. The option
// changes no gas, no index the module uses and nothing that is refused:
// the counters come after the depth global, and the gas charges are the
// same instructions in the same places.
//
// # Names and helpers
//
// Module.FirstHelper and Module.GrowHelper tell a runtime which functions
// are the instrumentation's own, so that a profiler can leave them out.
// With Options.FunctionNames, Module.Names names the module's functions
// from its exports and its name section, which is read (its function
// names only, every count bounded as elsewhere) but still not kept; a
// malformed name section gives no names, never a refusal.
//
// # The instrumented module
//
// Charging subtracts from the exported mutable i64 global GasGlobal and traps
// with unreachable when the result is negative. The runtime sets the global to
// the gas left before a call and reads it after: a trap with the global
// negative is out of gas, any other trap is the contract's own. The global
// starts at 0, so a call the runtime forgets to fund traps at once.
//
// Helpers are appended after the module's functions and their types after its
// types, and the gas global after its globals, so no index the module uses
// moves. Every mutable global of the module is also exported as "__dc_g" and
// its index, for the runtime to reset between calls. The module's own exports
// are kept; custom sections (names, producers) are dropped. Output depends only
// on the input bytes and Options.
//
// Must not import: node, hotchain, coldchain, bridge, consensus, ledger, api, client, cmd, contracts
package instrument
