package node

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/vm"
)

// Config configures one node. The CLI fills it from flags; nothing in this
// package reads flags or the environment.
type Config struct {
	DataDir  string // holds genesis.json, the block log, and faucet.key with Dev
	HTTPAddr string // address the API listens on, e.g. 127.0.0.1:8545
	Store    string // "redis" or "memory"
	RedisURL string // redis://host:port/db, with Store "redis"
	Dev      bool   // on first start, make a one-node chain: genesis.json and faucet.key in DataDir
	ChainID  string // chain id of a Dev genesis

	MaxBlockTxs   int           // a block is cut when this many txs are ready
	MaxBlockGas   uint64        // or when the ready txs' gas limits add up to this
	BlockInterval time.Duration // or when the oldest ready tx has waited this long
	MempoolSize   int           // pending txs at most; beyond, submissions fail with mempool_full
	NonceWindow   uint64        // how far past its next nonce a sender may submit

	// Exec picks the path of calls that have an optimistic native
	// function: ExecNative, ExecVM or ExecBoth.
	Exec string
	// VM configures the contract VM; an empty CacheDir becomes
	// DataDir/vmcache, so compiled contracts survive restarts.
	VM vm.Config

	Logger *slog.Logger

	store hotchain.Store // tests: use this store instead of opening one
}

// DefaultConfig returns settings for a dev node on this machine.
func DefaultConfig() Config {
	return Config{
		DataDir:       "dualchain-data",
		HTTPAddr:      "127.0.0.1:8545",
		Store:         "memory",
		RedisURL:      "redis://127.0.0.1:6379/0",
		ChainID:       "dualchain-dev",
		MaxBlockTxs:   10_000,
		MaxBlockGas:   100_000_000,
		BlockInterval: 5 * time.Millisecond,
		MempoolSize:   200_000,
		NonceWindow:   1024,
		Exec:          ExecNative,
		VM:            vm.DefaultConfig(),
		Logger:        slog.Default(),
	}
}

// TestConfig returns DefaultConfig with a data dir and fast timings for
// tests, running every call with a native function both ways.
func TestConfig(dataDir string) Config {
	c := DefaultConfig()
	c.DataDir = dataDir
	c.HTTPAddr = "127.0.0.1:0"
	c.Dev = true
	c.BlockInterval = time.Millisecond
	c.Exec = ExecBoth // every test's calls are checked native against VM
	return c
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.DataDir == "":
		return errors.New("node: data dir is required")
	case c.Store != "redis" && c.Store != "memory":
		return fmt.Errorf("node: store %q: want redis or memory", c.Store)
	case c.Store == "redis" && c.RedisURL == "":
		return errors.New("node: store redis needs a redis URL")
	case c.MaxBlockTxs < 1:
		return errors.New("node: max block txs must be at least 1")
	case c.MaxBlockGas < MaxGasLimit:
		return fmt.Errorf("node: max block gas must be at least a transaction's gas limit, %d", MaxGasLimit)
	case c.BlockInterval <= 0:
		return errors.New("node: block interval must be positive")
	case c.MempoolSize < c.MaxBlockTxs:
		return errors.New("node: mempool size must be at least max block txs")
	case c.NonceWindow < 1:
		return errors.New("node: nonce window must be at least 1")
	case c.Exec != ExecNative && c.Exec != ExecVM && c.Exec != ExecBoth:
		return fmt.Errorf("node: exec %q: want native, vm or both", c.Exec)
	}
	return c.VM.Validate()
}
