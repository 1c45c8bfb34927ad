package ledger_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

func TestAddressTextRoundTrip(t *testing.T) {
	addrs := []ledger.Address{
		{},
		testKey(1).Address,
		ledger.ContractAddress("token"),
		ledger.Address(bytes.Repeat([]byte{0xff}, 32)),
	}
	for _, a := range addrs {
		s := a.String()
		if !strings.HasPrefix(s, ledger.AddressPrefix) || len(s) != 66 || s != strings.ToLower(s) {
			t.Errorf("Address(%x).String() = %q, want %q and 64 lowercase hex digits", a[:], s, ledger.AddressPrefix)
		}
		got, err := ledger.ParseAddress(s)
		if err != nil || got != a {
			t.Errorf("ParseAddress(%q) = %v, %v, want %v, nil", s, got, err, a)
		}
		got, err = ledger.ParseAddress(s[len(ledger.AddressPrefix):])
		if err != nil || got != a {
			t.Errorf("ParseAddress(%q) (no prefix) = %v, %v, want %v, nil", s[2:], got, err, a)
		}
	}
}

// TestParseAddressUnprefixedDC covers addresses whose first byte is 0xdc:
// written without the optional prefix, their hex starts with "dc" too.
// The prefix is optional, so they must parse.
func TestParseAddressUnprefixedDC(t *testing.T) {
	var a ledger.Address
	a[0], a[31] = 0xdc, 0x01
	for _, s := range []string{a.String(), a.String()[2:]} {
		got, err := ledger.ParseAddress(s)
		if err != nil || got != a {
			t.Errorf("ParseAddress(%q) = %v, %v, want %v, nil", s, got, err, a)
		}
	}
}

func TestParseAddressBad(t *testing.T) {
	good := testKey(1).Address.String()
	tests := []struct {
		name, in string
	}{
		{"empty", ""},
		{"prefix only", "dc"},
		{"short", good[:65]},
		{"long", good + "0"},
		{"non-hex", good[:65] + "g"},
		{"space inside", good[:10] + " " + good[11:]},
		{"wrong prefix", "0x" + good[2:]},
		{"double prefix", "dc" + good},
		{"upper-case prefix", "DC" + good[2:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ledger.ParseAddress(tt.in)
			if !errors.Is(err, ledger.ErrBadAddress) {
				t.Errorf("ParseAddress(%q) = %v, %v, want ErrBadAddress", tt.in, got, err)
			}
		})
	}
}

func TestHashTextRoundTrip(t *testing.T) {
	hashes := []ledger.Hash{{}, signedTx(testKey(1), 1).ID(), ledger.Hash(bytes.Repeat([]byte{0xab}, 32))}
	for _, h := range hashes {
		s := h.String()
		if len(s) != 64 || s != strings.ToLower(s) {
			t.Errorf("Hash.String() = %q, want 64 lowercase hex digits", s)
		}
		for _, in := range []string{s, "0x" + s, " " + s + "\n", strings.ToUpper(s)} {
			got, err := ledger.ParseHash(in)
			if err != nil || got != h {
				t.Errorf("ParseHash(%q) = %v, %v, want %v, nil", in, got, err, h)
			}
		}
	}
}

func TestParseHashBad(t *testing.T) {
	good := signedTx(testKey(1), 1).ID().String()
	for _, in := range []string{"", "0x", good[:63], good + "00", good[:63] + "z", "dc" + good[2:] + "00"} {
		got, err := ledger.ParseHash(in)
		if !errors.Is(err, ledger.ErrBadHash) {
			t.Errorf("ParseHash(%q) = %v, %v, want ErrBadHash", in, got, err)
		}
	}
}

func TestAddressJSON(t *testing.T) {
	a := testKey(2).Address
	b, err := json.Marshal(a)
	if want := `"` + a.String() + `"`; err != nil || string(b) != want {
		t.Fatalf("json.Marshal(%v) = %s, %v, want %s", a, b, err, want)
	}
	var got ledger.Address
	if err := json.Unmarshal(b, &got); err != nil || got != a {
		t.Errorf("json.Unmarshal(%s) = %v, %v, want %v", b, got, err, a)
	}
	if err := json.Unmarshal([]byte(`"dc00"`), &got); !errors.Is(err, ledger.ErrBadAddress) {
		t.Errorf(`json.Unmarshal("dc00") error = %v, want ErrBadAddress`, err)
	}
}

func TestBytesText(t *testing.T) {
	tests := []struct {
		in      string
		want    ledger.Bytes
		wantErr error
	}{
		{"", ledger.Bytes{}, nil},
		{"0x", ledger.Bytes{}, nil},
		{"00ff", ledger.Bytes{0x00, 0xff}, nil},
		{"0x00FF", ledger.Bytes{0x00, 0xff}, nil},
		{"0", nil, ledger.ErrBadEncoding},
		{"zz", nil, ledger.ErrBadEncoding},
	}
	for _, tt := range tests {
		var got ledger.Bytes
		err := got.UnmarshalText([]byte(tt.in))
		if !errMatches(err, tt.wantErr) || (err == nil && !bytes.Equal(got, tt.want)) {
			t.Errorf("Bytes.UnmarshalText(%q) = %x, %v, want %x, %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	out, err := ledger.Bytes{0xab, 0x01}.MarshalText()
	if err != nil || string(out) != "ab01" {
		t.Errorf("Bytes.MarshalText = %q, %v, want %q", out, err, "ab01")
	}
}

// TestFixedCBOR checks that addresses, hashes and signatures accept only
// the one canonical encoding: a definite-length byte string of the exact
// size, with the shortest length header.
func TestFixedCBOR(t *testing.T) {
	b32 := bytes.Repeat([]byte{7}, 32)
	b64 := bytes.Repeat([]byte{7}, 64)
	tests := []struct {
		name string
		in   []byte
		size int // 32 or 64; which types the case applies to
		ok   bool
	}{
		{"canonical 32", cborBytes(b32), 32, true},
		{"canonical 64", cborBytes(b64), 64, true},
		{"31 bytes", cborBytes(b32[:31]), 32, false},
		{"33 bytes", cborBytes(append(b32, 0)), 32, false},
		{"63 bytes", cborBytes(b64[:63]), 64, false},
		{"65 bytes", cborBytes(append(b64, 0)), 64, false},
		{"empty byte string", cborBytes(nil), 32, false},
		{"text string", cborText(string(b32)), 32, false},
		{"array of 32 uints", cborArray(bytesToUints(b32)...), 32, false},
		{"uint", cborUint(7), 32, false},
		{"null", []byte{0xf6}, 32, false},
		{"2-byte length header", cat([]byte{0x59, 0x00, 0x20}, b32), 32, false},
		{"indefinite length", cat([]byte{0x5f}, cborBytes(b32[:16]), cborBytes(b32[16:]), []byte{0xff}), 32, false},
		{"tagged", cat([]byte{0xd8, 0x40}, cborBytes(b32)), 32, false},
		{"trailing byte", cat(cborBytes(b32), []byte{0x00}), 32, false},
		{"truncated", cborBytes(b32)[:33], 32, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var targets []any
			if tt.size == 32 {
				targets = []any{new(ledger.Address), new(ledger.Hash)}
			} else {
				targets = []any{new(ledger.Signature)}
			}
			for _, v := range targets {
				err := ledger.Unmarshal(tt.in, v)
				if tt.ok != (err == nil) || (err != nil && !errors.Is(err, ledger.ErrBadEncoding)) {
					t.Errorf("Unmarshal(%x, %T) = %v, want ok=%v (ErrBadEncoding otherwise)", tt.in, v, err, tt.ok)
				}
			}
		})
	}
}

func TestFixedCBORRoundTrip(t *testing.T) {
	a := testKey(3).Address
	h := signedTx(testKey(3), 9).ID()
	s := signedTx(testKey(3), 9).Sig
	for _, v := range []any{a, h, s} {
		enc, err := ledger.Marshal(v)
		if err != nil {
			t.Fatalf("Marshal(%T) error %v", v, err)
		}
		switch v := v.(type) {
		case ledger.Address:
			var got ledger.Address
			if err := ledger.Unmarshal(enc, &got); err != nil || got != v {
				t.Errorf("Unmarshal(Marshal(%v)) = %v, %v, want %v", v, got, err, v)
			}
		case ledger.Hash:
			var got ledger.Hash
			if err := ledger.Unmarshal(enc, &got); err != nil || got != v {
				t.Errorf("Unmarshal(Marshal(%v)) = %v, %v, want %v", v, got, err, v)
			}
		case ledger.Signature:
			var got ledger.Signature
			if err := ledger.Unmarshal(enc, &got); err != nil || got != v {
				t.Errorf("Unmarshal(Marshal(%x)) = %x, %v, want %x", v, got, err, v)
			}
		}
	}
}

func TestContractAddress(t *testing.T) {
	if a, b := ledger.ContractAddress("token"), ledger.ContractAddress("token"); a != b {
		t.Errorf("ContractAddress(token) = %v then %v, want equal", a, b)
	}
	if a, b := ledger.ContractAddress("token"), ledger.ContractAddress("token2"); a == b {
		t.Errorf("ContractAddress(token) = ContractAddress(token2) = %v, want different", a)
	}
}

func bytesToUints(b []byte) [][]byte {
	out := make([][]byte, len(b))
	for i, c := range b {
		out[i] = cborUint(uint64(c))
	}
	return out
}
