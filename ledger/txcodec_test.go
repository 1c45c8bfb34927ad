package ledger

import (
	"bytes"
	"math"
	"testing"
)

// txBody is everything a signature covers: Tx without Sig, for the
// generic encoder.
type txBody struct {
	_        struct{} `cbor:",toarray"`
	ChainID  string
	Chain    Chain
	Nonce    uint64
	From     Address
	Contract Address
	Function string
	Args     Bytes
	GasLimit uint64
}

// genericEncoding is what fxamacker's encoder, in ledger's mode, makes of
// the transaction's fields; the hand-written encoder must match it.
func genericEncoding(t testing.TB, tx *Tx) (body, full []byte) {
	t.Helper()
	type signed struct {
		_        struct{} `cbor:",toarray"`
		ChainID  string
		Chain    Chain
		Nonce    uint64
		From     Address
		Contract Address
		Function string
		Args     Bytes
		GasLimit uint64
		Sig      Signature
	}
	var err error
	if body, err = encMode.Marshal(txBody{
		ChainID: tx.ChainID, Chain: tx.Chain, Nonce: tx.Nonce, From: tx.From,
		Contract: tx.Contract, Function: tx.Function, Args: tx.Args, GasLimit: tx.GasLimit,
	}); err != nil {
		t.Fatal(err)
	}
	if full, err = encMode.Marshal(signed{
		ChainID: tx.ChainID, Chain: tx.Chain, Nonce: tx.Nonce, From: tx.From,
		Contract: tx.Contract, Function: tx.Function, Args: tx.Args, GasLimit: tx.GasLimit, Sig: tx.Sig,
	}); err != nil {
		t.Fatal(err)
	}
	return body, full
}

func checkTxCodec(t testing.TB, tx *Tx) {
	body, full := genericEncoding(t, tx)
	if got := tx.SigningBytes(); !bytes.Equal(got, append([]byte(signingTag), body...)) {
		t.Fatalf("SigningBytes() = %x, want tag + %x", got, body)
	}
	if got := tx.Encode(); !bytes.Equal(got, full) {
		t.Fatalf("Encode() = %x, want %x", got, full)
	}
	back, err := DecodeTx(full)
	if err == nil && !bytes.Equal(back.Encode(), full) {
		t.Fatalf("DecodeTx(Encode()).Encode() = %x, want %x", back.Encode(), full)
	}
}

func TestTxCodecMatchesGenericEncoder(t *testing.T) {
	long := string(bytes.Repeat([]byte("x"), 300))
	for _, n := range []uint64{0, 1, 23, 24, 255, 256, 65535, 65536, 1<<32 - 1, 1 << 32, math.MaxUint64} {
		for _, tx := range []*Tx{
			{ChainID: "c", Chain: Hot, Nonce: n, Function: "f", GasLimit: n},
			{ChainID: long[:64], Chain: Cold, Nonce: n, Function: long[:24], Args: make([]byte, 300), GasLimit: 7},
			{ChainID: "é", Chain: Hot, Function: "transfer", Args: Bytes{}, Sig: Signature{1, 2, 3}},
			{ChainID: "c", Chain: Hot, Function: "f", Args: make([]byte, 70000)},
		} {
			tx.From[0], tx.Contract[31] = byte(n), 0xff
			checkTxCodec(t, tx)
		}
	}
}

func FuzzTxCodec(f *testing.F) {
	f.Add("dualchain-dev", uint8(1), uint64(5), "transfer", []byte{1, 2}, uint64(2000))
	f.Fuzz(func(t *testing.T, chainID string, chain uint8, nonce uint64, fn string, args []byte, gas uint64) {
		tx := &Tx{ChainID: chainID, Chain: Chain(chain), Nonce: nonce, Function: fn, Args: args, GasLimit: gas}
		if _, err := encMode.Marshal(chainID + fn); err != nil {
			return
		}
		checkTxCodec(t, tx)
	})
}
