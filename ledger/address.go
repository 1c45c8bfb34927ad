package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// AddressPrefix starts the text form of every address.
const AddressPrefix = "dc"

// Address identifies an account or a contract. For an account it is the
// account's ed25519 public key.
type Address [32]byte

// Hash is a SHA-256 digest: a transaction id, a block hash, a commitment.
type Hash [32]byte

// ContractAddress derives the address of a built-in contract from its name.
func ContractAddress(name string) Address {
	return Address(sha256.Sum256([]byte("dualchain/contract/" + name)))
}

// DeployAddress is the address deploy transactions name as their contract,
// with function FuncDeploy and the module's bytes as arguments.
var DeployAddress = ContractAddress("deploy")

// FuncDeploy is the function name of a deploy transaction.
const FuncDeploy = "deploy"

// DeployedAddress is the address of the contract that deployer's
// transaction with nonce deploys.
func DeployedAddress(deployer Address, nonce uint64) Address {
	b := make([]byte, 0, 64)
	b = append(b, "dualchain/deploy/v1"...)
	b = append(b, deployer[:]...)
	b = binary.BigEndian.AppendUint64(b, nonce)
	return Address(sha256.Sum256(b))
}

// String returns "dc" followed by 64 lowercase hex digits.
func (a Address) String() string { return AddressPrefix + hex.EncodeToString(a[:]) }

// ParseAddress reads the text form of an address; the "dc" prefix is optional.
func ParseAddress(s string) (Address, error) {
	var a Address
	h := strings.TrimSpace(s)
	if len(h) == len(AddressPrefix)+2*len(a) {
		h = strings.TrimPrefix(h, AddressPrefix)
	}
	if len(h) != 2*len(a) {
		return a, fmt.Errorf("%w: %q: want %q and 64 hex digits", ErrBadAddress, s, AddressPrefix)
	}
	if _, err := hex.Decode(a[:], []byte(h)); err != nil {
		return a, fmt.Errorf("%w: %q: %v", ErrBadAddress, s, err)
	}
	return a, nil
}

// MarshalText implements encoding.TextMarshaler (used by JSON).
func (a Address) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (used by JSON).
func (a *Address) UnmarshalText(b []byte) error {
	v, err := ParseAddress(string(b))
	*a = v
	return err
}

// MarshalCBOR encodes the address as a 32-byte CBOR byte string.
func (a Address) MarshalCBOR() ([]byte, error) { return marshalFixed(a[:]), nil }

// UnmarshalCBOR accepts only a 32-byte CBOR byte string.
func (a *Address) UnmarshalCBOR(b []byte) error { return unmarshalFixed(a[:], b) }

// String returns the hash as 64 lowercase hex digits.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ParseHash reads 64 hex digits.
func ParseHash(s string) (Hash, error) {
	var h Hash
	s = strings.TrimPrefix(strings.TrimSpace(s), "0x")
	if len(s) != 2*len(h) {
		return h, fmt.Errorf("%w: %q: want 64 hex digits", ErrBadHash, s)
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("%w: %q: %v", ErrBadHash, s, err)
	}
	return h, nil
}

// MarshalText implements encoding.TextMarshaler.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *Hash) UnmarshalText(b []byte) error {
	v, err := ParseHash(string(b))
	*h = v
	return err
}

// MarshalCBOR encodes the hash as a 32-byte CBOR byte string.
func (h Hash) MarshalCBOR() ([]byte, error) { return marshalFixed(h[:]), nil }

// UnmarshalCBOR accepts only a 32-byte CBOR byte string.
func (h *Hash) UnmarshalCBOR(b []byte) error { return unmarshalFixed(h[:], b) }

// marshalFixed encodes a byte string of 24 to 255 bytes (header 0x58, length).
func marshalFixed(b []byte) []byte {
	out := make([]byte, 2+len(b))
	out[0], out[1] = 0x58, byte(len(b))
	copy(out[2:], b)
	return out
}

// unmarshalFixed accepts exactly the canonical encoding marshalFixed makes.
func unmarshalFixed(dst, b []byte) error {
	if len(b) != 2+len(dst) || b[0] != 0x58 || int(b[1]) != len(dst) {
		return fmt.Errorf("%w: want a %d-byte byte string", ErrBadEncoding, len(dst))
	}
	copy(dst, b[2:])
	return nil
}

// Bytes is a byte string shown as hex in JSON (CBOR keeps it binary).
type Bytes []byte

// MarshalText implements encoding.TextMarshaler.
func (b Bytes) MarshalText() ([]byte, error) {
	out := make([]byte, hex.EncodedLen(len(b)))
	hex.Encode(out, b)
	return out, nil
}

// UnmarshalText implements encoding.TextUnmarshaler; a "0x" prefix is allowed.
func (b *Bytes) UnmarshalText(t []byte) error {
	t = []byte(strings.TrimPrefix(string(t), "0x"))
	out := make([]byte, hex.DecodedLen(len(t)))
	if _, err := hex.Decode(out, t); err != nil {
		return fmt.Errorf("%w: hex: %v", ErrBadEncoding, err)
	}
	*b = out
	return nil
}

// UnmarshalCBOR accepts only a definite-length CBOR byte string (major
// type 2); the generic decoder would also take an array of small integers.
func (b *Bytes) UnmarshalCBOR(data []byte) error {
	if len(data) == 0 || data[0]>>5 != 2 {
		return fmt.Errorf("%w: want a byte string", ErrBadEncoding)
	}
	var raw []byte
	if err := decMode.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("%w: %v", ErrBadEncoding, err)
	}
	if len(raw) == 0 {
		raw = nil // as encoded: nil and empty encode alike
	}
	*b = raw
	return nil
}
