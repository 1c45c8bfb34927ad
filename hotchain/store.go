package hotchain

import (
	"context"

	"github.com/dualchain/dualchain/ledger"
)

// Store holds one node's hot state: the state keys and values, the applied
// log index, the head block and the state commitment, and the history of
// hot blocks and transactions. Only its own node writes to it.
//
// Every implementation is held to the same differential test.
type Store interface {
	// Open attaches to the store. If it holds no chain (new, wiped, or its
	// meta record lost), Open deletes whatever else the store still holds
	// and creates a new incarnation with exactly the genesis state at log
	// index 0; if it holds the chain of gen, Open returns its meta as it is
	// (which may be older than what was applied before, if the store was
	// restored from a snapshot); if it holds another chain, Open fails with
	// ErrGenesisMismatch. After Open, every other call checks that the
	// incarnation is still the one Open saw.
	Open(ctx context.Context, gen *Genesis) (Meta, error)

	// Meta returns the applied index, head and commitment as stored now (it
	// is read on every call, never cached, so it shows a store restored from
	// an older snapshot). Like Get, it fails with ErrNotOpen before Open and
	// ErrWiped once the store lost the incarnation Open saw.
	Meta(ctx context.Context) (Meta, error)

	// Get reads the values of keys in one round trip; a missing key reads as
	// nil. The result has one entry for each key, in order. It checks the
	// incarnation in the same round trip, so a block is never executed
	// against a wiped store: ErrNotOpen before Open, ErrWiped after a wipe.
	Get(ctx context.Context, keys [][]byte) ([][]byte, error)

	// Apply writes a block's effects, its history records, the log index and
	// the new commitment in one atomic step. An update at or below the
	// applied index changes nothing and returns (false, nil). It fails with
	// ErrWiped if the store lost its incarnation since Open, and with
	// ErrNotNext if the block does not extend the head. It fails with
	// ErrCommitmentMismatch, writing nothing, if u.Commitment's digest is not
	// the block header's (and, built with the invariants tag, if it is not
	// the commitment of the state the block leaves), and with ErrBadUpdate if
	// u is malformed.
	Apply(ctx context.Context, u *Update) (applied bool, err error)

	// Block returns the block at height, reassembled (txs, receipts, writes).
	// ErrNotFound if there is none. Like Get, it checks the incarnation in
	// the same round trip: ErrNotOpen before Open, ErrWiped after a wipe
	// (never ErrNotFound for a block the wiped store held).
	Block(ctx context.Context, height uint64) (*ledger.Block, error)

	// Tx returns an included transaction by id. ErrNotFound if unknown;
	// ErrNotOpen and ErrWiped as for Block.
	Tx(ctx context.Context, id ledger.Hash) (*ledger.TxRecord, error)

	// Scan calls fn for every state key and value, in no particular order.
	// The slices are valid only during the call. ErrNotOpen and ErrWiped as
	// for Get. If Apply
	// changes the store during a Scan that cannot see one moment's state,
	// Scan fails with ErrConflict.
	Scan(ctx context.Context, fn func(key, value []byte) error) error

	// Snapshot returns a point-in-time copy of the state (every non-empty
	// key and value, sorted by key) and the meta it belongs to, without the
	// incarnation. It must not run concurrently with Apply (Raft's FSM never
	// does that); a RedisStore that sees the meta move during its scan fails
	// with ErrConflict. ErrNotOpen and ErrWiped as for Get. History is not
	// part of a snapshot.
	Snapshot(ctx context.Context) (*Snapshot, error)

	// Restore replaces everything the store holds (state and history) with
	// snap's state and meta, under a new incarnation that the handle then
	// holds, and returns that meta: Apply continues from snap.Meta.Index.
	// The store keeps no history from before the snapshot: Block and Tx
	// answer ErrNotFound for it. Before it writes anything, Restore checks
	// snap (ErrBadSnapshot), that the commitment of its writes is
	// snap.Meta.Commitment (ErrCommitmentMismatch), and that its genesis is
	// the one the handle was opened on, and the one the store holds, if any
	// (ErrGenesisMismatch). It works on a wiped store and on a handle that
	// was never opened. A crash during Restore leaves either the old state
	// or a store without a chain, which Open starts afresh from genesis.
	Restore(ctx context.Context, snap *Snapshot) (Meta, error)

	// Kind names the implementation: "redis", "memory" or "pebble".
	Kind() string

	// Close releases the store's resources; the state stays where it lives.
	Close() error
}

// Genesis is the state a new incarnation starts from.
type Genesis struct {
	Hash   ledger.Hash    // identifies the chain; becomes the head at height 0
	Writes []ledger.Write // initial state
}

// Meta describes where a store is.
type Meta struct {
	Incarnation string      // random id made by Open when it initialized the store
	Genesis     ledger.Hash // the chain this store holds
	Index       uint64      // last applied log index (0: genesis only)
	Height      uint64      // height of the head block (0: genesis)
	Head        ledger.Hash // hash of the head block's header (the genesis hash at height 0)
	Commitment  Commitment  // state commitment after the head block
}

// Update is one committed log entry's effect on the hot chain.
type Update struct {
	Index      uint64        // the log index of the entry
	Block      *ledger.Block // header, txs, receipts and write set
	Commitment Commitment    // the commitment after the block; its Digest is Block.Header.Commitment
}
