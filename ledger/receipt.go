package ledger

import "fmt"

// Status is a receipt's outcome: OK, or the code of what went wrong.
type Status uint16

// Receipt statuses. Codes are stable: clients match on them.
const (
	StatusOK                Status = 0
	StatusInsufficientFunds Status = 1
	StatusOverflow          Status = 2
	StatusBadArgs           Status = 3
	StatusOutOfGas          Status = 4
	StatusUnknownFunction   Status = 5
	StatusAborted           Status = 6
)

var statusNames = map[Status]string{
	StatusOK:                "ok",
	StatusInsufficientFunds: "insufficient_funds",
	StatusOverflow:          "overflow",
	StatusBadArgs:           "bad_args",
	StatusOutOfGas:          "out_of_gas",
	StatusUnknownFunction:   "unknown_function",
	StatusAborted:           "aborted",
}

func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("status(%d)", uint16(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Status) UnmarshalText(b []byte) error {
	for k, n := range statusNames {
		if n == string(b) {
			*s = k
			return nil
		}
	}
	return fmt.Errorf("%w: unknown status %q", ErrBadEncoding, b)
}

// Path says how a call was executed.
type Path uint8

const (
	PathNative Path = 1 // an optimistic native function
	PathVM     Path = 2 // the WebAssembly VM
)

func (p Path) String() string {
	switch p {
	case PathNative:
		return "native"
	case PathVM:
		return "vm"
	}
	return fmt.Sprintf("path(%d)", uint8(p))
}

// MarshalText implements encoding.TextMarshaler.
func (p Path) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Path) UnmarshalText(b []byte) error {
	switch string(b) {
	case "native":
		*p = PathNative
	case "vm":
		*p = PathVM
	default:
		return fmt.Errorf("%w: unknown path %q", ErrBadEncoding, b)
	}
	return nil
}

// Event is something a contract call reported.
type Event struct {
	_    struct{} `cbor:",toarray"`
	Name string   `json:"name"`
	Data Bytes    `json:"data"`
}

// Receipt is the outcome of one transaction in a block.
type Receipt struct {
	_       struct{} `cbor:",toarray"`
	TxID    Hash     `json:"tx_id"`
	Status  Status   `json:"status"`
	GasUsed uint64   `json:"gas_used"`
	Path    Path     `json:"path"`
	Error   string   `json:"error,omitempty"`
	Events  []Event  `json:"events,omitempty"`
	Result  Bytes    `json:"result,omitempty"` // what the call returned (a deploy: the new contract's address)
}

// TxRecord is a transaction included in a block, with its receipt and
// position.
type TxRecord struct {
	_       struct{} `cbor:",toarray"`
	Tx      Tx       `json:"tx"`
	Receipt Receipt  `json:"receipt"`
	Height  uint64   `json:"height"`
	Index   uint32   `json:"index"`
}

// Account is an account's hot-chain state.
type Account struct {
	Address Address `json:"address"`
	Balance uint64  `json:"balance"`
	Nonce   uint64  `json:"nonce"` // next nonce, as committed
	// PendingNonce is the next nonce after the node's pending transactions
	// of the account: the one to sign with next. At least Nonce.
	PendingNonce uint64 `json:"pending_nonce"`
}
