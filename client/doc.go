// Package client is the Go SDK for a dualchain node's HTTP API: submit
// signed transactions (CBOR on the wire), wait for their receipts, and read
// transactions, blocks, accounts and status.
//
// A Client keeps a pool of keep-alive connections and is safe for
// concurrent use; make one per node and share it. Every method takes a
// context, which bounds the whole request. An error the node answered with
// is a *Error carrying the node's stable code (use errors.As); anything else
// (the node unreachable, the context done) is returned wrapped.
//
// Must not import: hotchain, coldchain, bridge, consensus, node, cmd, vm
package client
