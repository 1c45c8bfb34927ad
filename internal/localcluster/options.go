package localcluster

import (
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
)

// Stores a cluster's nodes can keep their hot state in.
const (
	StoreRedis  = "redis"  // one redis-server per node
	StoreMemory = "memory" // the node's embedded in-memory store
	StorePebble = "pebble" // Pebble on the node's disk, a synced write per block
)

// RedisServer is the program started for each node with StoreRedis,
// looked up on PATH.
const RedisServer = "redis-server"

// Options describes the cluster Up makes.
type Options struct {
	Binary   string    // path of the dualchain binary the nodes run
	Dir      string    // directory for cluster.json, genesis, keys and node data; must be empty or absent
	Nodes    int       // Raft voters, at least 1
	Edges    int       // edge nodes (Raft non-voters), 0 or more
	Store    string    // StoreRedis, StoreMemory, StorePebble, or "" for redis when redis-server is on PATH, else memory
	NodeArgs []string  // extra flags passed to every node, e.g. "--snapshot-threshold", "64"
	Log      io.Writer // progress lines; nil for none
	// Place, if set, says where each node runs: it is called with the
	// node's index (0 for n1, in the order nodes are added, AddNode's
	// too) before its ports are picked. Nil runs every node on
	// 127.0.0.1 in this network namespace.
	Place PlaceFunc
}

// PlaceFunc places node i (see Options.Place).
type PlaceFunc func(i int) (Placement, error)

// Placement is where a node and its redis-server run: typically a
// network namespace of their own (internal/netfault), so that the network
// between nodes can be broken.
type Placement struct {
	// Exec is the argv prefix that starts a process there, e.g. "ip netns
	// exec NAME"; it must exec the program, so that the PID started is
	// the program's.
	Exec []string
	// Host is the address the node binds its API and Raft on, reachable
	// from this process and the other nodes. Its redis-server listens on
	// 127.0.0.1 there (the node's --redis) and on Host (for this process).
	Host string
}

// validate checks o and returns it with absolute paths.
func (o Options) validate() (Options, error) {
	switch {
	case o.Binary == "":
		return o, fmt.Errorf("%w: no dualchain binary", ErrBadOptions)
	case o.Dir == "":
		return o, fmt.Errorf("%w: no directory", ErrBadOptions)
	case o.Nodes < 1:
		return o, fmt.Errorf("%w: %d nodes: want at least 1", ErrBadOptions, o.Nodes)
	case o.Edges < 0:
		return o, fmt.Errorf("%w: %d edge nodes: want 0 or more", ErrBadOptions, o.Edges)
	}
	var err error
	if o.Binary, err = absExecutable(o.Binary); err != nil {
		return o, err
	}
	if o.Dir, err = filepath.Abs(o.Dir); err != nil {
		return o, fmt.Errorf("%w: directory %q: %v", ErrBadOptions, o.Dir, err)
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o, nil
}

// absExecutable returns the absolute path of an executable file: recorded
// in every node's argv, it must not depend on the directory or PATH of
// whoever restarts the node.
func absExecutable(bin string) (string, error) {
	path, err := exec.LookPath(bin)
	if err != nil {
		return "", fmt.Errorf("%w: dualchain binary %q: %v", ErrBadOptions, bin, err)
	}
	if path, err = filepath.Abs(path); err != nil {
		return "", fmt.Errorf("%w: dualchain binary %q: %v", ErrBadOptions, bin, err)
	}
	return path, nil
}

// PickStore resolves a store choice: StoreRedis, StoreMemory and StorePebble stand,
// "" is StoreRedis when redis-server is on PATH and StoreMemory otherwise.
// It returns the store, the redis-server path (empty with StoreMemory) and
// why, in words for a user ("redis-server found at /usr/bin/redis-server").
// StoreRedis without redis-server is ErrNoRedisServer.
func PickStore(store string) (picked, redisPath, why string, err error) {
	path, lookErr := exec.LookPath(RedisServer)
	switch {
	case store == StoreMemory:
		return StoreMemory, "", "the embedded in-memory store was asked for", nil
	case store == StorePebble:
		return StorePebble, "", "Pebble on disk was asked for (a synced write per block)", nil
	case store != StoreRedis && store != "":
		return "", "", "", fmt.Errorf("%w: store %q: want %s, %s or %s", ErrBadOptions, store, StoreRedis, StoreMemory, StorePebble)
	case lookErr == nil:
		return StoreRedis, path, "redis-server found at " + path, nil
	case store == StoreRedis:
		return "", "", "", fmt.Errorf("%w (install it, or use the %s store): %v", ErrNoRedisServer, StoreMemory, lookErr)
	}
	return StoreMemory, "", "redis-server not installed: using the embedded in-memory store", nil
}
