package ledger_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

// testBlock returns a sealed block of n transfers with receipts, events,
// writes (one of them a delete) and every header field set.
func testBlock(n int) *ledger.Block {
	b := &ledger.Block{Header: ledger.Header{
		ChainID:    testChainID,
		Height:     42,
		Parent:     ledger.Hash{1, 2, 3},
		Time:       1_700_000_000_000_000_000,
		Commitment: ledger.Hash{9, 9, 9},
	}}
	for i, tx := range signedTxs(n) {
		b.Txs = append(b.Txs, *tx)
		r := ledger.Receipt{TxID: tx.ID(), Status: ledger.StatusOK, GasUsed: uint64(100 + i), Path: ledger.PathNative}
		if i%2 == 1 {
			r.Status, r.Error = ledger.StatusInsufficientFunds, "balance 1, need 2"
			r.Events = []ledger.Event{{Name: "failed", Data: ledger.Bytes{byte(i)}}}
		}
		b.Receipts = append(b.Receipts, r)
		b.Writes = append(b.Writes, ledger.Write{Key: ledger.NonceKey(tx.From), Value: ledger.EncodeUint64(tx.Nonce + 1)})
	}
	b.Writes = append(b.Writes, ledger.Write{Key: ledger.StorageKey(ledger.ContractAddress("token"), []byte("gone")), Value: ledger.EncodeUint64(0)})
	b.Seal()
	return b
}

func TestBlockSealAndCheckRoots(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*ledger.Block)
		wantErr bool
	}{
		{"sealed", func(*ledger.Block) {}, false},
		{"tx changed", func(b *ledger.Block) { b.Txs[1].Nonce++ }, true},
		{"tx signature changed", func(b *ledger.Block) { b.Txs[1].Sig[0] ^= 1 }, false}, // the tx root covers ids, not signatures
		{"txs reordered", func(b *ledger.Block) { b.Txs[0], b.Txs[1] = b.Txs[1], b.Txs[0] }, true},
		{"tx dropped", func(b *ledger.Block) { b.Txs = b.Txs[1:] }, true},
		{"receipt changed", func(b *ledger.Block) { b.Receipts[0].GasUsed++ }, true},
		{"receipt event changed", func(b *ledger.Block) { b.Receipts[1].Events[0].Name = "x" }, true},
		{"write changed", func(b *ledger.Block) { b.Writes[0].Value = ledger.EncodeUint64(99) }, true},
		{"write dropped", func(b *ledger.Block) { b.Writes = b.Writes[1:] }, true},
		{"tx root changed", func(b *ledger.Block) { b.Header.TxRoot[0] ^= 1 }, true},
		{"result root changed", func(b *ledger.Block) { b.Header.ResultRoot[0] ^= 1 }, true},
		{"receipt missing, resealed", func(b *ledger.Block) { b.Receipts = b.Receipts[1:]; b.Seal() }, true},
		{"header fields outside the roots", func(b *ledger.Block) { b.Header.Height++; b.Header.Commitment[0] ^= 1 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := testBlock(3)
			tt.mutate(b)
			err := b.CheckRoots()
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, ledger.ErrBadEncoding)) {
				t.Errorf("CheckRoots() = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestTxRoot(t *testing.T) {
	txs := signedTxs(3)
	vals := []ledger.Tx{*txs[0], *txs[1], *txs[2]}
	if ledger.TxRoot(vals) == ledger.TxRoot(vals[:2]) {
		t.Errorf("TxRoot(3 txs) = TxRoot(2 txs), want different")
	}
	if ledger.TxRoot(nil) != ledger.TxRoot([]ledger.Tx{}) {
		t.Errorf("TxRoot(nil) = %v, TxRoot(empty) = %v, want equal", ledger.TxRoot(nil), ledger.TxRoot([]ledger.Tx{}))
	}
}

func TestBlockEncodeRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 5} {
		b := testBlock(n)
		enc := b.Encode()
		got, err := ledger.DecodeBlock(enc)
		if err != nil {
			t.Fatalf("DecodeBlock(Encode(block of %d)) = %v", n, err)
		}
		// nil and empty slices are the same value: compare encodings,
		// and the decoded value with a second decode.
		if again := got.Encode(); !bytes.Equal(again, enc) {
			t.Errorf("Encode(DecodeBlock(enc)) = %x, want %x", again, enc)
		}
		if got2, err := ledger.DecodeBlock(got.Encode()); err != nil || !reflect.DeepEqual(got2, got) {
			t.Errorf("DecodeBlock(Encode(DecodeBlock(enc))) = %+v, %v, want %+v", got2, err, got)
		}
		if got.Header != b.Header || len(got.Txs) != n || ledger.TxRoot(got.Txs) != ledger.TxRoot(b.Txs) {
			t.Errorf("DecodeBlock(Encode(block of %d)) = header %+v, %d txs, want %+v, %d", n, got.Header, len(got.Txs), b.Header, n)
		}
		if got.Header.Hash() != b.Header.Hash() {
			t.Errorf("decoded Header.Hash() = %v, want %v", got.Header.Hash(), b.Header.Hash())
		}
		if err := got.CheckRoots(); err != nil {
			t.Errorf("decoded CheckRoots() = %v, want nil", err)
		}
	}
}

// TestBlockJSONKeepsRoots: the API serves blocks as JSON; a client must be
// able to check the roots of what it received. Deletes (empty values) and
// receipts without events must survive.
func TestBlockJSONKeepsRoots(t *testing.T) {
	b := testBlock(3)
	b.Writes = append(b.Writes, ledger.Write{Key: ledger.Bytes("k"), Value: nil})
	b.Receipts[0].Events = []ledger.Event{}
	b.Seal()
	data, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var got ledger.Block
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("json.Unmarshal(block) = %v", err)
	}
	if err := got.CheckRoots(); err != nil {
		t.Errorf("CheckRoots() after JSON = %v, want nil", err)
	}
	if got.Header.Hash() != b.Header.Hash() {
		t.Errorf("Header.Hash() after JSON = %v, want %v", got.Header.Hash(), b.Header.Hash())
	}
}

func TestDecodeBlockRejects(t *testing.T) {
	valid := testBlock(2)
	badTx := testBlock(2)
	badTx.Txs[1].ChainID = ""
	bigTx := testBlock(1)
	bigTx.Txs[0].Args = make(ledger.Bytes, ledger.MaxArgsSize+1)
	enc := valid.Encode()
	tests := []struct {
		name    string
		in      []byte
		wantErr error
	}{
		{"empty", nil, ledger.ErrBadEncoding},
		{"truncated", enc[:len(enc)-1], ledger.ErrBadEncoding},
		{"trailing byte", cat(enc, []byte{0}), ledger.ErrBadEncoding},
		{"3 elements", mustMarshal(t, []any{valid.Header, valid.Txs, valid.Receipts}), ledger.ErrBadEncoding},
		{"5 elements", mustMarshal(t, []any{valid.Header, valid.Txs, valid.Receipts, valid.Writes, []int{}}), ledger.ErrBadEncoding},
		{"a transaction", signedTx(testKey(1), 1).Encode(), ledger.ErrBadEncoding},
		{"invalid tx", badTx.Encode(), ledger.ErrBadTx},
		{"tx args too large", bigTx.Encode(), ledger.ErrTooLarge},
		{"over the size limit", make([]byte, ledger.MaxBlockSize+1), ledger.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ledger.DecodeBlock(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("DecodeBlock(%s) = %v, %v, want %v", tt.name, got, err, tt.wantErr)
			}
		})
	}
}

// headerMutations change one header field each.
var headerMutations = map[string]func(*ledger.Header){
	"ChainID":    func(h *ledger.Header) { h.ChainID += "x" },
	"Height":     func(h *ledger.Header) { h.Height++ },
	"Parent":     func(h *ledger.Header) { h.Parent[31] ^= 1 },
	"Time":       func(h *ledger.Header) { h.Time++ },
	"TxRoot":     func(h *ledger.Header) { h.TxRoot[0] ^= 1 },
	"ResultRoot": func(h *ledger.Header) { h.ResultRoot[0] ^= 1 },
	"Commitment": func(h *ledger.Header) { h.Commitment[0] ^= 1 },
}

func TestHeaderHashCoversEveryField(t *testing.T) {
	typ := reflect.TypeFor[ledger.Header]()
	for i := range typ.NumField() {
		if name := typ.Field(i).Name; name != "_" && headerMutations[name] == nil {
			t.Errorf("headerMutations has no case for Header.%s", name)
		}
	}
	base := testBlock(1).Header
	for name, mutate := range headerMutations {
		h := base
		mutate(&h)
		if h.Hash() == base.Hash() {
			t.Errorf("Header.Hash() after changing %s = %v, want a different hash", name, base.Hash())
		}
	}
}

func TestHeaderHashDomain(t *testing.T) {
	// A header hash is not the plain hash of its encoding, so it cannot
	// collide with another kind of object hashed the same way.
	h := testBlock(1).Header
	enc, err := ledger.Marshal(&h)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256Sum(enc); h.Hash() == sum {
		t.Errorf("Header.Hash() = SHA-256(encoding) = %v, want domain-separated", sum)
	}
}

func sha256Sum(b []byte) ledger.Hash { return sha256.Sum256(b) }

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := ledger.Marshal(v)
	if err != nil {
		t.Fatalf("Marshal(%T) = %v", v, err)
	}
	return b
}
