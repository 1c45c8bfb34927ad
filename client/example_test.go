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
