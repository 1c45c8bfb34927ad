package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/bits"
	"os"
	"time"
)

// Genesis is the chain's starting point: its id and the initial balances of
// the base token.
type Genesis struct {
	ChainID string       `json:"chain_id"`
	Time    time.Time    `json:"time"`
	Alloc   []Allocation `json:"alloc"`
}

// Allocation gives an account a starting balance.
type Allocation struct {
	Address Address `json:"address"`
	Amount  uint64  `json:"amount"`
}

// Validate checks the chain id, that no account appears twice, and that the
// supply fits in 64 bits.
func (g *Genesis) Validate() error {
	if g.ChainID == "" || len(g.ChainID) > MaxNameSize {
		return fmt.Errorf("%w: chain id must be 1 to %d bytes", ErrBadGenesis, MaxNameSize)
	}
	seen := make(map[Address]bool, len(g.Alloc))
	var supply uint64
	for _, a := range g.Alloc {
		if seen[a.Address] {
			return fmt.Errorf("%w: %s allocated twice", ErrBadGenesis, a.Address)
		}
		seen[a.Address] = true
		var carry uint64
		if supply, carry = bits.Add64(supply, a.Amount, 0); carry != 0 {
			return fmt.Errorf("%w: supply overflows 64 bits", ErrBadGenesis)
		}
	}
	return nil
}

// Supply is the sum of all allocations.
func (g *Genesis) Supply() uint64 {
	var s uint64
	for _, a := range g.Alloc {
		s += a.Amount
	}
	return s
}

// Hash identifies the genesis: SHA-256 of its canonical CBOR encoding.
func (g *Genesis) Hash() Hash {
	return sha256.Sum256(mustMarshal(struct {
		_       struct{} `cbor:",toarray"`
		ChainID string
		Time    int64
		Alloc   []Allocation
	}{ChainID: g.ChainID, Time: g.Time.UnixNano(), Alloc: g.Alloc}))
}

// WriteGenesisFile writes g as indented JSON.
func WriteGenesisFile(path string, g *Genesis) error {
	data, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// LoadGenesisFile reads and validates a genesis file.
func LoadGenesisFile(path string) (*Genesis, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ledger: read genesis: %w", err)
	}
	var g Genesis
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return nil, fmt.Errorf("%w %s: %v", ErrBadGenesis, path, err)
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &g, nil
}
