package api

import (
	"context"

	"github.com/dualchain/dualchain/ledger"
)

// Backend is what the HTTP server needs from a node. The node package
// implements it; tests may use any implementation.
type Backend interface {
	// Submit checks and admits transactions to the mempool. It returns each
	// transaction's id and error: nil when it was admitted or is already
	// pending (a retry of the same transaction is not an error). A refusal
	// carries a code (Coder); the one uncoded error shown to the client is
	// ledger.VerifyBatch's, wrapping ledger.ErrBadSignature. Any other
	// uncoded error is internal, even one wrapping a ledger sentinel.
	Submit(ctx context.Context, txs []*ledger.Tx) ([]ledger.Hash, []error)

	// Wait blocks until each transaction is committed or dropped, or ctx
	// ends. For each id it returns the included record, or the reason it will
	// never be included (a coded error), or (nil, nil) if neither is known
	// yet when ctx ends. An uncoded error means the backend could not tell:
	// the transaction is reported as still pending and the error logged.
	Wait(ctx context.Context, ids []ledger.Hash) []WaitResult

	// Tx returns an included transaction; an error with code "not_found" if
	// there is none.
	Tx(ctx context.Context, id ledger.Hash) (*ledger.TxRecord, error)

	// Block returns the hot block at height; code "not_found" if none.
	Block(ctx context.Context, height uint64) (*ledger.Block, error)

	// RawBlock returns the hot block at height in its canonical CBOR
	// encoding; code "not_found" if this node does not hold it.
	RawBlock(ctx context.Context, height uint64) ([]byte, error)

	// Account returns an account's hot balance and next nonce.
	Account(ctx context.Context, addr ledger.Address) (ledger.Account, error)

	// Status describes the node.
	Status(ctx context.Context) (Status, error)
}

// WaitResult is the outcome of waiting for one transaction.
type WaitResult struct {
	Record *ledger.TxRecord // set once the transaction is in a committed block
	Err    error            // set if it was dropped and will never be included
}

// Status is what GET /v1/status returns.
type Status struct {
	ChainID      string      `json:"chain_id"`
	Node         string      `json:"node"`
	Height       uint64      `json:"height"`
	Head         ledger.Hash `json:"head"`
	Commitment   ledger.Hash `json:"commitment"`
	AppliedIndex uint64      `json:"applied_index"`
	Store        string      `json:"store"` // "redis", "pebble" or "memory"
	Exec         string      `json:"exec"`  // how calls with a native function run: "native", "vm" or "both"
	// VMTrace says the node records VM traces of the calls it runs in the
	// VM when it leads (its --vm-trace).
	VMTrace bool   `json:"vm_trace,omitempty"`
	Mempool int    `json:"mempool"`
	Leader  bool   `json:"leader"`
	Version string `json:"version"`

	// Replication, for a node of a cluster.
	NodeID            string `json:"node_id,omitempty"`
	Role              string `json:"role,omitempty"` // leader, follower, candidate or shutdown
	Edge              bool   `json:"edge,omitempty"` // a non-voter serving reads
	Term              uint64 `json:"term,omitempty"`
	LeaderID          string `json:"leader_id,omitempty"`
	LeaderURL         string `json:"leader_url,omitempty"`
	CommitIndex       uint64 `json:"commit_index,omitempty"`
	LastSnapshotIndex uint64 `json:"last_snapshot_index,omitempty"`
	// CaughtUp says the node knows a leader and has applied every entry it
	// knows to be committed: a restarted node answers before it has.
	CaughtUp bool `json:"caught_up"`
	// ArchiveComplete says the node holds every hot block from height 1
	// to its head: false while it fetches from its peers the history below
	// a snapshot it restored.
	ArchiveComplete bool `json:"archive_complete"`
}

// Coder is implemented by errors that carry a stable code for clients, such
// as "mempool_full" or "nonce_too_low". The server maps codes to HTTP
// statuses; a backend error without a code is an internal error (but for
// Submit's bad signatures), whatever it wraps: a ledger.ErrBadEncoding from
// a corrupt record is the node's fault, not the client's.
type Coder interface {
	error
	Code() string
}

// RaftLogBackend is what a backend that is a node of a Raft cluster adds
// for GET /v1/admin/raft/log: digests of its Raft log, to compare with the
// other nodes'. A server whose backend does not implement it answers
// not_found.
type RaftLogBackend interface {
	// RaftLog returns the log's bounds and, with every above 0, digests of
	// the committed entries from..to (to 0: the commit index) in segments
	// cut after every multiple of every (consensus.Replica.LogDigests).
	RaftLog(ctx context.Context, from, to, every uint64) (RaftLog, error)
}

// RaftLog is what GET /v1/admin/raft/log returns. Two nodes asked with
// the same from and every digest the same entries at the same index.
type RaftLog struct {
	FirstIndex  uint64 `json:"first_index"`  // the first index the log store holds
	LastIndex   uint64 `json:"last_index"`   // the last index the log store holds
	CommitIndex uint64 `json:"commit_index"` // nothing past it is digested
	// FloorIndex is the snapshot the node last restored: nothing at or
	// below it is digested (entries there may predate a snapshot install).
	FloorIndex uint64          `json:"floor_index"`
	From       uint64          `json:"from,omitempty"` // the range digested, clipped to what the node holds
	To         uint64          `json:"to,omitempty"`
	Every      uint64          `json:"every,omitempty"`
	Digests    []RaftLogDigest `json:"digests,omitempty"`
}

// RaftLogDigest is the SHA-256 of the entries (index, term, type, data) of
// one segment of the log, ending at Index.
type RaftLogDigest struct {
	Index  uint64      `json:"index"`
	Digest ledger.Hash `json:"digest"`
}
