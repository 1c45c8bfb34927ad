package api_test

import (
	"bytes"
	"testing"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/ledger"
)

// GET /v1/blocks/{height}/raw answers the block's canonical CBOR, which
// decodes to the block GET /v1/blocks/{height} shows.
func TestGetRawBlock(t *testing.T) {
	b, txs := committed(t)
	h := newHandler(t, b)
	r := get(t, h, "/v1/blocks/2/raw")
	if r.code != 200 || r.header.Get("Content-Type") != api.MediaCBOR {
		t.Fatalf("GET raw block 2 = %d %q, want 200 %s (%.200s)", r.code, r.header.Get("Content-Type"), api.MediaCBOR, r.body)
	}
	blk, err := ledger.DecodeBlock(r.body)
	if err != nil {
		t.Fatalf("DecodeBlock(raw block 2) = %v", err)
	}
	view := decode[api.BlockView](t, get(t, h, "/v1/blocks/2"))
	if blk.Header.Hash() != view.Hash || len(blk.Txs) != 1 || blk.Txs[0].ID() != txs[1].ID() {
		t.Fatalf("raw block 2 = %+v, want the block of hash %s holding tx %s", blk.Header, view.Hash, txs[1].ID())
	}
	if !bytes.Equal(blk.Encode(), r.body) {
		t.Errorf("raw block 2 is not in its canonical encoding")
	}
	for _, tt := range []struct {
		target string
		status int
		code   string
	}{
		{"/v1/blocks/3/raw", 404, "not_found"},
		{"/v1/blocks/x/raw", 400, "bad_request"},
		{"/v1/blocks/-1/raw", 400, "bad_request"},
	} {
		t.Run(tt.target, func(t *testing.T) { wantError(t, get(t, h, tt.target), tt.status, tt.code) })
	}
}
