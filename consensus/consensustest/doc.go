// Package consensustest holds helpers for testing code built on consensus:
// an in-memory FSM that records every entry it is given with its index, and
// a logger that writes to the test's log.
//
// Must not import: hotchain, coldchain, bridge, node, api, client, cmd, vm, contracts
package consensustest
