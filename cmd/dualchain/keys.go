package main

import (
	"errors"
	"io/fs"
	"os"

	"github.com/dualchain/dualchain/ledger"
	"github.com/spf13/cobra"
)

// keyInfo is the JSON output of the keys commands. The seed is never shown.
type keyInfo struct {
	Address ledger.Address `json:"address"`
	File    string         `json:"file"`
}

func (a *app) keysCmd() *cobra.Command {
	keys := &cobra.Command{
		Use:     "keys",
		Short:   "Make and show account keys",
		Example: "  dualchain keys new --out alice.key\n  dualchain keys show alice.key",
		Args:    noArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	keys.AddCommand(a.keysNewCmd(), a.keysShowCmd())
	return keys
}

func (a *app) keysNewCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "new --out FILE",
		Short: "Make a new key and write it to FILE (readable by you only)",
		Long: "Make a new ed25519 account key and write it to FILE with mode 0600.\n" +
			"An existing FILE is never overwritten. The address is the account's public name.",
		Example: "  dualchain keys new --out alice.key",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageErrorf("keys new needs --out FILE")
			}
			return a.keysNew(out)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write the key to (must not exist)")
	return cmd
}

func (a *app) keysNew(path string) error {
	k, err := ledger.NewKey()
	if err != nil {
		return err
	}
	if err := ledger.WriteKeyFile(path, k); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return failf("key_exists", "%s already exists; not overwriting a key file", path)
		}
		return err
	}
	return a.print(keyInfo{k.Address, path}, field{"address", k.Address}, field{"file", path + " (keep it secret)"})
}

func (a *app) keysShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "show FILE",
		Short:   "Show the address of the key in FILE",
		Example: "  dualchain keys show alice.key\n  dualchain keys show alice.key --json",
		Args:    exactArgs(1, "one key file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := loadKey(args[0])
			if err != nil {
				return err
			}
			return a.print(keyInfo{k.Address, args[0]}, field{"address", k.Address}, field{"file", args[0]})
		},
	}
}

// loadKey reads a key file, with a hint when it does not exist.
func loadKey(path string) (*ledger.Key, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, failf("no_key_file", "key file %s does not exist (make one with 'dualchain keys new --out %s')", path, path)
	}
	return ledger.LoadKeyFile(path)
}
