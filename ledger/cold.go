package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// BridgeAddress is the address bridge transactions name as their contract:
// a settle on the hot chain, a deposit on the cold chain. It is not a
// deployed contract; the node runs both natively.
var BridgeAddress = ContractAddress("bridge")

// The bridge's functions. Both take the amount as their only argument,
// encoded by EncodeAmount.
const (
	FuncSettle  = "settle"  // hot chain: move the amount from the sender's hot balance to its cold one
	FuncDeposit = "deposit" // cold chain: move the amount from the sender's cold balance to its hot one
)

// AmountArgsSize is the size of a settle's or deposit's arguments.
const AmountArgsSize = 8

// EncodeAmount encodes a settle's or deposit's arguments: the amount, 8
// bytes big-endian.
func EncodeAmount(amount uint64) []byte { return binary.BigEndian.AppendUint64(nil, amount) }

// DecodeAmount decodes what EncodeAmount encodes; the amount must be
// positive.
func DecodeAmount(b []byte) (uint64, error) {
	if len(b) != AmountArgsSize {
		return 0, fmt.Errorf("%w: bridge args must be the amount as 8 bytes big-endian, got %d bytes", ErrBadTx, len(b))
	}
	v := binary.BigEndian.Uint64(b)
	if v == 0 {
		return 0, fmt.Errorf("%w: bridge amount must be positive", ErrBadTx)
	}
	return v, nil
}

// IsBridgeCall reports whether tx calls the bridge's function for its chain:
// a settle on the hot chain or a deposit on the cold chain.
func (tx *Tx) IsBridgeCall() bool {
	return tx.Contract == BridgeAddress &&
		(tx.Chain == Hot && tx.Function == FuncSettle || tx.Chain == Cold && tx.Function == FuncDeposit)
}

// Checkpoint is the hot chain's head as a cold block recorded it: what the
// cold chain's mirror of hot state holds.
type Checkpoint struct {
	_          struct{} `cbor:",toarray"`
	HotHeight  uint64   `json:"hot_height"`
	HotHash    Hash     `json:"hot_hash"`       // the hash of the hot block at HotHeight
	Commitment Hash     `json:"hot_commitment"` // the hot state commitment's digest there
}

// ColdHeader is a cold block's header.
type ColdHeader struct {
	_          struct{}   `cbor:",toarray"`
	ChainID    string     `json:"chain_id"`
	Height     uint64     `json:"height"`
	Parent     Hash       `json:"parent"`
	Time       int64      `json:"time"` // leader's clock, unix nanoseconds; informational only
	Checkpoint Checkpoint `json:"checkpoint"`
	TxRoot     Hash       `json:"tx_root"`
	ResultRoot Hash       `json:"result_root"` // receipts and bridge transfers
	StateRoot  Hash       `json:"state_root"`  // the Merkle root of cold accounts after this block
}

// Hash returns the header's hash, which the next cold block names as its
// parent.
func (h *ColdHeader) Hash() Hash {
	return sha256.Sum256(append([]byte("dualchain/cold-header/v1\x00"), mustMarshal(h)...))
}

// BridgeKind tells a settle from a deposit.
type BridgeKind uint8

// Bridge transfer kinds.
const (
	KindSettle  BridgeKind = 1 // hot → cold
	KindDeposit BridgeKind = 2 // cold → hot
)

func (k BridgeKind) String() string {
	switch k {
	case KindSettle:
		return "settle"
	case KindDeposit:
		return "deposit"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// MarshalText writes the kind's name.
func (k BridgeKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name.
func (k *BridgeKind) UnmarshalText(b []byte) error {
	switch string(b) {
	case "settle":
		*k = KindSettle
	case "deposit":
		*k = KindDeposit
	default:
		return fmt.Errorf("%w: unknown bridge transfer kind %q", ErrBadEncoding, b)
	}
	return nil
}

// BridgeTransfer is value moving between the chains. Its ID is the id of
// the transaction that started it: the hot settle or the cold deposit.
type BridgeTransfer struct {
	_      struct{}   `cbor:",toarray"`
	ID     Hash       `json:"id"`
	Kind   BridgeKind `json:"kind"`
	Owner  Address    `json:"owner"`
	Amount uint64     `json:"amount"`
}

// ColdBlock is a block of the cold chain: a checkpoint of the hot chain,
// the settlements it credited, the cold transactions (transfers and
// deposits) with their receipts, and the deposits whose hot credit the
// checkpoint saw.
type ColdBlock struct {
	_           struct{}         `cbor:",toarray"`
	Header      ColdHeader       `json:"header"`
	Txs         []Tx             `json:"txs"`
	Receipts    []Receipt        `json:"receipts"`
	Settlements []BridgeTransfer `json:"settlements"` // credited to cold accounts by this checkpoint
	Deposits    []BridgeTransfer `json:"deposits"`    // debited from cold accounts by this block's txs
	Credited    []Hash           `json:"credited"`    // deposits the checkpoint saw credited on the hot chain
}

// Seal sets the header's transaction and result roots from the body.
func (b *ColdBlock) Seal() {
	b.Header.TxRoot = TxRoot(b.Txs)
	b.Header.ResultRoot = sha256.Sum256(mustMarshal(struct {
		_           struct{} `cbor:",toarray"`
		Receipts    []Receipt
		Settlements []BridgeTransfer
		Deposits    []BridgeTransfer
		Credited    []Hash
	}{Receipts: b.Receipts, Settlements: b.Settlements, Deposits: b.Deposits, Credited: b.Credited}))
}
