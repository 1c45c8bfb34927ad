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
	Mempool      int         `json:"mempool"`
	Leader       bool        `json:"leader"`
	Version      string      `json:"version"`

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
