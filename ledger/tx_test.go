package ledger_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

func TestTxSignVerify(t *testing.T) {
	for _, seed := range []byte{1, 2, 0xff} {
		tx := signedTx(testKey(seed), uint64(seed))
		id, err := tx.Verify()
		if err != nil {
			t.Errorf("Verify() of tx signed by key %d = %v, want nil", seed, err)
		}
		if id != tx.ID() {
			t.Errorf("Verify() id = %v, want ID() = %v", id, tx.ID())
		}
		if !ledger.VerifySignature(tx.From, tx.SigningBytes(), tx.Sig) {
			t.Errorf("VerifySignature(key %d) = false, want true", seed)
		}
	}
}

// txMutations change one field each; TestTxMutationsCoverAllFields keeps
// the list complete when Tx grows a field.
var txMutations = map[string]func(*ledger.Tx){
	"ChainID":  func(tx *ledger.Tx) { tx.ChainID += "x" },
	"Chain":    func(tx *ledger.Tx) { tx.Chain = ledger.Cold },
	"Nonce":    func(tx *ledger.Tx) { tx.Nonce++ },
	"From":     func(tx *ledger.Tx) { tx.From = testKey(99).Address },
	"Contract": func(tx *ledger.Tx) { tx.Contract[31] ^= 1 },
	"Function": func(tx *ledger.Tx) { tx.Function = "transferFrom" },
	"Args":     func(tx *ledger.Tx) { tx.Args = append(ledger.Bytes{}, 0x82, 0x01, 0x03) },
	"GasLimit": func(tx *ledger.Tx) { tx.GasLimit++ },
	"Sig":      func(tx *ledger.Tx) { tx.Sig[0] ^= 1 },
}

func TestTxMutationsCoverAllFields(t *testing.T) {
	typ := reflect.TypeFor[ledger.Tx]()
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		if _, ok := txMutations[name]; !ok && name != "_" {
			t.Errorf("txMutations has no case for Tx.%s", name)
		}
	}
}

func TestTxMutationBreaksSignature(t *testing.T) {
	orig := signedTx(testKey(1), 7)
	for field, mutate := range txMutations {
		t.Run(field, func(t *testing.T) {
			tx := *orig
			tx.Args = append(ledger.Bytes(nil), orig.Args...)
			mutate(&tx)
			if _, err := tx.Verify(); !errors.Is(err, ledger.ErrBadSignature) {
				t.Errorf("Verify() after changing %s = %v, want ErrBadSignature", field, err)
			}
			_, errs := ledger.VerifyBatch([]*ledger.Tx{&tx})
			if !errors.Is(errs[0], ledger.ErrBadSignature) {
				t.Errorf("VerifyBatch() after changing %s = %v, want ErrBadSignature", field, errs[0])
			}
			// The id covers everything but the signature.
			if sameID := tx.ID() == orig.ID(); sameID != (field == "Sig") {
				t.Errorf("ID() after changing %s unchanged = %v, want %v", field, sameID, field == "Sig")
			}
		})
	}
}

func TestTxIDDomainSeparation(t *testing.T) {
	k := testKey(1)
	a, b := signedTx(k, 1), unsignedTx(k, 1)
	b.ChainID = "other-chain"
	b.Sign(k.Private)
	if a.ID() == b.ID() {
		t.Errorf("ID() on chains %q and %q = %v for both, want different", a.ChainID, b.ChainID, a.ID())
	}
	// A signature made for one chain id is not valid on another.
	replayed := *b
	replayed.Sig = a.Sig
	if _, err := replayed.Verify(); !errors.Is(err, ledger.ErrBadSignature) {
		t.Errorf("Verify() of a %q signature replayed on %q = %v, want ErrBadSignature", a.ChainID, b.ChainID, err)
	}
	// Moving bytes between the chain id and the function name must not
	// keep the signing bytes: every field is length-delimited.
	c, d := unsignedTx(k, 1), unsignedTx(k, 1)
	c.ChainID, c.Function = "ab", "c"
	d.ChainID, d.Function = "a", "bc"
	if bytes.Equal(c.SigningBytes(), d.SigningBytes()) {
		t.Errorf("SigningBytes() equal for (%q,%q) and (%q,%q)", c.ChainID, c.Function, d.ChainID, d.Function)
	}
}

func TestTxSigningBytes(t *testing.T) {
	tx := signedTx(testKey(1), 1)
	sb := tx.SigningBytes()
	const tag = "dualchain/tx/v1\x00"
	if !bytes.HasPrefix(sb, []byte(tag)) {
		t.Errorf("SigningBytes() = %q..., want prefix %q", sb[:min(len(sb), 20)], tag)
	}
	if bytes.Contains(sb, tx.Sig[:]) {
		t.Errorf("SigningBytes() contains the signature")
	}
	// The signed body is the encoding without the signature: 8 fields.
	enc := tx.Encode()
	body := sb[len(tag):]
	if body[0] != 0x88 || !bytes.Equal(body[1:], enc[1:len(enc)-len(cborBytes(tx.Sig[:]))]) {
		t.Errorf("SigningBytes() body = %x, want the first 8 fields of Encode() = %x", body, enc)
	}
}

func TestTxValidate(t *testing.T) {
	long := strings.Repeat("x", ledger.MaxNameSize)
	tests := []struct {
		name    string
		mutate  func(*ledger.Tx)
		wantErr error
	}{
		{"valid", func(*ledger.Tx) {}, nil},
		{"cold", func(tx *ledger.Tx) { tx.Chain = ledger.Cold }, nil},
		{"chain id at limit", func(tx *ledger.Tx) { tx.ChainID = long }, nil},
		{"function at limit", func(tx *ledger.Tx) { tx.Function = long }, nil},
		{"args at limit", func(tx *ledger.Tx) { tx.Args = make(ledger.Bytes, ledger.MaxArgsSize) }, nil},
		{"no args", func(tx *ledger.Tx) { tx.Args = nil }, nil},
		{"empty chain id", func(tx *ledger.Tx) { tx.ChainID = "" }, ledger.ErrBadTx},
		{"chain id too long", func(tx *ledger.Tx) { tx.ChainID = long + "x" }, ledger.ErrBadTx},
		{"chain 0", func(tx *ledger.Tx) { tx.Chain = 0 }, ledger.ErrBadTx},
		{"chain 3", func(tx *ledger.Tx) { tx.Chain = 3 }, ledger.ErrBadTx},
		{"empty function", func(tx *ledger.Tx) { tx.Function = "" }, ledger.ErrBadTx},
		{"function too long", func(tx *ledger.Tx) { tx.Function = long + "x" }, ledger.ErrBadTx},
		{"args too large", func(tx *ledger.Tx) { tx.Args = make(ledger.Bytes, ledger.MaxArgsSize+1) }, ledger.ErrTooLarge},
		// The decoder rejects invalid UTF-8, so Validate must too:
		// otherwise a transaction passes Validate, is signed and sent,
		// and cannot be decoded by the node.
		{"chain id invalid UTF-8", func(tx *ledger.Tx) { tx.ChainID = "test\xff" }, ledger.ErrBadTx},
		{"function invalid UTF-8", func(tx *ledger.Tx) { tx.Function = "transfer\xc0" }, ledger.ErrBadTx},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx := signedTx(testKey(1), 1)
			tt.mutate(tx)
			if err := tx.Validate(); !errMatches(err, tt.wantErr) {
				t.Errorf("Validate() = %v, want %v", err, tt.wantErr)
			}
			// DecodeTx accepts exactly what Validate accepts.
			got, err := ledger.DecodeTx(tx.Encode())
			if (err == nil) != (tt.wantErr == nil) {
				t.Errorf("DecodeTx(Encode()) = %v, want error %v", err, tt.wantErr != nil)
			}
			if err == nil && got.ID() != tx.ID() {
				t.Errorf("DecodeTx(Encode()).ID() = %v, want %v", got.ID(), tx.ID())
			}
		})
	}
}

func TestDecodeTxSizeLimit(t *testing.T) {
	big := make([]byte, ledger.MaxTxSize+1)
	if _, err := ledger.DecodeTx(big); !errors.Is(err, ledger.ErrTooLarge) {
		t.Errorf("DecodeTx(%d bytes) = %v, want ErrTooLarge", len(big), err)
	}
	// A well-formed transaction just over the limit: the size check comes
	// before decoding.
	tx := unsignedTx(testKey(1), 1)
	tx.Args = make(ledger.Bytes, ledger.MaxTxSize)
	if _, err := ledger.DecodeTx(tx.Encode()); !errors.Is(err, ledger.ErrTooLarge) {
		t.Errorf("DecodeTx(tx of %d bytes) = %v, want ErrTooLarge", len(tx.Encode()), err)
	}
	// Under the size limit but with arguments over theirs.
	tx.Args = make(ledger.Bytes, ledger.MaxArgsSize+1)
	if _, err := ledger.DecodeTx(tx.Encode()); !errors.Is(err, ledger.ErrTooLarge) {
		t.Errorf("DecodeTx(tx with %d bytes of args) = %v, want ErrTooLarge", len(tx.Args), err)
	}
}

func TestChainText(t *testing.T) {
	for _, c := range []ledger.Chain{ledger.Hot, ledger.Cold} {
		b, err := c.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var got ledger.Chain
		if err := got.UnmarshalText(b); err != nil || got != c {
			t.Errorf("Chain.UnmarshalText(%q) = %v, %v, want %v", b, got, err, c)
		}
	}
	for _, s := range []string{"", "HOT", "warm", "1"} {
		if c, err := ledger.ParseChain(s); !errors.Is(err, ledger.ErrBadTx) {
			t.Errorf("ParseChain(%q) = %v, %v, want ErrBadTx", s, c, err)
		}
	}
	if s := ledger.Chain(7).String(); s != "chain(7)" {
		t.Errorf("Chain(7).String() = %q, want %q", s, "chain(7)")
	}
}

// TestTxJSONKeepsSignature: the API takes transactions as JSON, so a
// signed transaction must survive a JSON round trip with the same id and
// a valid signature, whatever its arguments.
func TestTxJSONKeepsSignature(t *testing.T) {
	tests := []struct {
		name string
		args ledger.Bytes
	}{
		{"args", ledger.Bytes{0x82, 0x01, 0x02}},
		{"empty args", ledger.Bytes{}},
		{"nil args", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := testKey(1)
			tx := unsignedTx(k, 1)
			tx.Args = tt.args
			tx.Sign(k.Private)
			data, err := json.Marshal(tx)
			if err != nil {
				t.Fatal(err)
			}
			var got ledger.Tx
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatalf("json.Unmarshal(%s) = %v", data, err)
			}
			if got.ID() != tx.ID() {
				t.Errorf("ID() after JSON = %v, want %v", got.ID(), tx.ID())
			}
			if _, err := got.Verify(); err != nil {
				t.Errorf("Verify() after JSON = %v, want nil", err)
			}
		})
	}
}
