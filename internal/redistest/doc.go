// Package redistest runs real redis-server processes for tests: Start gives
// a test its own server on a free loopback port, and Shared gives it its own
// database on a server CI started (DUALCHAIN_TEST_REDIS), or its own server
// when none is set.
//
// Invariants:
//   - Every server it starts listens on 127.0.0.1 only, keeps nothing on disk
//     (--save "" --appendonly no, in the test's temp dir), and is stopped by
//     its PID when the test ends; nothing is left running.
//   - When redis-server is missing, a test is skipped with a message, except
//     under CI=true, where it fails: CI must not pass without Redis.
//
// Must not import: hotchain, coldchain, bridge, consensus, node, api, cmd, vm, contracts
package redistest
