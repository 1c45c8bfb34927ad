package client_test

import (
	"context"
	"testing"

	"github.com/dualchain/dualchain/api/apitest"
	"github.com/dualchain/dualchain/ledger"
)

func TestRawBlock(t *testing.T) {
	b := apitest.Funded(true, 100, alice)
	c, _ := serve(t, b)
	ctx := context.Background()
	if _, err := c.SubmitWait(ctx, apitest.Transfer(alice, 0, bob.Address, 1)); err != nil {
		t.Fatal(err)
	}
	raw, err := c.RawBlock(ctx, 1)
	if err != nil {
		t.Fatalf("RawBlock(1) = %v", err)
	}
	blk, err := ledger.DecodeBlock(raw)
	if err != nil {
		t.Fatalf("DecodeBlock(RawBlock(1)) = %v", err)
	}
	view, err := c.Block(ctx, 1)
	if err != nil || view.Hash != blk.Header.Hash() {
		t.Fatalf("Block(1) = %+v, %v; want hash %s as the raw block's", view, err, blk.Header.Hash())
	}
	_, err = c.RawBlock(ctx, 9)
	wantError(t, err, "not_found", 404)
}
