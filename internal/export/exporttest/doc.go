// Package exporttest holds helpers for testing what `dualchain export`
// writes: SameFiles checks that two export directories hold the same
// files, byte for byte (a resumed export against an uninterrupted one,
// per-tx against range fetching).
//
// Must not import: node, consensus, hotchain, coldchain, bridge, api, client, cmd, vm
package exporttest
