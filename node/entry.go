package node

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"

	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/ledger"
)

// Log entry kinds.
const (
	entryHotBlock  uint8 = 1 // a hot block with its effects
	entryMember    uint8 = 2 // a member's API URL, for the directory
	entryColdBlock uint8 = 3 // a cold block: the bridge's checkpoint and cold transactions
)

// entry is one Raft log entry: a hot block with its effects and the full
// state commitment after it (the block header carries only its digest), a
// directory record, or a cold block.
type entry struct {
	_          struct{} `cbor:",toarray"`
	Kind       uint8
	Block      cbor.RawMessage // a ledger.Block, kept encoded for the archive
	Commitment []byte
	Member     *memberInfo
	Cold       *coldEntry
}

// memberInfo is what the directory knows of a member: where its API is.
type memberInfo struct {
	_    struct{} `cbor:",toarray"`
	ID   string
	URL  string // base URL of its HTTP API
	Edge bool   // a non-voter serving reads
}

// encodeBlockEntry encodes the entry of ex's block, and returns the block's
// own encoding within it too.
func encodeBlockEntry(ex *execution) (data, block []byte, err error) {
	c, err := ex.commitment.MarshalBinary()
	if err != nil {
		return nil, nil, err
	}
	if block, err = ledger.Marshal(ex.block); err != nil {
		return nil, nil, err
	}
	data, err = ledger.Marshal(entry{Kind: entryHotBlock, Block: block, Commitment: c})
	return data, block, err
}

func encodeMemberEntry(m memberInfo) ([]byte, error) {
	return ledger.Marshal(entry{Kind: entryMember, Member: &m})
}

// decodedEntry is a log entry read back: an update with its block as
// encoded in the entry, a member, or a cold block.
type decodedEntry struct {
	update *hotchain.Update
	block  []byte // update.Block in canonical CBOR
	member *memberInfo
	cold   *coldEntry
}

// decodeEntry reads the log entry at index.
func decodeEntry(index uint64, data []byte) (decodedEntry, error) {
	var e entry
	if err := ledger.Unmarshal(data, &e); err != nil {
		return decodedEntry{}, fmt.Errorf("node: entry %d: %w", index, err)
	}
	switch {
	case e.Kind == entryHotBlock && len(e.Block) > 0:
		u := &hotchain.Update{Index: index, Block: new(ledger.Block)}
		if err := ledger.Unmarshal(e.Block, u.Block); err != nil {
			return decodedEntry{}, fmt.Errorf("node: entry %d block: %w", index, err)
		}
		if err := u.Commitment.UnmarshalBinary(e.Commitment); err != nil {
			return decodedEntry{}, fmt.Errorf("node: entry %d commitment: %w", index, err)
		}
		return decodedEntry{update: u, block: e.Block}, nil
	case e.Kind == entryMember && e.Member != nil && e.Member.ID != "":
		return decodedEntry{member: e.Member}, nil
	case e.Kind == entryColdBlock && e.Cold != nil:
		for i := range e.Cold.Txs {
			if err := e.Cold.Txs[i].Validate(); err != nil {
				return decodedEntry{}, fmt.Errorf("node: entry %d cold tx %d: %w", index, i, err)
			}
		}
		return decodedEntry{cold: e.Cold}, nil
	}
	return decodedEntry{}, fmt.Errorf("node: entry %d: unknown kind %d", index, e.Kind)
}
