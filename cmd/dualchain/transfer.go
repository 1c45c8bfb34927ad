package main

import (
	"context"
	"fmt"
	"os"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
	"github.com/spf13/cobra"
)

type transferOpts struct {
	key, to, chain string
	amount, nonce  uint64
	wait, nonceSet bool
}

func (a *app) transferCmd() *cobra.Command {
	var o transferOpts
	cmd := &cobra.Command{
		Use:   "transfer --key FILE --to ADDR|KEYFILE --amount N",
		Short: "Send tokens from the key's account to another",
		Long: "Sign a base-token transfer with the key in FILE and submit it to the node.\n" +
			"With --chain cold it moves tokens between cold accounts on the cold chain (to move\n" +
			"tokens between the chains, see 'dualchain settle' and 'dualchain deposit').\n" +
			"The nonce is the account's next nonce on that chain (nonces are per chain) unless\n" +
			"--nonce is given. With --wait, wait for the block that commits it and show the\n" +
			"receipt; on the cold chain the block is a cold block.",
		Example: "  dualchain transfer --key alice.key --to dc3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29 --amount 25 --wait\n" +
			"  dualchain transfer --key ./data/faucet.key --to bob.key --amount 1000 --wait\n" +
			"  dualchain transfer --key alice.key --to bob.key --amount 10 --chain cold --wait",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.nonceSet = cmd.Flags().Changed("nonce")
			return a.transfer(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.key, "key", "", "key file of the sender")
	f.StringVar(&o.to, "to", "", "the recipient: an address, or a key file whose address to use")
	f.Uint64Var(&o.amount, "amount", 0, "tokens to send (a positive integer)")
	f.StringVar(&o.chain, "chain", "hot", "chain to transfer on: hot or cold")
	f.BoolVar(&o.wait, "wait", false, "wait until the transfer is committed")
	f.Uint64Var(&o.nonce, "nonce", 0, "use this nonce instead of the account's next one")
	return cmd
}

func (o transferOpts) check() error {
	switch {
	case o.key == "":
		return usageErrorf("transfer needs --key FILE")
	case o.to == "":
		return usageErrorf("transfer needs --to ADDR")
	case o.amount == 0:
		return usageErrorf("transfer needs --amount N, a positive integer")
	case o.chain != "hot" && o.chain != "cold":
		return usageErrorf("--chain %q: want hot or cold", o.chain)
	}
	return nil
}

func (a *app) transfer(cmd *cobra.Command, o transferOpts) error {
	if err := o.check(); err != nil {
		return err
	}
	to, err := parseAccount(o.to)
	if err != nil {
		return err
	}
	key, err := loadKey(o.key)
	if err != nil {
		return err
	}
	c, ctx, cancel := a.client(cmd)
	defer cancel()
	tx, err := buildTransfer(ctx, c, key, to, o)
	if err != nil {
		return a.coldError(err)
	}
	submit := c.Submit
	if o.wait {
		submit = c.SubmitWait
	}
	res, err := submit(ctx, tx)
	if err != nil {
		return a.coldError(err)
	}
	if tx.Chain == ledger.Cold {
		return a.report(res[0], o.wait, field{"chain", "cold"})
	}
	return a.report(res[0], o.wait)
}

// buildTransfer signs a transfer on o's chain with the node's chain id
// and, unless given, the account's next nonce on that chain.
func buildTransfer(ctx context.Context, c *client.Client, key *ledger.Key, to ledger.Address, o transferOpts) (*ledger.Tx, error) {
	chain := ledger.Hot
	if o.chain == "cold" {
		chain = ledger.Cold
	}
	return buildTx(ctx, c, key, &ledger.Tx{
		Chain: chain, Nonce: o.nonce, Contract: token.Address, Function: token.FuncTransfer,
		Args: token.EncodeTransfer(to, o.amount), GasLimit: token.TransferGas,
	}, o.nonceSet)
}

// buildTx fills in tx's chain id, sender and, unless nonceSet, the
// account's next nonce on tx's chain (hot if unset) after the node's
// pending transactions, and signs it.
func buildTx(ctx context.Context, c *client.Client, key *ledger.Key, tx *ledger.Tx, nonceSet bool) (*ledger.Tx, error) {
	if tx.Chain == 0 {
		tx.Chain = ledger.Hot
	}
	if !nonceSet {
		return tx, c.Prepare(ctx, key, tx)
	}
	st, err := c.Status(ctx)
	if err != nil {
		return nil, err
	}
	tx.ChainID, tx.From = st.ChainID, key.Address
	tx.Sign(key.Private)
	return tx, nil
}

// report prints a submission result, and fails unless it was accepted
// (without --wait) or committed with status ok (with --wait).
func (a *app) report(r api.TxResult, wait bool, extra ...field) error {
	fields := append(extra, field{"id", r.ID}, field{"status", r.Status})
	if rc := r.Receipt; rc != nil {
		fields = append(fields, field{"block", r.Block}, field{"result", rc.Status}, field{"gas used", rc.GasUsed}, field{"path", rc.Path})
		if len(rc.Result) > 0 {
			fields = append(fields, field{"output", fmt.Sprintf("%x", []byte(rc.Result))})
		}
		for _, e := range rc.Events {
			fields = append(fields, field{"event", fmt.Sprintf("%s %x", e.Name, []byte(e.Data))})
		}
	}
	if err := a.print(r, fields...); err != nil {
		return err
	}
	if err := client.ResultError(r); err != nil {
		return err
	}
	switch {
	case r.Receipt != nil && r.Receipt.Status != ledger.StatusOK:
		return failf(r.Receipt.Status.String(), "transaction %s failed in block %d: %s", r.ID, r.Block, r.Receipt.Error)
	case wait && r.Status == api.StatusPending:
		return failf("pending", "transaction %s is not committed yet; check later with 'dualchain tx %s'", r.ID, r.ID)
	}
	return nil
}

// parseAccount reads an address, or the address of a key file: users
// name their own accounts by key file more easily than by 66 characters.
func parseAccount(s string) (ledger.Address, error) {
	addr, err := ledger.ParseAddress(s)
	if err == nil {
		return addr, nil
	}
	if _, statErr := os.Stat(s); statErr != nil {
		return addr, fmt.Errorf("%q is neither an address nor a key file: %w", s, err)
	}
	k, kerr := loadKey(s)
	if kerr != nil {
		return addr, kerr
	}
	return k.Address, nil
}
