package node

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/ledger"
)

// Files in a node's data dir.
const (
	GenesisFile = "genesis.json"
	FaucetFile  = "faucet.key"
	logDir      = "blocklog"
)

// DevSupply is the faucet's balance in a dev chain.
const DevSupply uint64 = 1_000_000_000_000_000

// loadGenesis reads DataDir/genesis.json; with Dev and no genesis yet, it
// first makes a dev chain: a faucet key holding the whole supply.
func loadGenesis(cfg Config) (*ledger.Genesis, error) {
	path := filepath.Join(cfg.DataDir, GenesisFile)
	_, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && cfg.Dev:
		if err := makeDevGenesis(cfg); err != nil {
			return nil, err
		}
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("node: no %s in %s: start with --dev to make a dev chain, or copy the chain's genesis there", GenesisFile, cfg.DataDir)
	case err != nil:
		return nil, fmt.Errorf("node: %w", err)
	}
	return ledger.LoadGenesisFile(path)
}

func makeDevGenesis(cfg Config) error {
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	faucet, err := ledger.NewKey()
	if err != nil {
		return err
	}
	if err := ledger.WriteKeyFile(filepath.Join(cfg.DataDir, FaucetFile), faucet); err != nil {
		return err
	}
	g := &ledger.Genesis{
		ChainID: cfg.ChainID,
		Time:    time.Now().UTC().Truncate(time.Second),
		Alloc:   []ledger.Allocation{{Address: faucet.Address, Amount: DevSupply}},
	}
	if err := g.Validate(); err != nil {
		return err
	}
	return ledger.WriteGenesisFile(filepath.Join(cfg.DataDir, GenesisFile), g)
}

// genesisState is the hot state a genesis starts from: token balances.
func genesisState(g *ledger.Genesis) *hotchain.Genesis {
	writes := make([]ledger.Write, 0, len(g.Alloc))
	for _, a := range g.Alloc {
		if a.Amount > 0 {
			writes = append(writes, ledger.Write{Key: token.BalanceKey(a.Address), Value: ledger.EncodeUint64(a.Amount)})
		}
	}
	slices.SortFunc(writes, func(a, b ledger.Write) int { return bytes.Compare(a.Key, b.Key) })
	return &hotchain.Genesis{Hash: g.Hash(), Writes: writes}
}
