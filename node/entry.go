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
// own encoding within it too. It writes what ledger.Marshal makes of the
// entry (entry_test.go holds it to that) in one buffer, without reflection:
// the block is most of the leader's log entry bytes.
func encodeBlockEntry(ex *execution) (data, block []byte, err error) {
	data = make([]byte, 0, 2+ex.block.EncodedSize()+3+hotchain.CommitmentSize+2)
	data = ledger.AppendHead(data, ledger.MajorArray, 5)
	data = ledger.AppendHead(data, ledger.MajorUint, uint64(entryHotBlock))
	start := len(data)
	data = ex.block.AppendCBOR(data)
	block = data[start:len(data):len(data)]
	data = ledger.AppendHead(data, ledger.MajorBytes, hotchain.CommitmentSize)
	if data, err = ex.commitment.AppendBinary(data); err != nil {
		return nil, nil, err
	}
	return append(data, cborNull, cborNull), block, nil // no member, no cold block
}

// cborNull is CBOR's null: a nil pointer field in an entry.
const cborNull = 0xf6

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
	if d, ok := decodeBlockEntry(index, data); ok {
		return d, nil
	}
	return decodeEntryGeneric(index, data)
}

// blockEntryTail is what follows the block in a hot block entry as
// encodeBlockEntry writes it: the commitment's byte string head (its
// bytes follow), then no member and no cold block.
var blockEntryTail = ledger.AppendHead(nil, ledger.MajorBytes, hotchain.CommitmentSize)

// decodeBlockEntry reads a hot block entry exactly as encodeBlockEntry
// writes it (every block entry a follower applies), without the generic
// decoder's pass over the whole entry and its copy of the block; ok is
// false for anything else, which decodeEntryGeneric reads as it always
// did. What it returns is what decodeEntryGeneric returns for the same
// bytes (entry_test.go holds it to that). The block's encoding it returns
// aliases data.
func decodeBlockEntry(index uint64, data []byte) (decodedEntry, bool) {
	const head = 2 // array of 5, kind
	if len(data) < head || data[0] != ledger.MajorArray|5 || data[1] != entryHotBlock {
		return decodedEntry{}, false
	}
	b, n, ok := ledger.DecodeBlockPrefix(data[head:])
	if !ok {
		return decodedEntry{}, false
	}
	block, rest := data[head:head+n:head+n], data[head+n:]
	if len(rest) != len(blockEntryTail)+hotchain.CommitmentSize+2 ||
		string(rest[:len(blockEntryTail)]) != string(blockEntryTail) || rest[len(rest)-2] != cborNull || rest[len(rest)-1] != cborNull {
		return decodedEntry{}, false
	}
	u := &hotchain.Update{Index: index, Block: &b}
	if err := u.Commitment.UnmarshalBinary(rest[len(blockEntryTail) : len(rest)-2]); err != nil {
		return decodedEntry{}, false
	}
	return decodedEntry{update: u, block: block}, true
}

// decodeEntryGeneric reads any log entry with the generic decoder.
func decodeEntryGeneric(index uint64, data []byte) (decodedEntry, error) {
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
