// Package registry holds the name-registry contract: a Rust no_std crate
// (src/lib.rs) compiled to registry.wasm, which this package embeds as Wasm
// for the packages that deploy it. Whoever registers a free name of 1 to 32
// bytes of [a-z0-9-] owns it; only its owner can transfer or release it.
// README.md lists its functions, arguments and storage keys.
//
// Unlike the token, the registry has no native twin: it runs only in the VM,
// so there is no Go implementation to keep in step with it.
//
// Invariants: registry.wasm is exactly what scripts/contracts.sh builds from
// src/lib.rs with the pinned Debian toolchain (build_test.go checks it when
// the toolchain is installed); it imports only the ABI of
// docs/contract-abi.md and never panics.
//
// Must not import: vm, hotchain, coldchain, bridge, consensus, node, api, client, cmd, internal
package registry
