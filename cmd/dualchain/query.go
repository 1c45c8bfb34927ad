package main

import (
	"errors"
	"fmt"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/ledger"
	"github.com/spf13/cobra"
)

func (a *app) balanceCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "balance ADDR|KEYFILE",
		Short: "Show an account's balances and next nonces on the hot and cold chains",
		Long: "Show the account's hot balance and next nonce, then its cold balance and next cold nonce\n" +
			"(nonces are per chain). A node without a cold chain shows the hot account only. With\n" +
			"--json, the hot account's fields with the cold account under \"cold\".",
		Example: "  dualchain balance dc3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29\n  dualchain balance alice.key --json",
		Args:    exactArgs(1, "one address"),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := parseAccount(args[0])
			if err != nil {
				return err
			}
			c, ctx, cancel := a.client(cmd)
			defer cancel()
			acct, err := c.Account(ctx, addr)
			if err != nil {
				return err
			}
			v := balanceView{Account: acct}
			cold, err := c.ColdAccount(ctx, addr)
			var ce *client.Error
			switch {
			case err == nil:
				v.Cold = &cold
			case !errors.As(err, &ce) || ce.Code != api.CodeUnsupported:
				return err
			}
			return a.print(v, balanceFields(v)...)
		},
	}
}

func (a *app) txCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "tx ID",
		Short:   "Show a committed transaction and its receipt",
		Example: "  dualchain tx 5f0c7d2e9a8b41c6e3f1d0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9\n  dualchain tx $ID --json",
		Args:    exactArgs(1, "one transaction id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := ledger.ParseHash(args[0])
			if err != nil {
				return err
			}
			c, ctx, cancel := a.client(cmd)
			defer cancel()
			v, err := c.Tx(ctx, id)
			if err != nil {
				return err
			}
			return a.print(v, txFields(v)...)
		},
	}
}

func txFields(v *api.TxView) []field {
	fs := []field{
		{"id", v.ID},
		{"status", v.Status},
		{"block", fmt.Sprintf("%d (index %d)", v.Block, v.Index)},
		{"from", v.From},
		{"nonce", v.Nonce},
	}
	if v.To != nil && v.Amount != nil {
		fs = append(fs, field{"to", *v.To}, field{"amount", *v.Amount})
	} else {
		fs = append(fs, field{"call", fmt.Sprintf("%s %s", v.Contract, v.Function)})
	}
	fs = append(fs, field{"gas", fmt.Sprintf("%d of %d (%s)", v.GasUsed, v.GasLimit, v.Path)})
	if v.Error != "" {
		fs = append(fs, field{"error", v.Error})
	}
	return fs
}

func (a *app) statusCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "status",
		Short:   "Show the node's chain, height and state",
		Example: "  dualchain status\n  dualchain status --node http://10.0.0.2:8545 --json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, ctx, cancel := a.client(cmd)
			defer cancel()
			st, err := c.Status(ctx)
			if err != nil {
				return err
			}
			return a.print(st,
				field{"chain", st.ChainID}, field{"node", st.NodeID + " at " + st.Node}, field{"role", role(st)},
				field{"term", st.Term}, field{"leader", st.LeaderID + " " + st.LeaderURL}, field{"height", st.Height},
				field{"head", st.Head}, field{"commitment", st.Commitment},
				field{"applied index", st.AppliedIndex}, field{"commit index", st.CommitIndex},
				field{"caught up", st.CaughtUp}, field{"last snapshot", st.LastSnapshotIndex},
				field{"store", st.Store}, field{"exec", st.Exec}, field{"mempool", st.Mempool}, field{"version", st.Version})
		},
	}
}

// role is a node's Raft role, marking an edge node (a non-voter).
func role(st api.Status) string {
	if st.Edge {
		return st.Role + " (edge)"
	}
	return st.Role
}
