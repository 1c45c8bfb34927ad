package node

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/dualchain/dualchain/consensus"
	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/vm"
)

// Config configures one node. The CLI fills it from flags; nothing in this
// package reads flags or the environment.
type Config struct {
	DataDir  string // holds genesis.json, the Raft log and snapshots (raft/), and faucet.key with Dev
	HTTPAddr string // address the API listens on, e.g. 127.0.0.1:8545
	Store    string // "redis", "pebble" (in DataDir/hotstore) or "memory"
	RedisURL string // redis://host:port/db, with Store "redis"
	Dev      bool   // on first start, make a one-node chain: genesis.json and faucet.key in DataDir
	ChainID  string // chain id of a Dev genesis

	// Replication. A node with no Raft state on disk either starts a new
	// cluster of Peers (every node of it given the same list; with none, a
	// cluster of this node alone) or, with Join, asks a running cluster to
	// add it.
	NodeID       string // unique in the cluster and the same across restarts
	RaftAddr     string // host:port the Raft transport listens on and peers dial
	AdvertiseURL string // base URL of this node's API for other nodes; default http://HTTPAddr as bound
	Peers        []Peer
	Join         string // API URL of any node of a running cluster
	Edge         bool   // join as a non-voter: full state, serves reads, forwards transactions
	AdminToken   string // guards admin endpoints and forwarding between nodes; the same on every node
	MaxInFlight  int    // blocks the leader has proposed but not yet applied, at most
	// Raft tunes consensus (timeouts, snapshots, log store); its NodeID,
	// BindAddr and DataDir come from the fields above.
	Raft consensus.Config

	MaxBlockTxs   int           // a block is cut when this many txs are ready
	MaxBlockGas   uint64        // or when the ready txs' gas limits add up to this
	BlockInterval time.Duration // or when the oldest ready tx has waited this long
	MempoolSize   int           // pending txs at most; beyond, submissions fail with mempool_full
	NonceWindow   uint64        // how far past its next nonce a sender may submit

	// The cold chain and the bridge. The leader proposes a cold block
	// (a checkpoint of hot state) every CheckpointInterval while hot state
	// changes, and every ColdBlockInterval while cold transactions wait.
	CheckpointInterval time.Duration
	ColdBlockInterval  time.Duration
	MaxColdBlockTxs    int // cold transactions in one cold block, at most
	ColdPoolSize       int // pending cold transactions at most
	// ColdCacheBytes sizes the cold chain's Pebble block cache.
	ColdCacheBytes int64

	// Exec picks the path of calls that have an optimistic native
	// function: ExecNative, ExecVM or ExecBoth.
	Exec string
	// VM configures the contract VM; an empty CacheDir becomes
	// DataDir/vmcache, so compiled contracts survive restarts.
	VM vm.Config
	// VMTrace records a memory trace of each call frame of every call the
	// VM runs (vm.Config.Trace), which costs VM speed. Only calls that run
	// in the VM have one: with ExecNative the token's transfer runs
	// natively. A trace is recorded by the leader that executes the block
	// and replicated with it, so every node serves it (trace.go).
	VMTrace bool

	// Pprof serves Go's net/http/pprof profiles under /debug/pprof/ on the
	// API's listener, unauthenticated: for profiling a node on loopback.
	Pprof bool
	// The API's HTTP server: how long a client may take to send a
	// request's headers (a slower one is cut off), and how many
	// connections it serves at once (more wait to be accepted).
	HeaderTimeout time.Duration
	MaxConns      int
	// DebugAPIDelay holds every /v1/ request this long before the API
	// handles it (api.Config.DebugDelay): a slow API to measure clients
	// against. Dev nodes only.
	DebugAPIDelay time.Duration

	Logger *slog.Logger

	store   hotchain.Store          // tests: use this store instead of opening one
	crashAt func(point string) bool // tests: stop the node at this crash point of applying an entry
}

// Peer is a voter of a new cluster.
type Peer struct {
	ID       string
	RaftAddr string
	URL      string // its API's base URL
}

// ParsePeers reads "id=raftaddr=url,..." into peers.
func ParsePeers(s string) ([]Peer, error) {
	var peers []Peer
	seen := make(map[string]bool)
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		parts := strings.SplitN(item, "=", 3)
		if len(parts) == 3 {
			parts[2] = strings.TrimRight(parts[2], "/") // "n1=a=/" has no URL
		}
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			return nil, fmt.Errorf("node: peer %q: want id=raftaddr=url", item)
		}
		if seen[parts[0]] {
			return nil, fmt.Errorf("node: peer id %q listed twice", parts[0])
		}
		seen[parts[0]] = true
		peers = append(peers, Peer{ID: parts[0], RaftAddr: parts[1], URL: parts[2]})
	}
	return peers, nil
}

// RaftLogStore names a Raft log store for Config.Raft.LogStore: "bolt"
// (raft-boltdb, the default) or "wal" (hashicorp/raft-wal). Validate
// refuses other names.
func RaftLogStore(name string) consensus.StoreKind { return consensus.StoreKind(name) }

// RaftTimeouts sets Raft's failure-detection timeouts for where the nodes
// run: "loopback" (one machine, the default: a leader's loss is noticed in a
// few hundred milliseconds) or "lan" (hashicorp/raft's defaults, which
// Consul runs in production).
func (c *Config) RaftTimeouts(profile string) error {
	var t consensus.Config
	switch profile {
	case "loopback":
		t = consensus.LoopbackConfig()
	case "lan":
		t = consensus.DefaultConfig()
	default:
		return fmt.Errorf("node: raft timeouts %q: want loopback or lan", profile)
	}
	r := &c.Raft
	r.HeartbeatTimeout, r.ElectionTimeout, r.LeaderLeaseTimeout = t.HeartbeatTimeout, t.ElectionTimeout, t.LeaderLeaseTimeout
	r.CommitTimeout, r.TransportTimeout = t.CommitTimeout, t.TransportTimeout
	return nil
}

// DefaultConfig returns settings for a dev node on this machine.
func DefaultConfig() Config {
	return Config{
		DataDir:       "dualchain-data",
		HTTPAddr:      "127.0.0.1:8545",
		Store:         "memory",
		RedisURL:      "redis://127.0.0.1:6379/0",
		NodeID:        "n1",
		RaftAddr:      "127.0.0.1:8546",
		MaxInFlight:   16,
		Raft:          consensus.LoopbackConfig(),
		ChainID:       "dualchain-dev",
		MaxBlockTxs:   10_000,
		MaxBlockGas:   100_000_000,
		BlockInterval: 5 * time.Millisecond,
		MempoolSize:   200_000,
		NonceWindow:   1024,

		CheckpointInterval: time.Second,
		ColdBlockInterval:  100 * time.Millisecond,
		MaxColdBlockTxs:    20_000,
		ColdPoolSize:       100_000,
		ColdCacheBytes:     64 << 20,
		Exec:               ExecNative,
		VM:                 vm.DefaultConfig(),
		HeaderTimeout:      10 * time.Second,
		MaxConns:           4096,
		Logger:             slog.Default(),
	}
}

// TestConfig returns DefaultConfig with a data dir and fast timings for
// tests, running every call with a native function both ways.
func TestConfig(dataDir string) Config {
	c := DefaultConfig()
	c.DataDir = dataDir
	c.HTTPAddr = "127.0.0.1:0"
	c.RaftAddr = "127.0.0.1:0"
	c.Raft = consensus.TestConfig()
	c.Dev = true
	c.BlockInterval = time.Millisecond
	c.CheckpointInterval = 50 * time.Millisecond
	c.ColdBlockInterval = 10 * time.Millisecond
	c.ColdCacheBytes = 8 << 20
	c.Exec = ExecBoth // every test's calls are checked native against VM
	return c
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.DataDir == "":
		return errors.New("node: data dir is required")
	case c.Store != "redis" && c.Store != "pebble" && c.Store != "memory":
		return fmt.Errorf("node: store %q: want redis, pebble or memory", c.Store)
	case c.Store == "redis" && c.RedisURL == "":
		return errors.New("node: store redis needs a redis URL")
	case c.MaxBlockTxs < 1 || c.MaxBlockTxs > ledger.MaxBlockTxs:
		return fmt.Errorf("node: max block txs must be from 1 to %d (a transaction's place, height × %d + index, is one integer)",
			ledger.MaxBlockTxs, ledger.MaxBlockTxs)
	case c.MaxBlockGas < MaxGasLimit:
		return fmt.Errorf("node: max block gas must be at least a transaction's gas limit, %d", MaxGasLimit)
	case c.BlockInterval <= 0:
		return errors.New("node: block interval must be positive")
	case c.MempoolSize < c.MaxBlockTxs:
		return errors.New("node: mempool size must be at least max block txs")
	case c.NonceWindow < 1:
		return errors.New("node: nonce window must be at least 1")
	case c.CheckpointInterval <= 0 || c.ColdBlockInterval <= 0:
		return errors.New("node: checkpoint and cold block intervals must be positive")
	case c.MaxColdBlockTxs < 1 || c.ColdPoolSize < c.MaxColdBlockTxs:
		return errors.New("node: max cold block txs must be at least 1, and the cold pool at least that")
	case c.Exec != ExecNative && c.Exec != ExecVM && c.Exec != ExecBoth:
		return fmt.Errorf("node: exec %q: want native, vm or both", c.Exec)
	case c.NodeID == "":
		return errors.New("node: node id is required")
	case c.MaxInFlight < 1:
		return errors.New("node: max in flight must be at least 1")
	case c.Join != "" && len(c.Peers) > 0:
		return errors.New("node: give either peers (a new cluster) or join (a running one), not both")
	case c.Edge && c.Join == "":
		return errors.New("node: an edge node joins a running cluster: give join")
	case c.HeaderTimeout <= 0 || c.MaxConns < 1:
		return errors.New("node: the API's header timeout and max conns must be positive")
	case c.DebugAPIDelay < 0:
		return errors.New("node: the debug API delay must not be negative")
	case c.DebugAPIDelay > 0 && !c.Dev:
		return errors.New("node: the debug API delay is for dev nodes only (Dev)")
	}
	if err := c.raftConfig().Validate(); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	return c.VM.Validate()
}

// raftConfig is the consensus configuration: Raft, with this node's id,
// address and data dir.
func (c Config) raftConfig() consensus.Config {
	rc := c.Raft
	rc.NodeID = c.NodeID
	rc.BindAddr = c.RaftAddr
	rc.DataDir = filepath.Join(c.DataDir, raftDir)
	return rc
}
