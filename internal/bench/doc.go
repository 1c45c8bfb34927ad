// Package bench loads a dualchain cluster with signed transactions and
// measures what it commits: the engine behind `dualchain bench`.
//
// A run creates and funds fresh accounts from the faucet, signs every
// transaction before the clock starts (signing is the client's cost, not
// the chain's), then submits batches with ?wait=commit from a fixed pool
// of workers over keep-alive connections, for a duration. Only committed
// transactions with an ok receipt count. A closed loop keeps Concurrency
// requests in flight; an open loop offers batches at a fixed rate and
// measures each batch from the time it was due, not the time a worker
// got to it, so a slow cluster cannot hide its queueing (coordinated
// omission). Latencies go into an HDR histogram, one value per
// transaction.
//
// VerifyLimit measures the ceiling every node shares: how many
// signatures this machine's cores verify per second with the batch
// verifier the node uses. RunStudy reproduces the scaling study's table,
// starting a local cluster for each row.
//
// Invariants: nothing is measured before the last transaction is signed;
// a transaction counts as committed only with a committed status and an
// ok receipt; every failure is counted by kind, never dropped.
//
// Must not import: node, consensus, hotchain, coldchain, bridge, api/apitest, cmd
package bench
