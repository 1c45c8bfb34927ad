package node

import (
	"errors"
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

// tracedEntry is a hot block entry whose block has VM traces: entry's five
// items, then the traces (at least one, by increasing index). A block
// without traces is an entry, so its bytes are what they were before
// traces existed, and the entries of older logs decode as they did.
type tracedEntry struct {
	_          struct{} `cbor:",toarray"`
	Kind       uint8
	Block      cbor.RawMessage
	Commitment []byte
	Member     *memberInfo
	Cold       *coldEntry
	Traces     []hotchain.TxTrace
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
// entry, or of the tracedEntry when some of the block's transactions have
// a VM trace (entry_test.go holds it to that), in one buffer, without
// reflection for the block: it is most of the leader's log entry bytes.
func encodeBlockEntry(ex *execution) (data, block []byte, err error) {
	var traces []byte
	items := uint64(5)
	if len(ex.traces) > 0 {
		if traces, err = ledger.Marshal(ex.traces); err != nil {
			return nil, nil, err
		}
		items = 6
	}
	data = make([]byte, 0, 2+ex.block.EncodedSize()+3+hotchain.CommitmentSize+2+len(traces))
	data = ledger.AppendHead(data, ledger.MajorArray, items)
	data = ledger.AppendHead(data, ledger.MajorUint, uint64(entryHotBlock))
	start := len(data)
	data = ex.block.AppendCBOR(data)
	block = data[start:len(data):len(data)]
	data = ledger.AppendHead(data, ledger.MajorBytes, hotchain.CommitmentSize)
	if data, err = ex.commitment.AppendBinary(data); err != nil {
		return nil, nil, err
	}
	data = append(data, cborNull, cborNull) // no member, no cold block
	return append(data, traces...), block, nil
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
	block  []byte             // update.Block in canonical CBOR
	traces []hotchain.TxTrace // the VM traces of update.Block's transactions, if any
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
// aliases data. Traces, when the entry has them, are read by the generic
// decoder: they are small next to the block, and rare.
func decodeBlockEntry(index uint64, data []byte) (decodedEntry, bool) {
	const head = 2 // array of 5 (or 6, with traces), kind
	if len(data) < head || (data[0] != ledger.MajorArray|5 && data[0] != ledger.MajorArray|6) || data[1] != entryHotBlock {
		return decodedEntry{}, false
	}
	b, n, ok := ledger.DecodeBlockPrefix(data[head:])
	if !ok {
		return decodedEntry{}, false
	}
	block, rest := data[head:head+n:head+n], data[head+n:]
	tail := len(blockEntryTail) + hotchain.CommitmentSize + 2
	if len(rest) < tail || (data[0] == ledger.MajorArray|5 && len(rest) != tail) ||
		string(rest[:len(blockEntryTail)]) != string(blockEntryTail) || rest[tail-2] != cborNull || rest[tail-1] != cborNull {
		return decodedEntry{}, false
	}
	u := &hotchain.Update{Index: index, Block: &b}
	if err := u.Commitment.UnmarshalBinary(rest[len(blockEntryTail) : tail-2]); err != nil {
		return decodedEntry{}, false
	}
	d := decodedEntry{update: u, block: block}
	if data[0] == ledger.MajorArray|6 {
		var err error
		if d.traces, err = decodeTraces(rest[tail:], len(b.Txs)); err != nil {
			return decodedEntry{}, false
		}
	}
	return d, true
}

// decodeTraces reads the traces of a block of txs transactions: at least
// one, each of a transaction of the block, by increasing index.
func decodeTraces(data []byte, txs int) ([]hotchain.TxTrace, error) {
	var traces []hotchain.TxTrace
	if err := ledger.Unmarshal(data, &traces); err != nil {
		return nil, err
	}
	if len(traces) == 0 {
		return nil, errNoTraces
	}
	return traces, hotchain.CheckTraces(traces, txs)
}

// errNoTraces: a block entry has a traces item with none in it (an entry
// without traces has no such item).
var errNoTraces = errors.New("node: block entry with an empty list of traces")

// decodeEntryGeneric reads any log entry with the generic decoder.
func decodeEntryGeneric(index uint64, data []byte) (decodedEntry, error) {
	if len(data) > 0 && data[0] == ledger.MajorArray|6 {
		return decodeTracedEntry(index, data)
	}
	var e entry
	if err := ledger.Unmarshal(data, &e); err != nil {
		return decodedEntry{}, fmt.Errorf("node: entry %d: %w", index, err)
	}
	switch {
	case e.Kind == entryHotBlock && len(e.Block) > 0:
		return decodeHotBlock(index, e.Block, e.Commitment)
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

// decodeHotBlock reads the block and commitment of a hot block entry.
func decodeHotBlock(index uint64, block cbor.RawMessage, commitment []byte) (decodedEntry, error) {
	u := &hotchain.Update{Index: index, Block: new(ledger.Block)}
	if err := ledger.Unmarshal(block, u.Block); err != nil {
		return decodedEntry{}, fmt.Errorf("node: entry %d block: %w", index, err)
	}
	if err := u.Commitment.UnmarshalBinary(commitment); err != nil {
		return decodedEntry{}, fmt.Errorf("node: entry %d commitment: %w", index, err)
	}
	return decodedEntry{update: u, block: block}, nil
}

// decodeTracedEntry reads a hot block entry with traces (tracedEntry) with
// the generic decoder.
func decodeTracedEntry(index uint64, data []byte) (decodedEntry, error) {
	var e tracedEntry
	if err := ledger.Unmarshal(data, &e); err != nil {
		return decodedEntry{}, fmt.Errorf("node: entry %d: %w", index, err)
	}
	if e.Kind != entryHotBlock || len(e.Block) == 0 || e.Member != nil || e.Cold != nil {
		return decodedEntry{}, fmt.Errorf("node: entry %d: traces in an entry of kind %d that is not only a hot block", index, e.Kind)
	}
	d, err := decodeHotBlock(index, e.Block, e.Commitment)
	if err != nil {
		return decodedEntry{}, err
	}
	if len(e.Traces) == 0 {
		return decodedEntry{}, fmt.Errorf("node: entry %d: %w", index, errNoTraces)
	}
	if err := hotchain.CheckTraces(e.Traces, len(d.update.Block.Txs)); err != nil {
		return decodedEntry{}, fmt.Errorf("node: entry %d: %w", index, err)
	}
	d.traces = e.Traces
	return d, nil
}
