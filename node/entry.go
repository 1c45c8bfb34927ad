package node

import (
	"fmt"

	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/ledger"
)

// Log entry kinds. Cold blocks (the bridge's checkpoints) get their own kind
// when the cold chain arrives.
const entryHotBlock uint8 = 1

// entry is one log entry: a block with its effects, and the full state
// commitment after it (the block header carries only its digest).
type entry struct {
	_          struct{} `cbor:",toarray"`
	Kind       uint8
	Block      *ledger.Block
	Commitment []byte
}

func encodeEntry(ex *execution) ([]byte, error) {
	c, err := ex.commitment.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return ledger.Marshal(entry{Kind: entryHotBlock, Block: ex.block, Commitment: c})
}

// decodeEntry reads a log entry into a store update at index.
func decodeEntry(index uint64, data []byte) (*hotchain.Update, error) {
	var e entry
	if err := ledger.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("node: entry %d: %w", index, err)
	}
	if e.Kind != entryHotBlock || e.Block == nil {
		return nil, fmt.Errorf("node: entry %d: unknown kind %d", index, e.Kind)
	}
	u := &hotchain.Update{Index: index, Block: e.Block}
	if err := u.Commitment.UnmarshalBinary(e.Commitment); err != nil {
		return nil, fmt.Errorf("node: entry %d commitment: %w", index, err)
	}
	return u, nil
}
