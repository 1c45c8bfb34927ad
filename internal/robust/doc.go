// Package robust records what the clients of a robustness run did and
// checks it against what the cluster holds at the end: the history
// recorder and the checker of issue 8, in the manner of etcd's robustness
// tests and Jepsen's bank test. It is pure logic: it starts no process and
// opens no connection; the fault injection and the cluster drivers are
// built on top of it.
//
// A History holds one Op per logical operation of a client (a hot
// transfer, a settle, a deposit, a cold transfer, a read of one account or
// of all of them), with its inputs (the signed transaction's id and nonce
// among them: a retry resends the same transaction, so one op has one tx
// id), its call and return times from one monotonic clock, and its
// outcome: ok, fail (it did not and will not happen) or unknown (a timeout
// or a lost leader: it may still commit). Histories save to JSON and load
// back, so a failing soak keeps what it saw.
//
// Check reads a FinalLedger once (the committed transactions of the
// tracked accounts, a final snapshot of their balances and the supply's
// sums, and each node's reports), resolves every unknown outcome against
// it (committed: it happened, with that receipt; absent: it did not), and
// checks, each reported on its own row with counts and examples:
//
//   - no acknowledged transaction lost, and no failed one committed;
//   - no transaction applied twice, and each account's nonces gapless on
//     each chain;
//   - supply conserved (hot + cold + in flight = supply) at every read
//     that returns the sums and at the end;
//   - no balance negative (a uint64 that wrapped) or above the supply;
//   - all nodes report the same hot commitment and cold root at the same
//     height, and the same Raft log digest at the same index (a
//     driver asks every node for digests over one range all of them
//     hold, LogRange, so that the points compare: raftlog.go);
//   - the history is linearizable against a bank model (model.go), checked
//     with porcupine, one partition per group of accounts that transfers
//     connect, in windows cut where no op is in flight (linearize.go). A
//     checker that times out fails the run.
//
// Porcupine's memory grows with the square of a window's ops (about ten
// thousand check in a second or two), and clients that never pause leave
// no instant to cut at. So a long run's driver pauses every client now and
// then until none has an op in flight, ideally waits for the bridge to
// drain and reads every account atomically with the sums (a KindReadAll
// that then lets the next window start from exactly what it read), and
// records reads it cannot make atomic as one KindRead per account.
//
// The model treats a bridge credit (a settle's cold credit, a deposit's
// hot credit) as in flight from the commit that starts it until some
// later moment the model chooses lazily, per account and in order: a read
// may see it or not, but once seen it stays. See model.go for what this
// leaves unchecked.
//
// Freeze reads a FinalLedger once into a Frozen, which saves to JSON: what
// a failing run keeps beside its history. A part it could not read is
// kept as the error its method then returns, so checking the Frozen finds
// what checking the live ledger would have.
//
// Invariants: Check never passes a run it could not check (a ledger that
// does not answer, a malformed history, a timeout, and a row that
// Options.Require names with nothing to compare are failures);
// Report.Pass is true exactly when every row holds (Invariant.Holds: no
// violation, and something compared if required); a History is safe for
// concurrent use and its times never go backwards.
//
// Must not import: node, consensus, hotchain, coldchain, bridge, cmd, internal/localcluster
package robust
