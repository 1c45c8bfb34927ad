package ledger_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

func TestKeyFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.key")
	k, err := ledger.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := ledger.WriteKeyFile(path, k); err != nil {
		t.Fatalf("WriteKeyFile(%s) = %v, want nil", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("WriteKeyFile(%s) mode = %v, want %v", path, perm, fs.FileMode(0o600))
	}
	got, err := ledger.LoadKeyFile(path)
	if err != nil {
		t.Fatalf("LoadKeyFile(%s) = %v, want nil", path, err)
	}
	if got.Address != k.Address || !bytes.Equal(got.Private, k.Private) {
		t.Errorf("LoadKeyFile(%s) = %v, want %v", path, got.Address, k.Address)
	}
	// The loaded key signs for its address.
	tx := unsignedTx(got, 1)
	tx.Sign(got.Private)
	if _, err := tx.Verify(); err != nil {
		t.Errorf("Verify() of a tx signed with a loaded key = %v, want nil", err)
	}
}

func TestWriteKeyFileRefusesOverwrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.key")
	if err := ledger.WriteKeyFile(path, testKey(1)); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	err := ledger.WriteKeyFile(path, testKey(2))
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("WriteKeyFile(existing %s) = %v, want fs.ErrExist", path, err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Errorf("WriteKeyFile(existing %s) changed the file: %s, want %s", path, after, before)
	}
}

func TestLoadKeyFileMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.key")
	_, err := ledger.LoadKeyFile(path)
	if err == nil {
		t.Fatalf("LoadKeyFile(%s) = nil error, want one", path)
	}
	msg := err.Error()
	for _, want := range []string{path, "does not exist", "keys new"} {
		if !strings.Contains(msg, want) {
			t.Errorf("LoadKeyFile(%s) error %q, want it to mention %q", path, msg, want)
		}
	}
	// Callers (the CLI, node --dev) tell "no key yet" from "bad key".
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadKeyFile(%s) = %v, want errors.Is(err, fs.ErrNotExist)", path, err)
	}
	if errors.Is(err, ledger.ErrBadKeyFile) {
		t.Errorf("LoadKeyFile(%s) = %v, want not ErrBadKeyFile", path, err)
	}
}

func TestParseKeyFileBad(t *testing.T) {
	k := testKey(1)
	seed := hex.EncodeToString(k.Private.Seed())
	file := func(typ, addr, seed string) string {
		return fmt.Sprintf(`{"type":%q,"address":%q,"seed":%q}`, typ, addr, seed)
	}
	tests := []struct {
		name, data string
	}{
		{"empty", ""},
		{"not JSON", "ed25519 " + seed},
		{"truncated JSON", file("ed25519", k.Address.String(), seed)[:40]},
		{"JSON array", "[]"},
		{"empty object", "{}"},
		{"missing type", fmt.Sprintf(`{"address":%q,"seed":%q}`, k.Address, seed)},
		{"wrong type", file("secp256k1", k.Address.String(), seed)},
		{"type in upper case", file("ED25519", k.Address.String(), seed)},
		{"seed not hex", file("ed25519", k.Address.String(), "zz"+seed[2:])},
		{"seed too short", file("ed25519", k.Address.String(), seed[:62])},
		{"seed too long", file("ed25519", k.Address.String(), seed+"00")},
		{"seed is a private key", file("ed25519", k.Address.String(), hex.EncodeToString(k.Private))},
		{"seed missing", fmt.Sprintf(`{"type":"ed25519","address":%q}`, k.Address)},
		{"address of another key", file("ed25519", testKey(2).Address.String(), seed)},
		{"address malformed", file("ed25519", "dc1234", seed)},
		{"address missing", fmt.Sprintf(`{"type":"ed25519","seed":%q}`, seed)},
		{"seed as number", fmt.Sprintf(`{"type":"ed25519","address":%q,"seed":1}`, k.Address)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ledger.ParseKeyFile([]byte(tt.data), "test.key")
			if !errors.Is(err, ledger.ErrBadKeyFile) {
				t.Errorf("ParseKeyFile(%s) = %v, %v, want ErrBadKeyFile", tt.data, got, err)
			}
			if err != nil && !strings.Contains(err.Error(), "test.key") {
				t.Errorf("ParseKeyFile(%s) error %q, want it to name the file", tt.data, err)
			}
		})
	}
}

func TestLoadKeyFileBad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.key")
	if err := os.WriteFile(path, []byte(`{"type":"ed25519"`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.LoadKeyFile(path); !errors.Is(err, ledger.ErrBadKeyFile) || !strings.Contains(err.Error(), path) {
		t.Errorf("LoadKeyFile(%s) = %v, want ErrBadKeyFile naming the file", path, err)
	}
}

func TestKeyFromSeed(t *testing.T) {
	a, b := testKey(7), testKey(7)
	if a.Address != b.Address || !bytes.Equal(a.Private, b.Private) {
		t.Errorf("KeyFromSeed(same seed) = %v then %v, want equal", a.Address, b.Address)
	}
	if got := ledger.Address(a.Private[32:]); got != a.Address {
		t.Errorf("KeyFromSeed address = %v, want the public half of the key %v", a.Address, got)
	}
	n1, err1 := ledger.NewKey()
	n2, err2 := ledger.NewKey()
	if err1 != nil || err2 != nil || n1.Address == n2.Address {
		t.Errorf("NewKey() twice = %v, %v (errors %v, %v), want two different keys", n1.Address, n2.Address, err1, err2)
	}
}
