package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/dualchain/dualchain/ledger"
	"github.com/spf13/cobra"
)

func (a *app) proofCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "proof",
		Short: "Get a cold account's Merkle proof, and check one offline",
		Example: "  dualchain proof get alice.key --out proof.json\n" +
			"  dualchain proof verify proof.json --root $ROOT",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.proofGetCmd(), a.proofVerifyCmd())
	return cmd
}

type proofGetOpts struct {
	height uint64
	out    string
}

func (a *app) proofGetCmd() *cobra.Command {
	var o proofGetOpts
	cmd := &cobra.Command{
		Use:   "get ADDR|KEYFILE",
		Short: "Get the proof of a cold account against a cold block's state root",
		Long: "Ask the node for the Merkle proof of the account's cold balance and nonce (or of its\n" +
			"absence) against the state root of the cold block at --height (the latest without it).\n" +
			"The proof's JSON, exactly as the node sent it, goes to stdout or to --out FILE; the\n" +
			"height and state root go to stderr. The root is only the node's word: check the proof\n" +
			"with 'dualchain proof verify' against a root you trust. With --json, stdout gets the\n" +
			"node's whole answer {height, root, proof}.",
		Example: "  dualchain proof get alice.key > proof.json\n" +
			"  dualchain proof get dc3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29 --height 12 --out proof.json",
		Args: exactArgs(1, "one address"),
		RunE: func(cmd *cobra.Command, args []string) error { return a.proofGet(cmd, args[0], o) },
	}
	f := cmd.Flags()
	f.Uint64Var(&o.height, "height", 0, "cold block whose state root to prove against (default: the latest)")
	f.StringVar(&o.out, "out", "", "write the proof's JSON to FILE instead of stdout")
	return cmd
}

func (a *app) proofGet(cmd *cobra.Command, account string, o proofGetOpts) error {
	if cmd.Flags().Changed("height") && o.height == 0 {
		return usageErrorf("--height 0: cold block heights start at 1 (leave --height out for the latest)")
	}
	addr, err := parseAccount(account)
	if err != nil {
		return err
	}
	c, ctx, cancel := a.client(cmd)
	defer cancel()
	cp, err := c.ColdProof(ctx, addr, o.height)
	if err != nil {
		return a.coldError(err)
	}
	where := "stdout"
	switch {
	case o.out != "":
		if err := writeProof(o.out, cp.Proof); err != nil {
			return err
		}
		where = o.out
	case a.json:
		if err := a.print(cp); err != nil {
			return err
		}
	default:
		if _, err := fmt.Fprintf(a.stdout, "%s\n", cp.Proof); err != nil {
			return err
		}
	}
	fmt.Fprintf(a.stderr, "proof of %s against cold block %d, state root %s\ncheck it: dualchain proof verify %s --root %s\n",
		addr, cp.Height, cp.Root, proofFileHint(where), cp.Root)
	return nil
}

func proofFileHint(where string) string {
	if where == "stdout" {
		return "FILE"
	}
	return where
}

type proofVerifyOpts struct {
	root, address string
}

// proofVerdict is what 'proof verify --json' prints for a valid proof.
type proofVerdict struct {
	Valid    bool           `json:"valid"`
	Root     ledger.Hash    `json:"root"`
	Address  ledger.Address `json:"address"`
	Included bool           `json:"included"`
	Balance  uint64         `json:"balance"`
	Nonce    uint64         `json:"nonce"`
}

func (a *app) proofVerifyCmd() *cobra.Command {
	var o proofVerifyOpts
	cmd := &cobra.Command{
		Use:   "verify FILE --root HEX",
		Short: "Check a proof offline against a state root you trust",
		Long: "Check the proof in FILE (as 'dualchain proof get' or 'bridge status --proof-out' wrote it)\n" +
			"against the cold state root given in --root, with no node: the proof must lead to that\n" +
			"root, and, with --address, be about that account. It prints the account it proves, whether\n" +
			"the account is in the state (inclusion) or not (non-inclusion), and its balance and nonce.\n" +
			"Any mismatch exits 1 with the reason. Take the root from a source you trust, such as the\n" +
			"state root of 'dualchain cold block HEIGHT' asked of a node you run. No node is asked:\n" +
			"--node and --cluster are ignored.",
		Example: "  dualchain proof verify proof.json --root 9a1f0c3e5b7d2a4c6e8f0b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a\n" +
			"  dualchain proof verify proof.json --root $ROOT --address alice.key --json",
		Args: exactArgs(1, "the proof file: dualchain proof verify FILE --root HEX"),
		// Offline: no node is chosen or asked (--node and --cluster are
		// ignored), instead of the root's hook that picks one.
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE:              func(cmd *cobra.Command, args []string) error { return a.proofVerify(args[0], o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.root, "root", "", "the trusted cold state root (64 hex digits)")
	f.StringVar(&o.address, "address", "", "the account (an address or a key file) the proof must be about")
	return cmd
}

func (a *app) proofVerify(path string, o proofVerifyOpts) error {
	if o.root == "" {
		return usageErrorf("proof verify needs --root HEX, the state root you trust")
	}
	root, err := ledger.ParseHash(o.root)
	if err != nil {
		return usageErrorf("--root %q: want a state root, 64 hex digits", o.root)
	}
	var want *ledger.Address
	if o.address != "" {
		addr, err := parseAccount(o.address)
		if err != nil {
			return err
		}
		want = &addr
	}
	p, err := readProof(path)
	if err != nil {
		return err
	}
	if err := checkProof(p, root, want); err != nil {
		return err
	}
	return a.printVerdict(p)
}

// readProof reads and strictly decodes the proof in path.
func readProof(path string) (*ledger.Proof, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, failf("no_file", "read the proof: %v", err)
	}
	p, err := ledger.ParseProof(data)
	if err != nil {
		return nil, failf("bad_proof", "%s is not a proof: %v%s", path, err, envelopeHint(data))
	}
	return p, nil
}

// envelopeHint explains a file that holds a node's whole answer instead of
// the proof in it.
func envelopeHint(data []byte) string {
	var env map[string]json.RawMessage
	if json.Unmarshal(data, &env) != nil {
		return ""
	}
	if _, ok := env["proof"]; !ok {
		return ""
	}
	return " (the file holds a node's answer: the proof is its \"proof\" member, which 'dualchain proof get --out FILE' writes alone)"
}

// checkProof checks p against the trusted root and, if want is set, the
// account it must be about.
func checkProof(p *ledger.Proof, root ledger.Hash, want *ledger.Address) error {
	if err := p.Verify(root); err != nil {
		if errors.Is(err, ledger.ErrProofMismatch) {
			return failf("proof_mismatch", "the proof does not lead to root %s: it does not prove anything about that state (%v)", root, err)
		}
		return failf("bad_proof", "the proof is malformed: %v", err)
	}
	if want != nil && p.Address != *want {
		return failf("wrong_address", "the proof is about %s, not %s", p.Address, *want)
	}
	return nil
}

func (a *app) printVerdict(p *ledger.Proof) error {
	v := proofVerdict{Valid: true, Root: p.Root, Address: p.Address, Included: p.Included()}
	fields := []field{{"valid", "yes: the proof leads to the trusted root"}, {"root", p.Root}, {"address", p.Address}}
	if !v.Included {
		return a.print(v, append(fields, field{"proves", "non-inclusion: no cold account at this address in that state"})...)
	}
	v.Balance, v.Nonce = p.Account.Balance, p.Account.Nonce
	return a.print(v, append(fields, field{"proves", "inclusion: the account is in that state"},
		field{"balance", v.Balance}, field{"nonce", v.Nonce})...)
}
