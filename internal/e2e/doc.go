// Package e2e holds end-to-end tests: they build the dualchain binary, run
// it as real processes against a real redis-server, drive it only through
// its HTTP API with the Go client, and crash it with signals, as an
// operator or a power cut would.
//
// TestKillNodeLosesNothing SIGKILLs a node while senders stream transfers
// at it (a one-node Raft cluster): once anywhere, and once at the moment
// that needs the Raft log, after a block is committed and before Redis
// holds it (Redis is made to hold writes with CLIENT PAUSE WRITE). Then it
// cuts the power: Redis restarts empty and the node must rebuild the chain
// from its log.
//
// TestClusterRecovery runs a three-node cluster (internal/localcluster: real
// node processes, a redis-server each, snapshots every 64 entries) through
// ARCHITECTURE §9's failures under a stream of transfers sent through
// several nodes: a follower killed and restarted on its Redis, the leader
// killed, a follower's Redis wiped, a follower lagging past the snapshot, a
// voter joining late, and every node and Redis killed at once. After each,
// every node reports the same height, head and commitment, and the checks
// below hold on every node for the blocks it holds (a node that installed
// a snapshot lacks the blocks before it until it has fetched them from its
// peers) and in full on nodes that hold the
// whole chain, of which there is always one.
//
// Invariants checked after every restart: no acknowledged transaction is
// lost or moved (same block height and index); every sender's committed
// nonces are gapless and no transaction or nonce is committed twice;
// balances are what replaying exactly the committed transactions gives,
// and they sum to the genesis supply; a client may resubmit what it was not
// told about with the same nonce, and it is applied at most once.
//
// TestBridgeStoryOnThreeNodes does issue 5's story through the CLI on three
// processes: transfers, a settle checkpointed with a proof that `proof
// verify` accepts against the root of the cold block fetched separately, a
// cold transfer, a deposit credited, the audit; then a follower's Redis
// wiped, traffic through it, and every node SIGKILLed and restarted, with
// balances, statuses, the old proof and the audit unchanged.
// TestQuickstart runs the commands of docs/quickstart.md in one bash, as a
// reader would, and TestDemo runs `dualchain demo` and checks its verdicts.
// TestBenchWorkloads runs `dualchain bench --json` for every workload and
// checks its figures hang together; TestBenchStudy runs `bench --study` and
// checks its five rows. TestRobustnessShort is the CI tier of the
// robustness suite (internal/robustness: seeded faults on a 3-node cluster,
// the history checked); TestRobustnessSoak is the long one, run by `make
// robustness` and skipped without -robustness.duration;
// TestRobustnessNetwork runs five nodes in network namespaces of their own
// under partitions and flaky links only. The robustness tests run a binary
// built with -tags failpoints, so crash points, disk faults and clock
// skew can be armed in it. TestAPIAbuse sends
// one node requests no honest client sends (malformed, oversized, replayed,
// badly signed, hostile wasm, slow, too many connections) and checks each
// gets a clear error and leaves the state as it was.
//
// The package has no code outside its tests. Every process a test starts
// listens on a free loopback port, or on the address of a network
// namespace the test made, and is stopped by its process id, never by
// name.
//
// Must not import: hotchain, coldchain, bridge, consensus
package e2e
