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
	raftDir     = "raft"
	archiveDir  = "archive" // every applied hot block (hotchain.Archive)
	coldDir     = "cold"    // the cold chain (coldchain.Chain)
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

// makeDevGenesis writes a dev genesis for a faucet key, made unless one
// is left from an earlier attempt. The genesis file appears whole or not
// at all (written aside, synced, renamed).
func makeDevGenesis(cfg Config) error {
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	faucet, err := devFaucet(filepath.Join(cfg.DataDir, FaucetFile))
	if err != nil {
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
	path := filepath.Join(cfg.DataDir, GenesisFile)
	if err := ledger.WriteGenesisFile(path+".tmp", g); err != nil {
		return err
	}
	if err := syncFile(path + ".tmp"); err != nil {
		return err
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	return syncFile(cfg.DataDir)
}

// devFaucet loads the faucet key at path, or makes it if there is none.
func devFaucet(path string) (*ledger.Key, error) {
	if k, err := ledger.LoadKeyFile(path); !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	k, err := ledger.NewKey()
	if err != nil {
		return nil, err
	}
	return k, ledger.WriteKeyFile(path, k)
}

// syncFile fsyncs a file or a directory.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("node: sync %s: %w", path, err)
	}
	return nil
}

// genesisState is the hot state a genesis starts from: the base token's
// code, supply and balances.
func genesisState(g *ledger.Genesis) *hotchain.Genesis {
	writes := token.Genesis(g)
	slices.SortFunc(writes, func(a, b ledger.Write) int { return bytes.Compare(a.Key, b.Key) })
	return &hotchain.Genesis{Hash: g.Hash(), Writes: writes}
}

// genesisDirty is the hot state at genesis as the state machine's writes
// since the last cold block: before the first cold block, none of the hot
// state is in the cold mirror.
func genesisDirty(g *hotchain.Genesis) map[string][]byte {
	d := make(map[string][]byte, len(g.Writes))
	for _, w := range g.Writes {
		d[string(w.Key)] = w.Value
	}
	return d
}
