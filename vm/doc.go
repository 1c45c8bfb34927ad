// Package vm runs contracts: WebAssembly modules on a wazero runtime in
// compiler mode, with deterministic gas, against the host ABI in
// docs/contract-abi.md.
//
// A module is instrumented when it is deployed (package vm/instrument):
// every basic block charges its instructions to a gas counter the module
// carries as a global, and memory growth and bulk memory operations are
// charged per page and per byte. Host functions charge per call and per
// byte through Env, the same type native functions run against, so a
// native twin that makes the same host calls and charges its export's
// instruction gas costs exactly what the VM does.
//
// A VM configured with Config.Trace records a memory trace of every call
// (Result.Trace): its frames, each with its memory before and after, its
// growth and the gas that cost, and its own gas, loads and stores, from
// wazero function listeners and two counters the instrumenter adds
// (DESIGN.md). Tracing changes no gas and no outcome; off, nothing of it is
// compiled in.
//
// Invariants:
//   - Every call starts from the module's clean state: memory and mutable
//     globals as instantiation leaves them. Pooled instances are restored to
//     it after each call; one whose memory grew is closed instead.
//   - A call that fails (abort, trap, out of gas, a broken limit) returns no
//     writes, events or output; a call out of gas uses its whole limit.
//   - The wall-clock deadline is a backstop, not metering.
//   - A traced call's frames' gas sums to its gas used less its base cost.
//
// Must not import: node, hotchain, coldchain, bridge, consensus, api, client, cmd, contracts
package vm
