// Package progress shows how far a long operation has got. On a terminal
// it redraws one line in place: a spinner, a count out of a total and a
// rate (or, for a wait with nothing to count, the time waited). When the
// output is not a terminal (a pipe, a file, CI) it degrades to a plain
// line every few seconds, so logs stay readable and a long wait still
// shows it is alive.
//
// Invariants: a Task's line is erased when the Task ends, so what the
// caller prints next starts on a clean line; nothing is written after
// Done returns; counts may be added from any goroutine. Time comes from a
// clockwork.Clock, so tests drive redraws without sleeping.
//
// Must not import: ledger, vm, contracts, hotchain, coldchain, bridge, consensus, node, api, client, cmd, internal
package progress
