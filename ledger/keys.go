package ledger

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Key is an account's signing key.
type Key struct {
	Private ed25519.PrivateKey
	Address Address
}

// NewKey makes a key from the operating system's random source.
func NewKey() (*Key, error) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return nil, fmt.Errorf("ledger: generate key: %w", err)
	}
	return &Key{Private: priv, Address: Address(pub)}, nil
}

// KeyFromSeed makes the key for a 32-byte seed (tests and benchmarks).
func KeyFromSeed(seed []byte) *Key {
	priv := ed25519.NewKeyFromSeed(seed)
	return &Key{Private: priv, Address: Address(priv.Public().(ed25519.PublicKey))}
}

// keyFile is the JSON form of a key on disk.
type keyFile struct {
	Type    string  `json:"type"`
	Address Address `json:"address"`
	Seed    string  `json:"seed"` // 32-byte ed25519 seed, hex
}

const keyType = "ed25519"

// WriteKeyFile writes the key to path, readable by its owner only (0600).
// It refuses to overwrite an existing file. The file appears whole or not
// at all: it is written and synced aside, then linked into place (a link
// fails if path exists).
func WriteKeyFile(path string, k *Key) error {
	data, err := json.MarshalIndent(keyFile{
		Type: keyType, Address: k.Address, Seed: hex.EncodeToString(k.Private.Seed()),
	}, "", "  ")
	if err != nil {
		return err
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("ledger: write key file: %s: %w", path, fs.ErrExist)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".key-*")
	if err != nil {
		return fmt.Errorf("ledger: write key file: %w", err)
	}
	defer os.Remove(f.Name())
	if err := writeSynced(f, append(data, '\n')); err != nil {
		return fmt.Errorf("ledger: write key file: %w", err)
	}
	if err := os.Link(f.Name(), path); err != nil {
		return fmt.Errorf("ledger: write key file: %w", err)
	}
	return nil
}

// writeSynced writes data to f (created 0600 by os.CreateTemp), syncs and
// closes it.
func writeSynced(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// LoadKeyFile reads a key written by WriteKeyFile and checks that its seed
// and address agree.
func LoadKeyFile(path string) (*Key, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("ledger: key file %s does not exist (make one with 'dualchain keys new --out %s'): %w", path, path, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: read key file: %w", err)
	}
	return ParseKeyFile(data, path)
}

// ParseKeyFile parses the contents of a key file; name is used in errors.
func ParseKeyFile(data []byte, name string) (*Key, error) {
	var kf keyFile
	if err := json.Unmarshal(data, &kf); err != nil {
		return nil, fmt.Errorf("%w %s: %v", ErrBadKeyFile, name, err)
	}
	if kf.Type != keyType {
		return nil, fmt.Errorf("%w %s: type %q, want %q", ErrBadKeyFile, name, kf.Type, keyType)
	}
	seed, err := hex.DecodeString(kf.Seed)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("%w %s: seed must be %d bytes of hex", ErrBadKeyFile, name, ed25519.SeedSize)
	}
	k := KeyFromSeed(seed)
	if k.Address != kf.Address {
		return nil, fmt.Errorf("%w %s: address %s does not match the seed (%s)", ErrBadKeyFile, name, kf.Address, k.Address)
	}
	return k, nil
}
