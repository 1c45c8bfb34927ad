package main

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/vm"
)

// DefaultCallGas is a contract call's gas limit unless --gas says otherwise.
const DefaultCallGas = 1_000_000

type contractOpts struct {
	key        string
	gas, nonce uint64
	nonceSet   bool
}

func (o *contractOpts) flags(cmd *cobra.Command, gasHelp string) {
	f := cmd.Flags()
	f.StringVar(&o.key, "key", "", "key file of the sender")
	f.Uint64Var(&o.gas, "gas", 0, gasHelp)
	f.Uint64Var(&o.nonce, "nonce", 0, "use this nonce instead of the account's next one")
}

func (a *app) deployCmd() *cobra.Command {
	var o contractOpts
	cmd := &cobra.Command{
		Use:   "deploy --key FILE MODULE.wasm",
		Short: "Deploy a WebAssembly contract",
		Long: "Upload the module in MODULE.wasm in a deploy transaction signed with the key in FILE,\n" +
			"wait for its block, and print the new contract's address. The node refuses a module\n" +
			"that could never run (see docs/contract-abi.md) with the reason. The gas limit is what\n" +
			"the deploy costs unless --gas is given.",
		Example: "  dualchain deploy --key alice.key contracts/registry/registry.wasm",
		Args:    exactArgs(1, "the module file: dualchain deploy --key FILE MODULE.wasm"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.nonceSet = cmd.Flags().Changed("nonce")
			return a.deploy(cmd, o, args[0])
		},
	}
	o.flags(cmd, "gas limit (default: what deploying the module costs)")
	return cmd
}

func (a *app) deploy(cmd *cobra.Command, o contractOpts, path string) error {
	if o.key == "" {
		return usageErrorf("deploy needs --key FILE")
	}
	code, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return failf("no_file", "module file %s does not exist", path)
	}
	if err != nil {
		return err
	}
	if len(code) > ledger.MaxArgsSize {
		return usageErrorf("%s is %d bytes; a module may be at most %d", path, len(code), ledger.MaxArgsSize)
	}
	if o.gas == 0 {
		o.gas = vm.GasCall + vm.DeployGas(len(code))
	}
	return a.sendCall(cmd, o, &ledger.Tx{Contract: ledger.DeployAddress, Function: ledger.FuncDeploy, Args: code, GasLimit: o.gas}, true)
}

func (a *app) callCmd() *cobra.Command {
	var o contractOpts
	cmd := &cobra.Command{
		Use:   "call --key FILE CONTRACT FUNCTION [ARG...]",
		Short: "Call a contract's function",
		Long: "Sign a call of FUNCTION on the contract at CONTRACT with the key in FILE, wait for\n" +
			"its block, and print the receipt: status, gas used, the path it ran on (native or vm),\n" +
			"its output in hex and its events. The arguments are the ARGs' bytes, in order:\n" +
			"  str:TEXT      the UTF-8 bytes of TEXT\n" +
			"  hex:DIGITS    the bytes the hex digits spell\n" +
			"  addr:ADDRESS  the 32 bytes of an address (dc... or a key file)\n" +
			"  u64:N         N as 8 bytes, big-endian\n" +
			"  u8:N          N as one byte\n" +
			"The base token is the contract named token.",
		Example: "  dualchain call --key alice.key dc5f0c... register str:alice\n" +
			"  dualchain call --key alice.key dc5f0c... resolve str:alice\n" +
			"  dualchain call --key alice.key token balance_of addr:bob.key",
		Args: minArgs(2, "a contract and a function: dualchain call --key FILE CONTRACT FUNCTION [ARG...]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.nonceSet = cmd.Flags().Changed("nonce")
			return a.call(cmd, o, args[0], args[1], args[2:])
		},
	}
	o.flags(cmd, fmt.Sprintf("gas limit (default %d)", DefaultCallGas))
	return cmd
}

func (a *app) call(cmd *cobra.Command, o contractOpts, contract, function string, operands []string) error {
	if o.key == "" {
		return usageErrorf("call needs --key FILE")
	}
	addr, err := parseContract(contract)
	if err != nil {
		return err
	}
	args, err := encodeArgs(operands)
	if err != nil {
		return err
	}
	if o.gas == 0 {
		o.gas = DefaultCallGas
	}
	return a.sendCall(cmd, o, &ledger.Tx{Contract: addr, Function: function, Args: args, GasLimit: o.gas}, false)
}

// sendCall signs tx, submits it, waits for its block and reports it; a
// deploy's report starts with the new contract's address.
func (a *app) sendCall(cmd *cobra.Command, o contractOpts, tx *ledger.Tx, deploy bool) error {
	key, err := loadKey(o.key)
	if err != nil {
		return err
	}
	tx.Nonce = o.nonce
	c, ctx, cancel := a.client(cmd)
	defer cancel()
	if tx, err = buildTx(ctx, c, key, tx, o.nonceSet); err != nil {
		return err
	}
	res, err := c.SubmitWait(ctx, tx)
	if err != nil {
		return err
	}
	var extra []field
	if rc := res[0].Receipt; deploy && rc != nil && rc.Status == ledger.StatusOK && len(rc.Result) == len(ledger.Address{}) {
		extra = append(extra, field{"contract", ledger.Address(rc.Result)})
	}
	return a.report(res[0], true, extra...)
}

// parseContract reads a contract address; "token" names the base token.
func parseContract(s string) (ledger.Address, error) {
	if s == "token" {
		return token.Address, nil
	}
	a, err := ledger.ParseAddress(s)
	if err != nil {
		return a, usageErrorf("contract %q: %v", s, err)
	}
	return a, nil
}

// encodeArgs concatenates the bytes of typed operands (see call --help).
func encodeArgs(operands []string) ([]byte, error) {
	var out []byte
	for _, op := range operands {
		kind, val, ok := strings.Cut(op, ":")
		if !ok {
			return nil, usageErrorf("argument %q: want TYPE:VALUE with TYPE one of str, hex, addr, u64, u8", op)
		}
		b, err := encodeArg(kind, val)
		if err != nil {
			return nil, usageErrorf("argument %q: %v", op, err)
		}
		out = append(out, b...)
	}
	return out, nil
}

func encodeArg(kind, val string) ([]byte, error) {
	switch kind {
	case "str":
		return []byte(val), nil
	case "hex":
		return hex.DecodeString(strings.TrimPrefix(val, "0x"))
	case "addr":
		a, err := parseAccount(val)
		return a[:], err
	case "u64":
		n, err := strconv.ParseUint(val, 10, 64)
		return binary.BigEndian.AppendUint64(nil, n), err
	case "u8":
		n, err := strconv.ParseUint(val, 10, 8)
		return []byte{byte(n)}, err
	}
	return nil, fmt.Errorf("unknown type %q: want str, hex, addr, u64 or u8", kind)
}
