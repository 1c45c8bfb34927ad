// Command dualchain is the one binary of dualchain: it runs a node
// (dualchain node), makes and shows keys, sends transfers, deploys and calls
// contracts, and reads balances, transactions and status from a node over
// its HTTP API. It uses package vm only for the gas schedule (what a deploy
// costs), never to run code.
//
// Flags and the environment are read here and nowhere else: the node
// command turns them into a node.Config. Commands that talk to a node take
// --node URL (default $DUALCHAIN_NODE, else http://127.0.0.1:8545) and
// print machine-readable JSON on stdout with --json. Errors go to stderr as
// "error: <message> (<code>)"; the exit status is 1, or 2 for a usage
// mistake.
//
// Must not import: hotchain, coldchain, bridge, consensus
package main
