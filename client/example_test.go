package client_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/api/apitest"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
)

// Example signs a token transfer, submits it, waits for its receipt, and
// reads the recipient's balance. (Here the node is an in-memory stand-in.)
func Example() {
	faucet, bob := apitest.Key(1), apitest.Key(2)
	node := httptest.NewServer(api.New(apitest.Funded(true, 1000, faucet), api.Config{}).Handler())
	defer node.Close()

	ctx := context.Background()
	c := client.New(node.URL)
	st, err := c.Status(ctx)
	if err != nil {
		log.Fatal(err)
	}
	from, err := c.Account(ctx, faucet.Address)
	if err != nil {
		log.Fatal(err)
	}
	tx := &ledger.Tx{
		ChainID: st.ChainID, Chain: ledger.Hot, Nonce: from.Nonce, From: faucet.Address,
		Contract: token.Address, Function: token.FuncTransfer,
		Args: token.EncodeTransfer(bob.Address, 250), GasLimit: token.TransferGas,
	}
	tx.Sign(faucet.Private)
	res, err := c.SubmitWait(ctx, tx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res[0].Status, "in block", res[0].Block, "with status", res[0].Receipt.Status)
	to, err := c.Account(ctx, bob.Address)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("bob's balance:", to.Balance)
	// Output:
	// committed in block 1 with status ok
	// bob's balance: 250
}

// ExampleClient_RawBlockPage reads a range of blocks with their VM traces
// in CBOR, the cheap form of a large page, and makes the views the JSON
// page would have given. (Here the node is an in-memory stand-in whose
// transfers all have a made-up trace.)
func ExampleClient_RawBlockPage() {
	faucet, bob := apitest.Key(1), apitest.Key(2)
	b := apitest.NewBackend(apitest.Config{ChainID: apitest.ChainID, AutoCommit: true,
		Alloc: []ledger.Allocation{{Address: faucet.Address, Amount: 1000}}, Trace: apitest.FakeTrace})
	node := httptest.NewServer(api.New(b, api.Config{}).Handler())
	defer node.Close()
	ctx := context.Background()
	c := client.New(node.URL)
	for nonce := range uint64(3) {
		if _, err := c.SubmitWait(ctx, apitest.Transfer(faucet, nonce, bob.Address, 10)); err != nil {
			log.Fatal(err)
		}
	}

	page, err := c.RawBlockPage(ctx, 1, 100, true)
	if err != nil {
		log.Fatal(err)
	}
	views, err := page.Views()
	if err != nil {
		log.Fatal(err)
	}
	for i, v := range views {
		tx := v.Txs[0] // its write set is in the block's canonical form
		fmt.Printf("block %d: %s of %d, %d trace frame(s), %d writes\n", v.Height, tx.Function, *tx.Amount, len(tx.Trace.Frames), len(page.Blocks[i].Writes))
	}
	fmt.Println("next:", page.Next)
	// Output:
	// block 1: transfer of 10, 1 trace frame(s), 3 writes
	// block 2: transfer of 10, 1 trace frame(s), 3 writes
	// block 3: transfer of 10, 1 trace frame(s), 3 writes
	// next: 0
}
