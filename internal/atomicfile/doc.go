// Package atomicfile replaces a file's contents in one step: a reader, or
// a process started after a crash, finds the old bytes or the new ones,
// never a mix. The new bytes go to PATH.tmp, are synced, and are renamed
// over PATH; the directory is then synced so the rename survives a power
// cut.
//
// Must not import: ledger, vm, contracts, hotchain, coldchain, bridge, consensus, node, api, client, cmd
package atomicfile
