package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/ledger"
	"github.com/spf13/cobra"
)

// bridgeOpts are the flags of settle and deposit.
type bridgeOpts struct {
	key    string
	amount uint64
	wait   bool
}

// bridgeDirection is what tells settle from deposit.
type bridgeDirection struct {
	name, from, to string
	send           func(c *client.Client, ctx context.Context, key *ledger.Key, amount uint64, wait bool) (api.TxResult, error)
}

var (
	settleDirection  = bridgeDirection{"settle", "hot", "cold", (*client.Client).Settle}
	depositDirection = bridgeDirection{"deposit", "cold", "hot", (*client.Client).Deposit}
)

func (a *app) settleCmd() *cobra.Command {
	return a.bridgeSendCmd(settleDirection, "Move tokens from your hot balance to your cold one",
		"Send a hot-chain transaction that moves N tokens of the key's account into the bridge's\n"+
			"escrow; the next checkpoint (about a second later) credits them to the same account on the\n"+
			"cold chain. The transfer's id is the settle transaction's id. With --wait, wait until the\n"+
			"settle is in a hot block (not until it is checkpointed): follow it with\n"+
			"'dualchain bridge status ID --wait'.",
		"  dualchain settle --key alice.key --amount 100 --wait\n"+
			"  dualchain bridge status $ID --wait")
}

func (a *app) depositCmd() *cobra.Command {
	return a.bridgeSendCmd(depositDirection, "Move tokens from your cold balance to your hot one",
		"Send a cold-chain transaction that debits N tokens from the key's cold account; the hot\n"+
			"chain credits them to the same account in the first hot block after that cold block\n"+
			"commits. The transfer's id is the deposit transaction's id. With --wait, wait until the\n"+
			"deposit is in a cold block: follow it with 'dualchain bridge status ID --wait'.",
		"  dualchain deposit --key alice.key --amount 40 --wait\n"+
			"  dualchain bridge status $ID --wait")
}

func (a *app) bridgeSendCmd(d bridgeDirection, short, long, example string) *cobra.Command {
	var o bridgeOpts
	cmd := &cobra.Command{
		Use:     d.name + " --key FILE --amount N",
		Short:   short,
		Long:    long,
		Example: example,
		Args:    noArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return a.bridgeSend(cmd, d, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.key, "key", "", "key file of the account")
	f.Uint64Var(&o.amount, "amount", 0, "tokens to move (a positive integer)")
	f.BoolVar(&o.wait, "wait", false, fmt.Sprintf("wait until the %s is committed on the %s chain", d.name, d.from))
	return cmd
}

func (a *app) bridgeSend(cmd *cobra.Command, d bridgeDirection, o bridgeOpts) error {
	switch {
	case o.key == "":
		return usageErrorf("%s needs --key FILE", d.name)
	case o.amount == 0:
		return usageErrorf("%s needs --amount N, a positive integer", d.name)
	}
	key, err := loadKey(o.key)
	if err != nil {
		return err
	}
	c, ctx, cancel := a.client(cmd)
	defer cancel()
	res, err := d.send(c, ctx, key, o.amount, o.wait)
	if err != nil && res.Status == "" {
		return a.coldError(err)
	}
	err = a.report(res, o.wait,
		field{"transfer", fmt.Sprintf("%s of %d: %s → %s", d.name, o.amount, d.from, d.to)},
		field{"chain", d.from})
	if err != nil || a.json {
		return a.coldError(err)
	}
	return a.print(nil, field{"follow", "dualchain bridge status " + res.ID.String() + " --wait"})
}

// bridgeStatusOpts are the flags of bridge status.
type bridgeStatusOpts struct {
	wait     bool
	proofOut string
}

func (a *app) bridgeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "bridge",
		Short:   "Follow transfers between the hot and cold chains",
		Example: "  dualchain bridge status $ID --wait",
		Args:    noArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.bridgeStatusCmd())
	return cmd
}

func (a *app) bridgeStatusCmd() *cobra.Command {
	var o bridgeStatusOpts
	cmd := &cobra.Command{
		Use:   "status ID",
		Short: "Has my settle been checkpointed, or my deposit credited, yet?",
		Long: "Show a bridge transfer by its id (the settle's or deposit's transaction id): its kind,\n" +
			"amount, status (pending, checkpointed or credited), the hot and cold heights it reached,\n" +
			"and, once done, the cold state root its proof is against. The proof that comes with it is\n" +
			"checked here against that root; --proof-out writes it for 'dualchain proof verify', which\n" +
			"checks it against a root you trust (the state root of 'dualchain cold block HEIGHT' on\n" +
			"another node, say). With --wait, ask again until the transfer is done or --timeout\n" +
			"passes (then it exits 1, still pending). With --json, the whole transfer as the node\n" +
			"answered it.",
		Example: "  dualchain bridge status 5f0c7d2e9a8b41c6e3f1d0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9\n" +
			"  dualchain bridge status $ID --wait --timeout 60s\n" +
			"  dualchain bridge status $ID --proof-out proof.json && dualchain proof verify proof.json --root $ROOT",
		Args: exactArgs(1, "one transfer id (the settle's or deposit's tx id)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := ledger.ParseHash(args[0])
			if err != nil {
				return err
			}
			return a.bridgeStatus(cmd, id, o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.wait, "wait", false, "wait until the transfer is done (bounded by --timeout)")
	f.StringVar(&o.proofOut, "proof-out", "", "write the transfer's proof (JSON) to FILE once it is done")
	return cmd
}

func (a *app) bridgeStatus(cmd *cobra.Command, id ledger.Hash, o bridgeStatusOpts) error {
	c, ctx, cancel := a.client(cmd)
	defer cancel()
	var t api.BridgeTransfer
	var err error
	if o.wait {
		t, err = c.WaitBridge(ctx, id, 0)
	} else {
		t, err = c.BridgeTransfer(ctx, id)
	}
	if t.Status == "" {
		return a.coldError(err)
	}
	proved, perr := checkTransferProof(t)
	if err := a.print(t, transferFields(t, proved)...); err != nil {
		return err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return failf("pending", "transfer %s is still %s after %s; ask again later", id, t.Status, a.timeout)
	case err != nil:
		return err
	case perr != nil:
		return perr
	case !t.Done() && o.proofOut != "":
		return failf("pending", "transfer %s is still pending: no proof to write yet (add --wait)", id)
	case o.proofOut != "":
		return writeProof(o.proofOut, t.Proof.Proof)
	}
	return nil
}

// answer is the plain answer to "has it reached the other chain yet?",
// with the question's label: checkpointed for a settle, credited for a
// deposit.
func answer(t api.BridgeTransfer) (string, string) {
	switch {
	case t.Kind == ledger.KindSettle && t.Done():
		return "checkpointed", fmt.Sprintf("yes, in cold block %d: the tokens are on the cold chain", t.ColdHeight)
	case t.Kind == ledger.KindSettle:
		return "checkpointed", fmt.Sprintf("not yet: escrowed in hot block %d; the next checkpoint credits the cold account", t.HotHeight)
	case t.Done():
		return "credited", fmt.Sprintf("yes, in hot block %d: the tokens are on the hot chain", t.HotHeight)
	}
	return "credited", fmt.Sprintf("not yet: debited in cold block %d; the next hot block credits the hot account", t.ColdHeight)
}

// transferFields shows t; proved describes its proof, if it has one.
func transferFields(t api.BridgeTransfer, proved string) []field {
	q, ans := answer(t)
	fs := []field{
		{q, ans},
		{"id", t.ID},
		{"kind", kindName(t.Kind)},
		{"owner", t.Owner},
		{"amount", t.Amount},
		{"status", t.Status},
		{"hot height", heightOrDash(t.HotHeight)},
		{"cold height", heightOrDash(t.ColdHeight)},
	}
	if t.Proof != nil {
		fs = append(fs, field{"state root", fmt.Sprintf("%s (cold block %d)", t.Proof.Root, t.Proof.Height)},
			field{"proof", proved})
	}
	return fs
}

func kindName(k ledger.BridgeKind) string {
	switch k {
	case ledger.KindSettle:
		return "settle (hot → cold)"
	case ledger.KindDeposit:
		return "deposit (cold → hot)"
	}
	return k.String()
}

func heightOrDash(h uint64) string {
	if h == 0 {
		return "-"
	}
	return fmt.Sprint(h)
}

// checkTransferProof checks the proof a transfer came with against the
// root it names and the transfer's owner. It returns what to show, and an
// error if the proof is bad: a node that sends a bad proof is wrong.
func checkTransferProof(t api.BridgeTransfer) (string, error) {
	if t.Proof == nil {
		return "", nil
	}
	p, err := ledger.ParseProof(t.Proof.Proof)
	if err == nil {
		err = p.Verify(t.Proof.Root)
	}
	if err == nil && p.Address != t.Owner {
		err = fmt.Errorf("it proves %s, not the owner %s", p.Address, t.Owner)
	}
	if err != nil {
		return "attached, INVALID: " + err.Error(), failf("bad_proof", "the node's proof for transfer %s is invalid: %v", t.ID, err)
	}
	if !p.Included() {
		return "attached and valid: the owner has no cold account at that root", nil
	}
	return fmt.Sprintf("attached and valid: the owner's cold balance %d, nonce %d at that root (save it with --proof-out FILE)",
		p.Account.Balance, p.Account.Nonce), nil
}

// writeProof writes a proof's JSON to path, exactly as the node sent it.
func writeProof(path string, proof []byte) error {
	if err := os.WriteFile(path, proof, 0o644); err != nil {
		return failf("write_failed", "write the proof: %v", err)
	}
	return nil
}
