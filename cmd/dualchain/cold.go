package main

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/ledger"
	"github.com/spf13/cobra"
)

// coldError gives a node's "unsupported" answer to a cold-chain or bridge
// request the CLI's code for it, naming the node.
func (a *app) coldError(err error) error {
	var ce *client.Error
	if errors.As(err, &ce) && ce.Code == api.CodeUnsupported {
		return failf("not_supported", "the node at %s does not support this: %s", a.nodeURL, ce.Message)
	}
	return err
}

func (a *app) coldCmd() *cobra.Command {
	cold := &cobra.Command{
		Use:   "cold",
		Short: "Read the cold chain",
		Long: "Read the cold chain: the durable, provable chain that checkpoints the hot one. Cold balances\n" +
			"are in 'dualchain balance', proofs in 'dualchain proof'.",
		Example: "  dualchain cold block\n  dualchain cold block 12 --json",
		Args:    noArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cold.AddCommand(a.coldBlockCmd())
	return cold
}

func (a *app) coldBlockCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "block [HEIGHT]",
		Short: "Show a cold block: its header, the hot checkpoint it records, and what it holds",
		Long: "Show the cold block at HEIGHT (the latest without one): its hash and parent, the checkpoint\n" +
			"of the hot chain it records (hot height, hot block hash, hot commitment), its roots (the\n" +
			"state root is what 'dualchain proof verify --root' checks against), and how many cold\n" +
			"transactions, settlements credited, deposits debited and deposits seen credited it holds.\n" +
			"With --json, the whole block.",
		Example: "  dualchain cold block\n  dualchain cold block 12\n  dualchain cold block 12 --json",
		Args:    maxArgs(1, "at most one height"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var h uint64
			if len(args) == 1 {
				var err error
				if h, err = strconv.ParseUint(args[0], 10, 64); err != nil || h == 0 {
					return usageErrorf("cold block height %q: want a positive integer (leave it out for the latest)", args[0])
				}
			}
			c, ctx, cancel := a.client(cmd)
			defer cancel()
			b, err := c.ColdBlock(ctx, h)
			if err != nil {
				return a.coldError(err)
			}
			return a.print(b, coldBlockFields(b)...)
		},
	}
}

func coldBlockFields(b *ledger.ColdBlock) []field {
	h := &b.Header
	return []field{
		{"height", h.Height},
		{"hash", h.Hash()},
		{"parent", h.Parent},
		{"time", time.Unix(0, h.Time).UTC().Format(time.RFC3339Nano)},
		{"checkpoint", fmt.Sprintf("hot height %d, hot block %s", h.Checkpoint.HotHeight, h.Checkpoint.HotHash)},
		{"hot commitment", h.Checkpoint.Commitment},
		{"state root", h.StateRoot},
		{"tx root", h.TxRoot},
		{"result root", h.ResultRoot},
		{"txs", fmt.Sprintf("%d (%d failed)", len(b.Txs), failed(b.Receipts))},
		{"settlements", transfersSummary(b.Settlements, "credited to cold accounts")},
		{"deposits", transfersSummary(b.Deposits, "debited from cold accounts")},
		{"credited", fmt.Sprintf("%d deposits seen credited on the hot chain", len(b.Credited))},
	}
}

func failed(rs []ledger.Receipt) int {
	n := 0
	for _, r := range rs {
		if r.Status != ledger.StatusOK {
			n++
		}
	}
	return n
}

func transfersSummary(ts []ledger.BridgeTransfer, what string) string {
	var sum uint64
	for _, t := range ts {
		sum += t.Amount
	}
	return fmt.Sprintf("%d, %d tokens %s", len(ts), sum, what)
}

// balanceView is what 'balance --json' prints: the hot account, as before
// the cold chain, with the cold one beside it when the node has one.
type balanceView struct {
	ledger.Account
	Cold *ledger.Account `json:"cold,omitempty"`
}

// balanceFields shows the hot account, then the cold one if any.
func balanceFields(v balanceView) []field {
	fs := []field{{"address", v.Address}, {"balance", v.Balance}, {"nonce", v.Nonce}}
	if v.PendingNonce > v.Nonce {
		fs = append(fs, field{"pending nonce", v.PendingNonce})
	}
	if v.Cold == nil {
		return append(fs, field{"cold", "the node has no cold chain"})
	}
	fs = append(fs, field{"cold balance", v.Cold.Balance}, field{"cold nonce", v.Cold.Nonce})
	if v.Cold.PendingNonce > v.Cold.Nonce {
		fs = append(fs, field{"cold pending nonce", v.Cold.PendingNonce})
	}
	return fs
}

// maxArgs wants at most n positional arguments, described by what.
func maxArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usageErrorf("%s wants %s (see '%s --help')", cmd.CommandPath(), what, cmd.CommandPath())
		}
		return nil
	}
}
