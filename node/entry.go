package node

import (
	"fmt"

	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/ledger"
)

// Log entry kinds. Cold blocks (the bridge's checkpoints) get their own kind
// when the cold chain arrives.
const (
	entryHotBlock uint8 = 1 // a hot block with its effects
	entryMember   uint8 = 2 // a member's API URL, for the directory
)

// entry is one Raft log entry: a block with its effects and the full state
// commitment after it (the block header carries only its digest), or a
// directory record.
type entry struct {
	_          struct{} `cbor:",toarray"`
	Kind       uint8
	Block      *ledger.Block
	Commitment []byte
	Member     *memberInfo
}

// memberInfo is what the directory knows of a member: where its API is.
type memberInfo struct {
	_    struct{} `cbor:",toarray"`
	ID   string
	URL  string // base URL of its HTTP API
	Edge bool   // a non-voter serving reads
}

func encodeBlockEntry(ex *execution) ([]byte, error) {
	c, err := ex.commitment.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return ledger.Marshal(entry{Kind: entryHotBlock, Block: ex.block, Commitment: c})
}

func encodeMemberEntry(m memberInfo) ([]byte, error) {
	return ledger.Marshal(entry{Kind: entryMember, Member: &m})
}

// decodedEntry is a log entry read back: exactly one of its fields is set.
type decodedEntry struct {
	update *hotchain.Update
	member *memberInfo
}

// decodeEntry reads the log entry at index.
func decodeEntry(index uint64, data []byte) (decodedEntry, error) {
	var e entry
	if err := ledger.Unmarshal(data, &e); err != nil {
		return decodedEntry{}, fmt.Errorf("node: entry %d: %w", index, err)
	}
	switch {
	case e.Kind == entryHotBlock && e.Block != nil:
		u := &hotchain.Update{Index: index, Block: e.Block}
		if err := u.Commitment.UnmarshalBinary(e.Commitment); err != nil {
			return decodedEntry{}, fmt.Errorf("node: entry %d commitment: %w", index, err)
		}
		return decodedEntry{update: u}, nil
	case e.Kind == entryMember && e.Member != nil && e.Member.ID != "":
		return decodedEntry{member: e.Member}, nil
	}
	return decodedEntry{}, fmt.Errorf("node: entry %d: unknown kind %d", index, e.Kind)
}
