package ledger

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"unicode/utf8"
)

// Chain names one of the two chains a transaction targets.
type Chain uint8

const (
	Hot  Chain = 1
	Cold Chain = 2
)

func (c Chain) String() string {
	switch c {
	case Hot:
		return "hot"
	case Cold:
		return "cold"
	}
	return fmt.Sprintf("chain(%d)", uint8(c))
}

// ParseChain reads "hot" or "cold".
func ParseChain(s string) (Chain, error) {
	switch s {
	case "hot":
		return Hot, nil
	case "cold":
		return Cold, nil
	}
	return 0, fmt.Errorf("%w: chain %q: want hot or cold", ErrBadTx, s)
}

// MarshalText implements encoding.TextMarshaler.
func (c Chain) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (c *Chain) UnmarshalText(b []byte) error {
	v, err := ParseChain(string(b))
	*c = v
	return err
}

// Signature is an ed25519 signature.
type Signature [64]byte

// MarshalCBOR encodes the signature as a 64-byte CBOR byte string.
func (s Signature) MarshalCBOR() ([]byte, error) { return marshalFixed(s[:]), nil }

// UnmarshalCBOR accepts only a 64-byte CBOR byte string.
func (s *Signature) UnmarshalCBOR(b []byte) error { return unmarshalFixed(s[:], b) }

// MarshalText implements encoding.TextMarshaler: 128 hex digits.
func (s Signature) MarshalText() ([]byte, error) { return Bytes(s[:]).MarshalText() }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Signature) UnmarshalText(t []byte) error {
	var b Bytes
	if err := b.UnmarshalText(t); err != nil {
		return err
	}
	if len(b) != len(s) {
		return fmt.Errorf("%w: signature of %d bytes, want %d", ErrBadEncoding, len(b), len(s))
	}
	copy(s[:], b)
	return nil
}

// Tx is a signed transaction. Its CBOR form is an array in field order.
type Tx struct {
	_        struct{}  `cbor:",toarray"`
	ChainID  string    `json:"chain_id"`
	Chain    Chain     `json:"chain"`
	Nonce    uint64    `json:"nonce"`
	From     Address   `json:"from"`
	Contract Address   `json:"contract"`
	Function string    `json:"function"`
	Args     Bytes     `json:"args"` // CBOR, as the contract defines
	GasLimit uint64    `json:"gas_limit"`
	Sig      Signature `json:"sig"`
}

// signingTag domain-separates transaction signatures and ids from every
// other message a key might sign.
const signingTag = "dualchain/tx/v1\x00"

// SigningBytes returns the bytes the sender signs: a domain tag and the
// canonical encoding of every field but the signature, chain id first.
func (tx *Tx) SigningBytes() []byte {
	b := make([]byte, 0, len(signingTag)+tx.encodedBodySize())
	return tx.appendBody(append(b, signingTag...), 8)
}

// ID returns the transaction id: SHA-256 of the signing bytes.
func (tx *Tx) ID() Hash { return sha256.Sum256(tx.SigningBytes()) }

// Sign fills in Sig with the key's signature. The key must belong to From.
func (tx *Tx) Sign(key ed25519.PrivateKey) {
	copy(tx.Sig[:], ed25519.Sign(key, tx.SigningBytes()))
}

// Validate checks what can be checked without state or signature: sizes,
// names and the chain.
func (tx *Tx) Validate() error {
	switch {
	case !utf8.ValidString(tx.ChainID) || !utf8.ValidString(tx.Function):
		return fmt.Errorf("%w: chain id and function name must be UTF-8", ErrBadTx)
	case tx.ChainID == "" || len(tx.ChainID) > MaxNameSize:
		return fmt.Errorf("%w: chain id must be 1 to %d bytes", ErrBadTx, MaxNameSize)
	case tx.Chain != Hot && tx.Chain != Cold:
		return fmt.Errorf("%w: unknown chain %d", ErrBadTx, tx.Chain)
	case tx.Function == "" || len(tx.Function) > MaxNameSize:
		return fmt.Errorf("%w: function name must be 1 to %d bytes", ErrBadTx, MaxNameSize)
	case len(tx.Args) > MaxArgsSize:
		return fmt.Errorf("%w: args of %d bytes, limit %d", ErrTooLarge, len(tx.Args), MaxArgsSize)
	}
	return nil
}

// Encode returns the canonical CBOR encoding of the signed transaction.
func (tx *Tx) Encode() []byte {
	return tx.AppendCBOR(make([]byte, 0, tx.EncodedSize()))
}

// EncodedSize bounds the length of Encode's output, so a caller appending
// it to a buffer can allocate once.
func (tx *Tx) EncodedSize() int { return tx.encodedBodySize() + 66 }

// MarshalCBOR makes every encoder of a Tx (alone, or inside a block or a
// batch) use Encode.
func (tx Tx) MarshalCBOR() ([]byte, error) { return tx.Encode(), nil }

// DecodeTx decodes and validates one transaction.
func DecodeTx(b []byte) (*Tx, error) {
	if len(b) > MaxTxSize {
		return nil, fmt.Errorf("%w: transaction of %d bytes, limit %d", ErrTooLarge, len(b), MaxTxSize)
	}
	tx := new(Tx)
	if t, ok := decodeCanonicalTx(b); ok {
		*tx = t // what Unmarshal would give, without its copy of b (txdecode.go)
	} else if err := Unmarshal(b, tx); err != nil {
		return nil, err
	}
	if err := tx.Validate(); err != nil {
		return nil, err
	}
	return tx, nil
}
