package api_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/api/apitest"
	"github.com/dualchain/dualchain/ledger"
)

// FuzzDecodeSubmit checks that the body decoder never panics, and that
// whatever it accepts re-encodes to CBOR that decodes to the same tx.
func FuzzDecodeSubmit(f *testing.F) {
	tx0, tx1 := apitest.Transfer(alice, 0, bob.Address, 5), apitest.Transfer(bob, 9, alice.Address, 1)
	batch, _ := ledger.Marshal([]*ledger.Tx{tx0, tx1})
	single, _ := json.Marshal(api.NewTxJSON(tx0))
	jbatch, _ := json.Marshal(api.SubmitRequest{Txs: []api.TxJSON{api.NewTxJSON(tx0), api.NewTxJSON(tx1)}})
	for _, seed := range [][]byte{tx0.Encode(), batch, {0x80}, {0x9b, 0xff}, {}} {
		f.Add(true, seed)
	}
	for _, seed := range [][]byte{single, jbatch, []byte(`{"txs":[]}`), []byte(`{}`), []byte(`null`),
		[]byte(`{"txs":null}`), []byte(`{"txs":[{},{}]}`), []byte(`{"txs":[],"memo":1}`), []byte(`{"txs":[]}{}`)} {
		f.Add(false, seed)
	}
	f.Fuzz(func(t *testing.T, cbor bool, body []byte) {
		ct := api.MediaJSON
		if cbor {
			ct = api.MediaCBOR
		}
		txs, err := api.DecodeSubmit(ct, body, 16)
		if err != nil {
			return
		}
		if len(txs) == 0 || len(txs) > 16 {
			t.Fatalf("DecodeSubmit accepted %d txs, want 1 to 16", len(txs))
		}
		for _, tx := range txs {
			checkRoundTrip(t, tx)
		}
	})
}

func checkRoundTrip(t *testing.T, tx *ledger.Tx) {
	t.Helper()
	tx.ID()
	enc := tx.Encode()
	again, err := api.DecodeSubmit(api.MediaCBOR, enc, 1)
	if err != nil {
		if len(enc) > ledger.MaxTxSize {
			return
		}
		t.Fatalf("re-decode %x: %v", enc, err)
	}
	if !bytes.Equal(again[0].Encode(), enc) {
		t.Fatalf("round trip changed the tx: %x -> %x", enc, again[0].Encode())
	}
}

func TestDecodeSubmitJSON(t *testing.T) {
	tx0, tx1 := apitest.Transfer(alice, 0, bob.Address, 5), apitest.Transfer(bob, 9, alice.Address, 1)
	g0, g1 := string(jsonTx(t, tx0)), string(jsonTx(t, tx1))
	tests := []struct {
		name string
		body string
		want []*ledger.Tx // nil: an error with code and message
		code string
		msg  string
	}{
		{"single", g0, []*ledger.Tx{tx0}, "", ""},
		{"batch", `{"txs":[` + g0 + `,` + g1 + `]}`, []*ledger.Tx{tx0, tx1}, "", ""},
		{"batch, whitespace", " {\n\"txs\" : [ " + g0 + " ] } \n", []*ledger.Tx{tx0}, "", ""},
		{"unknown key after txs", `{"txs":[` + g0 + `],"memo":1}`, nil, "bad_encoding", `json: unknown field "memo"`},
		{"unknown key before txs", `{"memo":1,"txs":[` + g0 + `]}`, nil, "bad_encoding", `json: unknown field "memo"`},
		{"unknown key in a tx", `{"txs":[` + strings.Replace(g0, `{`, `{"memo":1,`, 1) + `]}`, nil, "bad_encoding", `json: unknown field "memo"`},
		{"unknown key in a single tx", strings.Replace(g0, `{`, `{"memo":1,`, 1), nil, "bad_encoding", `json: unknown field "memo"`},
		{"key TXS", `{"TXS":[` + g0 + `]}`, nil, "bad_encoding", `json: unknown field "TXS"`},
		{"duplicate txs", `{"txs":[` + g0 + `],"txs":[` + g1 + `]}`, nil, "bad_encoding", `duplicate field "txs"`},
		{"trailing object", `{"txs":[` + g0 + `]}{}`, nil, "bad_encoding", "trailing data"},
		{"trailing garbage", `{"txs":[` + g0 + `]}x`, nil, "bad_encoding", "trailing data"},
		{"trailing bracket", `{"txs":[` + g0 + `]}]`, nil, "bad_encoding", ""},
		{"unclosed object", `{"txs":[` + g0 + `]`, nil, "bad_encoding", ""},
		{"unclosed array", `{"txs":[` + g0, nil, "bad_encoding", ""},
		{"trailing comma", `{"txs":[` + g0 + `,]}`, nil, "bad_encoding", ""},
		{"missing colon", `{"txs" [` + g0 + `]}`, nil, "bad_encoding", ""},
		{"txs an object", `{"txs":{}}`, nil, "bad_encoding", "want an array"},
		{"txs a number", `{"txs":1}`, nil, "bad_encoding", "want an array"},
		{"null item", `{"txs":[null]}`, nil, "bad_encoding", "tx 0"},
		{"bad item after a good one", `{"txs":[` + g0 + `,{"nonce":1}]}`, nil, "bad_encoding", "tx 1"}, // fields must not carry over
		{"number item", `{"txs":[` + g0 + `,1]}`, nil, "bad_encoding", "tx 1"},
		{"empty", `{"txs":[]}`, nil, "bad_request", ""},
		{"null", `{"txs":null}`, nil, "bad_request", ""},
		{"null, trailing data", `{"txs":null}x`, nil, "bad_encoding", "trailing data"},
		{"three, limit two", `{"txs":[` + g0 + `,` + g1 + `,` + g0 + `]}`, nil, "batch_too_large", "more than 2"},
		{"three bad, limit two", `{"txs":[` + g0 + `,` + g1 + `,{}]}`, nil, "batch_too_large", "more than 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			txs, err := api.DecodeSubmit(api.MediaJSON, []byte(tt.body), 2)
			if tt.want != nil {
				if err != nil || len(txs) != len(tt.want) {
					t.Fatalf("DecodeSubmit = %d txs, %v; want %d", len(txs), err, len(tt.want))
				}
				for i := range txs {
					if txs[i].ID() != tt.want[i].ID() {
						t.Errorf("tx %d = %s, want %s", i, txs[i].ID(), tt.want[i].ID())
					}
				}
				return
			}
			var c api.Coder
			if !errors.As(err, &c) || c.Code() != tt.code || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("DecodeSubmit = %d txs, %v; want code %q with %q", len(txs), err, tt.code, tt.msg)
			}
		})
	}
}

// TestDecodeSubmitJSONBombs checks that a 16 MB body of tiny batch items is
// refused without decoding it all: the old decoder spent gigabytes here.
func TestDecodeSubmitJSONBombs(t *testing.T) {
	const size = 16 << 20
	sigOnly := `{"sig":"` + strings.Repeat("00", 64) + `"}` // converts to a tx; Validate would refuse it
	tests := []struct {
		name     string
		item     string
		maxBatch int
		code     string
		maxAlloc uint64
	}{
		{"empty items", `{}`, 10_000, "bad_encoding", 1 << 20},
		{"items past a small limit", sigOnly, 16, "batch_too_large", 1 << 20},
		{"items past the default limit", sigOnly, api.DefaultConfig().MaxBatch, "batch_too_large", 16 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := bomb(tt.item, size)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			txs, err := api.DecodeSubmit(api.MediaJSON, body, tt.maxBatch)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			t.Logf("DecodeSubmit of %d bytes: %d bytes allocated in %v", len(body), after.TotalAlloc-before.TotalAlloc, elapsed)
			var c api.Coder
			if !errors.As(err, &c) || c.Code() != tt.code {
				t.Fatalf("DecodeSubmit = %d txs, %v; want code %q", len(txs), err, tt.code)
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > tt.maxAlloc {
				t.Errorf("DecodeSubmit of a %d-byte body allocated %d bytes, want at most %d", len(body), n, tt.maxAlloc)
			}
		})
	}
}

// bomb returns {"txs":[item,item,...]} of about size bytes.
func bomb(item string, size int) []byte {
	n := size / (len(item) + 1)
	var b bytes.Buffer
	b.Grow(size + 16)
	b.WriteString(`{"txs":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(item)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}
