package hotchain

import "errors"

// Errors returned by this package; test for them with errors.Is.
var (
	// ErrWiped: the store lost the incarnation Open saw (Redis flushed,
	// restarted empty, or opened anew by another handle). Nothing was
	// written, and nothing read is returned; the node must rebuild.
	ErrWiped = errors.New("hotchain: store was wiped")
	// ErrNotOpen: a call that needs Open came before it.
	ErrNotOpen = errors.New("hotchain: store not opened")
	// ErrNotNext: the block does not extend the head (wrong parent or height).
	ErrNotNext = errors.New("hotchain: block does not extend the head")
	// ErrNotFound: no such block or transaction.
	ErrNotFound = errors.New("hotchain: not found")
	// ErrGenesisMismatch: the store holds another chain.
	ErrGenesisMismatch = errors.New("hotchain: store holds another chain")
	// ErrCommitmentMismatch: an update's commitment does not match its block
	// header, or (with the invariants build tag) the state it is applied to.
	ErrCommitmentMismatch = errors.New("hotchain: commitment mismatch")
	// ErrBadUpdate: an update is malformed (no block, empty key, txs and
	// receipts of different lengths).
	ErrBadUpdate = errors.New("hotchain: malformed update")
	// ErrBadGenesis: a genesis is missing or has an empty key.
	ErrBadGenesis = errors.New("hotchain: malformed genesis")
	// ErrCorrupt: a stored record cannot be decoded.
	ErrCorrupt = errors.New("hotchain: corrupt store record")
	// ErrEvictingRedis: the Redis server may evict keys under memory
	// pressure, which would silently drop state. RedisStore.Open refuses it.
	ErrEvictingRedis = errors.New("hotchain: redis may evict keys; set maxmemory-policy noeviction")
	// ErrConflict: another writer kept changing the store during an apply,
	// or Apply ran during a Scan.
	ErrConflict = errors.New("hotchain: concurrent write")
)

// ErrBadSnapshot: a snapshot is malformed, or its encoding is truncated,
// corrupted (its checksum does not match) or of another version.
var ErrBadSnapshot = errors.New("hotchain: bad snapshot")
