package localcluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/dualchain/dualchain/internal/atomicfile"
)

// ManifestFile is the file in a cluster's directory that describes it.
const ManifestFile = "cluster.json"

// Node is one node of a cluster as cluster.json records it.
type Node struct {
	ID   string   `json:"id"`   // n1, n2, ... for voters; e1, e2, ... for edge nodes
	Edge bool     `json:"edge"` // a Raft non-voter that serves reads and forwards transactions
	URL  string   `json:"url"`  // its HTTP API, http://127.0.0.1:PORT
	Raft string   `json:"raft"` // its Raft address, 127.0.0.1:PORT
	Data string   `json:"data"` // its data directory
	PID  int      `json:"pid"`  // its process when last started; 0 once stopped
	Args []string `json:"args"` // its full argv, the binary first
	// Redis is its redis-server, nil with the in-memory store.
	Redis *Redis `json:"redis"`
	// Exec is the argv prefix its processes are started with, to run in
	// its network namespace (Options.Place); nil for this one. Args is
	// the argv they have once the prefix has exec'ed.
	Exec []string `json:"exec,omitempty"`
	// Removed marks a node RemoveNode took out; kept for its id, ports and data.
	Removed bool `json:"removed,omitempty"`
}

// Redis is one node's redis-server.
type Redis struct {
	URL  string `json:"url"`  // redis://127.0.0.1:PORT/0, the node's --redis
	Port int    `json:"port"` // its loopback port
	PID  int    `json:"pid"`  // its process when last started; 0 once stopped
	Dir  string `json:"dir"`  // its working directory and log; it persists nothing
	// Host is where this program reaches it, besides 127.0.0.1 in the
	// node's namespace (its URL); "" for 127.0.0.1 here.
	Host string `json:"host,omitempty"`
}

// manifest is cluster.json.
type manifest struct {
	ChainID     string   `json:"chain_id"`
	Store       string   `json:"store"`
	AdminToken  string   `json:"admin_token"`
	Binary      string   `json:"binary"`
	RedisServer string   `json:"redis_server,omitempty"` // with StoreRedis, the program run for each node
	NodeArgs    []string `json:"node_args,omitempty"`    // Options.NodeArgs, for nodes added later
	Nodes       []Node   `json:"nodes"`

	place PlaceFunc // Options.Place or SetPlace's; not recorded
}

// clone returns a deep copy of n.
func (n Node) clone() Node {
	n.Args = slices.Clone(n.Args)
	n.Exec = slices.Clone(n.Exec)
	if n.Redis != nil {
		r := *n.Redis
		n.Redis = &r
	}
	return n
}

// readManifest reads dir/cluster.json.
func readManifest(dir string) (*manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s", ErrNoCluster, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("localcluster: %w", err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadManifest, path, err)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadManifest, path, err)
	}
	return &m, nil
}

// validate checks what the methods of Cluster rely on.
func (m *manifest) validate() error {
	switch {
	case m.Store != StoreRedis && m.Store != StoreMemory && m.Store != StorePebble:
		return fmt.Errorf("store %q: want %s, %s or %s", m.Store, StoreRedis, StoreMemory, StorePebble)
	case m.Store == StoreRedis && m.RedisServer == "":
		return errors.New("store redis without a redis_server")
	case len(m.Nodes) == 0:
		return errors.New("no nodes")
	}
	seen := make(map[string]bool, len(m.Nodes))
	for i, n := range m.Nodes {
		if err := n.validate(m.Store); err != nil {
			return fmt.Errorf("node %d (%q): %v", i, n.ID, err)
		}
		if seen[n.ID] {
			return fmt.Errorf("node %q appears twice", n.ID)
		}
		seen[n.ID] = true
	}
	return nil
}

func (n Node) validate(store string) error {
	switch {
	case n.ID == "" || n.URL == "" || n.Data == "":
		return errors.New("id, url and data are required")
	case len(n.Args) < 2:
		return errors.New("args must hold the binary and its arguments")
	case n.PID < 0:
		return fmt.Errorf("pid %d", n.PID)
	case (store == StoreRedis) != (n.Redis != nil):
		return fmt.Errorf("redis is %v with store %s", n.Redis, store)
	case n.Redis != nil && (n.Redis.Port <= 0 || n.Redis.Port > 65535 || n.Redis.Dir == "" || n.Redis.PID < 0):
		return fmt.Errorf("redis port %d, dir %q, pid %d", n.Redis.Port, n.Redis.Dir, n.Redis.PID)
	}
	return nil
}

// write replaces dir/cluster.json atomically: the file is written aside,
// synced and renamed, then the directory is synced. It holds the admin
// token, so it is readable by its owner only.
func (m *manifest) write(dir string) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("localcluster: encode %s: %w", ManifestFile, err)
	}
	path := filepath.Join(dir, ManifestFile)
	if err := atomicfile.Write(path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("localcluster: write %s: %w", path, err)
	}
	return nil
}
