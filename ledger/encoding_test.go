package ledger_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

// Field positions in a transaction's CBOR array.
const (
	fChainID = iota
	fChain
	fNonce
	fFrom
	fContract
	fFunction
	fArgs
	fGasLimit
	fSig
)

func TestTxEncodingMatchesHandWritten(t *testing.T) {
	tx := signedTx(testKey(1), 300)
	want := cborArray(txFields(tx)...)
	if got := tx.Encode(); !bytes.Equal(got, want) {
		t.Fatalf("Encode() = %x, want %x", got, want)
	}
	got, err := ledger.DecodeTx(want)
	if err != nil || !reflect.DeepEqual(got, tx) {
		t.Errorf("DecodeTx(%x) = %+v, %v, want %+v", want, got, err, tx)
	}
}

// TestDecodeTxRejects lists malformed encodings: each must fail with
// ErrBadEncoding, never decode into something.
func TestDecodeTxRejects(t *testing.T) {
	tx := signedTx(testKey(1), 5)
	f := txFields(tx)
	valid := cborArray(f...)
	indefText := cat([]byte{0x7f}, cborText("trans"), cborText("fer"), []byte{0xff})
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty input", nil},
		{"truncated", valid[:len(valid)-1]},
		{"trailing byte", cat(valid, []byte{0x00})},
		{"two transactions", cat(valid, valid)},
		{"8 elements", cborArray(f[:8]...)},
		{"10 elements", cborArray(append(f, cborUint(0))...)},
		{"empty array", cborArray()},
		{"map instead of array", cat([]byte{0xa1}, cborText("nonce"), cborUint(1))},
		{"indefinite-length array", cat([]byte{0x9f}, bytes.Join(f, nil), []byte{0xff})},
		{"indefinite-length text", cborArray(withField(f, fFunction, indefText)...)},
		{"indefinite-length bytes", cborArray(withField(f, fArgs, cat([]byte{0x5f}, cborBytes(tx.Args), []byte{0xff}))...)},
		{"tagged transaction", cat([]byte{0xc0}, valid)},
		{"tagged nonce (bignum)", cborArray(withField(f, fNonce, cat([]byte{0xc2}, cborBytes([]byte{5})))...)},
		{"chain id as bytes", cborArray(withField(f, fChainID, cborBytes([]byte(testChainID)))...)},
		{"chain id as uint", cborArray(withField(f, fChainID, cborUint(1))...)},
		{"chain as text", cborArray(withField(f, fChain, cborText("hot"))...)},
		{"chain above 255", cborArray(withField(f, fChain, cborUint(257))...)},
		{"nonce negative", cborArray(withField(f, fNonce, []byte{0x20})...)},
		{"nonce as float", cborArray(withField(f, fNonce, []byte{0xf9, 0x3c, 0x00})...)},
		{"nonce as bool", cborArray(withField(f, fNonce, []byte{0xf5})...)},
		{"nonce as bytes", cborArray(withField(f, fNonce, cborBytes([]byte{5}))...)},
		{"from 31 bytes", cborArray(withField(f, fFrom, cborBytes(tx.From[:31]))...)},
		{"from 33 bytes", cborArray(withField(f, fFrom, cborBytes(append(tx.From[:], 0)))...)},
		{"from as text", cborArray(withField(f, fFrom, cborText(tx.From.String()))...)},
		{"from as null", cborArray(withField(f, fFrom, []byte{0xf6})...)},
		{"contract non-minimal length", cborArray(withField(f, fContract, cat([]byte{0x59, 0, 32}, tx.Contract[:]))...)},
		{"function as bytes", cborArray(withField(f, fFunction, cborBytes([]byte("transfer")))...)},
		{"function invalid UTF-8", cborArray(withField(f, fFunction, cborText("\xff\xfe"))...)},
		{"args as text", cborArray(withField(f, fArgs, cborText("abc"))...)},
		{"args as array", cborArray(withField(f, fArgs, cborArray(cborUint(1)))...)},
		{"gas limit above 2^64", cborArray(withField(f, fGasLimit, cat([]byte{0xc2}, cborBytes(bytes.Repeat([]byte{1}, 9))))...)},
		{"sig 63 bytes", cborArray(withField(f, fSig, cborBytes(tx.Sig[:63]))...)},
		{"sig 65 bytes", cborArray(withField(f, fSig, cborBytes(append(tx.Sig[:], 0)))...)},
		{"byte string longer than input", cborArray(withField(f, fArgs, []byte{0x5a, 0xff, 0xff, 0xff, 0xff, 1})...)},
		{"array longer than input", cat([]byte{0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, bytes.Join(f, nil))},
		{"reserved additional info", cborArray(withField(f, fNonce, []byte{0x1c})...)},
		{"break outside indefinite item", cborArray(withField(f, fNonce, []byte{0xff})...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ledger.DecodeTx(tt.in)
			if !errors.Is(err, ledger.ErrBadEncoding) {
				t.Errorf("DecodeTx(%x) = %+v, %v, want ErrBadEncoding", tt.in, got, err)
			}
		})
	}
}

// TestDecodeTxNonCanonical lists well-formed encodings that are not the
// canonical one. The decoder accepts them, but what it returns re-encodes
// canonically, so the id and the signature check are unaffected.
func TestDecodeTxNonCanonical(t *testing.T) {
	tx := signedTx(testKey(1), 5)
	f := txFields(tx)
	canonical := cborArray(f...)
	tests := []struct {
		name string
		in   []byte
	}{
		{"nonce in 1 extra byte", cborArray(withField(f, fNonce, []byte{0x18, 5})...)},
		{"nonce in 2 bytes", cborArray(withField(f, fNonce, []byte{0x19, 0, 5})...)},
		{"nonce in 8 bytes", cborArray(withField(f, fNonce, []byte{0x1b, 0, 0, 0, 0, 0, 0, 0, 5})...)},
		{"chain in 1 extra byte", cborArray(withField(f, fChain, []byte{0x18, 1})...)},
		{"gas limit in 8 bytes", cborArray(withField(f, fGasLimit, []byte{0x1b, 0, 0, 0, 0, 0, 1, 0x86, 0xa0})...)},
		{"chain id length in 2 bytes", cborArray(withField(f, fChainID, cat([]byte{0x79, 0, byte(len(testChainID))}, []byte(testChainID)))...)},
		{"args length in 1 extra byte", cborArray(withField(f, fArgs, cat([]byte{0x58, byte(len(tx.Args))}, tx.Args))...)},
		{"array length in 1 extra byte", cat([]byte{0x98, 9}, bytes.Join(f, nil))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if bytes.Equal(tt.in, canonical) {
				t.Fatalf("case %x is the canonical encoding", tt.in)
			}
			got, err := ledger.DecodeTx(tt.in)
			if err != nil {
				t.Fatalf("DecodeTx(%x) error %v, want nil", tt.in, err)
			}
			if id := got.ID(); id != tx.ID() {
				t.Errorf("DecodeTx(%x).ID() = %v, want %v", tt.in, id, tx.ID())
			}
			if enc := got.Encode(); !bytes.Equal(enc, canonical) {
				t.Errorf("DecodeTx(%x).Encode() = %x, want %x", tt.in, enc, canonical)
			}
			if _, err := got.Verify(); err != nil {
				t.Errorf("DecodeTx(%x).Verify() = %v, want nil", tt.in, err)
			}
		})
	}
}

// TestEmptyBytesEncodeOnce: a nil and an empty byte string are the same
// value, so they must have the same canonical encoding. Otherwise a value
// that passes through JSON (where both are "") changes its encoding, and
// with it a transaction's id and signing bytes or a block's roots.
func TestEmptyBytesEncodeOnce(t *testing.T) {
	nilArgs, emptyArgs := unsignedTx(testKey(1), 1), unsignedTx(testKey(1), 1)
	nilArgs.Args, emptyArgs.Args = nil, ledger.Bytes{}
	if a, b := nilArgs.Encode(), emptyArgs.Encode(); !bytes.Equal(a, b) {
		t.Errorf("Encode() with nil args = %x, with empty args = %x, want equal", a, b)
	}
	if a, b := nilArgs.ID(), emptyArgs.ID(); a != b {
		t.Errorf("ID() with nil args = %v, with empty args = %v, want equal", a, b)
	}
}

func TestUnmarshalRejectsUnknownTypes(t *testing.T) {
	// A receipt is an array of six; a seventh element is an unknown field.
	r := ledger.Receipt{TxID: signedTx(testKey(1), 1).ID(), Status: ledger.StatusOK, GasUsed: 10, Path: ledger.PathNative}
	enc, err := ledger.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	extra := cat([]byte{0x87}, enc[1:], cborUint(0))
	var got ledger.Receipt
	if err := ledger.Unmarshal(extra, &got); !errors.Is(err, ledger.ErrBadEncoding) {
		t.Errorf("Unmarshal(receipt with 7 elements) = %v, want ErrBadEncoding", err)
	}
	if err := ledger.Unmarshal(enc, &got); err != nil || got.TxID != r.TxID || got.GasUsed != r.GasUsed || len(got.Events) != 0 {
		t.Errorf("Unmarshal(Marshal(%+v)) = %+v, %v", r, got, err)
	}
}
