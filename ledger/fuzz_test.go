package ledger_test

import (
	"bytes"
	stded25519 "crypto/ed25519"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hdevalence/ed25519consensus"

	"github.com/dualchain/dualchain/ledger"
)

// Fuzz targets for every decoder of outside input (STYLE §11). Each checks
// that decoding never panics, that whatever decodes re-encodes to bytes
// that decode to the same value and encode to the same bytes, and that
// the decoded value keeps its identity (id, hash) across the round trip.
//
//	go test ./ledger -run '^$' -fuzz '^FuzzDecodeTx$' -fuzztime 30s

// decodeErrors are the errors a decoder may return for bad input.
var decodeErrors = []error{ledger.ErrBadEncoding, ledger.ErrTooLarge, ledger.ErrBadTx}

func checkDecodeError(t *testing.T, err error) {
	t.Helper()
	for _, e := range decodeErrors {
		if errors.Is(err, e) {
			return
		}
	}
	t.Fatalf("decode error %v, want one of %v", err, decodeErrors)
}

func FuzzDecodeTx(f *testing.F) {
	for _, tx := range signedTxs(3) {
		f.Add(tx.Encode())
	}
	noArgs := unsignedTx(testKey(4), 0)
	noArgs.Args, noArgs.Chain = nil, ledger.Cold
	noArgs.Sign(testKey(4).Private)
	f.Add(noArgs.Encode())
	f.Add(cborArray(withField(txFields(signedTx(testKey(1), 5)), fNonce, []byte{0x18, 5})...))
	for _, c := range sigCases()[:20] {
		f.Add(c.tx.Encode())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tx, err := ledger.DecodeTx(data)
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		enc := tx.Encode()
		tx2, err := ledger.DecodeTx(enc)
		if err != nil {
			t.Fatalf("DecodeTx(Encode(DecodeTx(%x))) = %v, want nil", data, err)
		}
		if enc2 := tx2.Encode(); !bytes.Equal(enc2, enc) {
			t.Fatalf("Encode() after a round trip = %x, want %x", enc2, enc)
		}
		if tx2.ID() != tx.ID() || tx2.Sig != tx.Sig {
			t.Fatalf("ID() after a round trip = %v, want %v", tx2.ID(), tx.ID())
		}
		if bytes.Equal(data, enc) && !reflect.DeepEqual(tx2, tx) {
			t.Fatalf("DecodeTx(Encode(DecodeTx(%x))) = %+v, want %+v", data, tx2, tx)
		}
		checkVerifiersAgree(t, tx)
	})
}

// FuzzVerify feeds arbitrary keys and signatures to the single and batch
// verifiers and to ed25519consensus, an independent ZIP-215
// implementation: all three must agree.
func FuzzVerify(f *testing.F) {
	for _, c := range sigCases() {
		f.Add(c.tx.From[:], c.tx.Sig[:], c.tx.Nonce)
	}
	f.Fuzz(func(t *testing.T, from, sig []byte, nonce uint64) {
		if len(from) != 32 || len(sig) != 64 {
			return
		}
		tx := unsignedTx(testKey(1), nonce)
		tx.From, tx.Sig = ledger.Address(from), ledger.Signature(sig)
		checkVerifiersAgree(t, tx)
	})
}

// checkVerifiersAgree fails if Tx.Verify, VerifyBatch and
// ed25519consensus.Verify do not all give the same answer for tx.
func checkVerifiersAgree(t *testing.T, tx *ledger.Tx) {
	t.Helper()
	_, err := tx.Verify()
	_, errs := ledger.VerifyBatch([]*ledger.Tx{tx})
	ref := ed25519consensus.Verify(stded25519.PublicKey(tx.From[:]), tx.SigningBytes(), tx.Sig[:])
	if single, batch := err == nil, errs[0] == nil; single != batch || single != ref {
		t.Fatalf("key %x sig %x: Verify() ok = %v, VerifyBatch() ok = %v, ed25519consensus.Verify = %v, want all equal",
			tx.From, tx.Sig, single, batch, ref)
	}
}

func FuzzDecodeBlock(f *testing.F) {
	for _, n := range []int{0, 1, 3} {
		f.Add(testBlock(n).Encode())
	}
	f.Add((&ledger.Block{}).Encode())
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ledger.DecodeBlock(data)
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		_ = b.CheckRoots() // must not panic; fuzzed roots rarely match
		enc := b.Encode()
		b2, err := ledger.DecodeBlock(enc)
		if err != nil {
			t.Fatalf("DecodeBlock(Encode(DecodeBlock(%x))) = %v, want nil", data, err)
		}
		if enc2 := b2.Encode(); !bytes.Equal(enc2, enc) {
			t.Fatalf("Encode() after a round trip = %x, want %x", enc2, enc)
		}
		if b2.Header.Hash() != b.Header.Hash() || ledger.TxRoot(b2.Txs) != ledger.TxRoot(b.Txs) {
			t.Fatalf("header hash or tx root changed across a round trip")
		}
		if (b.CheckRoots() == nil) != (b2.CheckRoots() == nil) {
			t.Fatalf("CheckRoots() = %v before a round trip, %v after", b.CheckRoots(), b2.CheckRoots())
		}
		if bytes.Equal(data, enc) && !reflect.DeepEqual(b2, b) {
			t.Fatalf("DecodeBlock(Encode(DecodeBlock(%x))) = %+v, want %+v", data, b2, b)
		}
	})
}

func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{testKey(1).Address.String(), testKey(1).Address.String()[2:], "", "dc", " dc" + strings.Repeat("0", 64)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ledger.ParseAddress(s)
		if err != nil {
			if !errors.Is(err, ledger.ErrBadAddress) {
				t.Fatalf("ParseAddress(%q) = %v, want ErrBadAddress", s, err)
			}
			return
		}
		text := a.String()
		if !strings.HasPrefix(text, ledger.AddressPrefix) || text != strings.ToLower(text) {
			t.Fatalf("Address.String() = %q, want lower-case with prefix", text)
		}
		for _, in := range []string{text, text[len(ledger.AddressPrefix):]} {
			if b, err := ledger.ParseAddress(in); err != nil || b != a {
				t.Fatalf("ParseAddress(%q) = %v, %v, want %v (from ParseAddress(%q))", in, b, err, a, s)
			}
		}
	})
}

func FuzzParseHash(f *testing.F) {
	f.Add(signedTx(testKey(1), 1).ID().String())
	f.Add("0x" + strings.Repeat("ab", 32))
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ledger.ParseHash(s)
		if err != nil {
			if !errors.Is(err, ledger.ErrBadHash) {
				t.Fatalf("ParseHash(%q) = %v, want ErrBadHash", s, err)
			}
			return
		}
		if h2, err := ledger.ParseHash(h.String()); err != nil || h2 != h {
			t.Fatalf("ParseHash(%q) = %v, %v, want %v", h.String(), h2, err, h)
		}
	})
}

func FuzzParseKeyFile(f *testing.F) {
	k := testKey(1)
	f.Add([]byte(`{"type":"ed25519","address":"` + k.Address.String() + `","seed":"` + hex.EncodeToString(k.Private.Seed()) + `"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		key, err := ledger.ParseKeyFile(data, "fuzz.key")
		if err != nil {
			if !errors.Is(err, ledger.ErrBadKeyFile) {
				t.Fatalf("ParseKeyFile(%q) = %v, want ErrBadKeyFile", data, err)
			}
			return
		}
		if pub := key.Private.Public().(stded25519.PublicKey); !bytes.Equal(pub, key.Address[:]) {
			t.Fatalf("ParseKeyFile(%q) address %v, want the key's public key %x", data, key.Address, pub)
		}
	})
}
