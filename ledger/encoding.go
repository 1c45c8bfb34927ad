package ledger

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// Size limits for decoded input. Decoders reject anything larger before
// allocating for it.
const (
	MaxTxSize     = 128 << 10 // one encoded transaction
	MaxArgsSize   = 64 << 10  // a transaction's arguments
	MaxNameSize   = 64        // chain id, function name
	MaxBlockSize  = 64 << 20  // one encoded block
	MaxBlockItems = 1 << 20   // txs, receipts or writes in one block
)

var (
	encMode cbor.EncMode
	decMode cbor.DecMode
)

func init() {
	var err error
	encOpts := cbor.CoreDetEncOptions()
	// nil and empty are the same value (a JSON round trip turns one into
	// the other), so they must have one encoding.
	encOpts.NilContainers = cbor.NilContainerAsEmpty
	if encMode, err = encOpts.EncMode(); err != nil {
		panic(err)
	}
	decMode, err = cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		MaxNestedLevels:   16,
		MaxArrayElements:  MaxBlockItems,
		MaxMapPairs:       1024,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		UTF8:              cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		panic(err)
	}
}

// Marshal encodes v in CBOR's core deterministic mode.
func Marshal(v any) ([]byte, error) { return encMode.Marshal(v) }

// Unmarshal decodes exactly one CBOR item into v: trailing bytes, unknown
// fields, indefinite lengths, tags and invalid UTF-8 are errors.
func Unmarshal(b []byte, v any) error {
	if err := decMode.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %v", ErrBadEncoding, err)
	}
	return nil
}

// mustMarshal encodes values whose types cannot fail to encode.
func mustMarshal(v any) []byte {
	b, err := encMode.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("ledger: encode %T: %v", v, err))
	}
	return b
}
