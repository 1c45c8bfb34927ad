package node

import (
	"errors"
	"fmt"
)

// codedError is an error a client can act on; its code is stable (see
// api.Coder).
type codedError struct{ code, msg string }

// Error is the message a client sees, so it carries no package prefix.
func (e *codedError) Error() string { return e.msg }
func (e *codedError) Code() string  { return e.code }

func coded(code, msg string) *codedError { return &codedError{code: code, msg: msg} }

// Errors returned to clients. Test for them with errors.Is; wrapped
// versions add the detail.
var (
	ErrMempoolFull       = coded("mempool_full", "mempool full, retry later")
	ErrNonceTooLow       = coded("nonce_too_low", "nonce already used (replay)")
	ErrNonceTooHigh      = coded("nonce_too_high", "nonce too far ahead of the account's next nonce")
	ErrNonceTaken        = coded("nonce_taken", "another transaction with this nonce is pending")
	ErrNonceGap          = coded("nonce_gap", "an earlier nonce of this sender was dropped")
	ErrWrongChainID      = coded("wrong_chain_id", "transaction is for another chain id")
	ErrUnsupported       = coded("unsupported", "not supported by this node yet")
	ErrUnknownContract   = coded("unknown_contract", "no such contract or function")
	ErrGasLimit          = coded("gas_limit_too_low", "gas limit below what the call uses")
	ErrBadArgs           = coded("bad_args", "malformed call arguments")
	ErrBadModule         = coded("bad_module", "module refused at deploy")
	ErrInsufficientFunds = coded("insufficient_funds", "balance below the amount")
	ErrNotFound          = coded("not_found", "not found")
	ErrUnknownTx         = coded("unknown_tx", "transaction is neither pending nor committed")
	ErrStopped           = coded("unavailable", "node is stopping")
	ErrRebuilding        = coded("unavailable", "the node's store lost its state and is being rebuilt from the cold chain's mirror and the writes since; retry shortly")
	ErrBusy              = coded("unavailable", "the node is too busy to admit the transaction; retry")
	ErrBlockFailed       = coded("block_failed", "the block holding the transaction failed to commit; resubmit")
	ErrNotLeader         = coded("not_leader", "this node stopped being the leader before the transaction was in a block; resubmit")
	ErrNoLeader          = coded("no_leader", "the cluster has no leader right now (an election is under way or too few nodes are up); retry shortly")
)

// Errors inside the node.
var (
	// errBadEntry is a committed log entry this node cannot decode: it
	// cannot go on without it.
	errBadEntry = errors.New("node: undecodable log entry")
	// errStaleBlock is a committed block that does not extend the head it
	// commits on: a leader proposed it over a block that never committed.
	// Every node skips it, so all stay identical.
	errStaleBlock = errors.New("node: committed block does not extend the head; skipped")
	// errBroken means an entry Raft counts as applied was not; the node
	// must restart (replaying the log) before it applies or snapshots more.
	errBroken = errors.New("node: state machine stopped after a failed apply; restart the node")
)

// detail wraps a client error with specifics, keeping its code.
func detail(base *codedError, format string, args ...any) error {
	return &detailed{base: base, msg: fmt.Sprintf(format, args...)}
}

type detailed struct {
	base *codedError
	msg  string
}

func (e *detailed) Error() string { return e.base.Error() + ": " + e.msg }
func (e *detailed) Unwrap() error { return e.base }
func (e *detailed) Code() string  { return e.base.code }
