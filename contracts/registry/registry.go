package registry

import _ "embed" // for Wasm

// Wasm is the contract's WebAssembly module, as committed.
//
//go:embed registry.wasm
var Wasm []byte
