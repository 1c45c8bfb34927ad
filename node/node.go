package node

import (
	"context"
	"errors"
	"net"

	"github.com/dualchain/dualchain/api"
)

// Node is one staking node: store, block log, mempool, block producer and
// HTTP API.
type Node struct {
	cfg Config
}

// New opens (or, with Dev, creates) the node's data dir, store and block
// log, and replays committed log entries the store has not applied.
func New(ctx context.Context, cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return nil, errors.New("node: not implemented yet")
}

// Run produces blocks and serves the API until ctx ends or a component
// fails; it closes the node's resources before it returns.
func (n *Node) Run(ctx context.Context) error { return errors.New("node: not implemented yet") }

// Addr is the address the API listens on (useful with port 0).
func (n *Node) Addr() net.Addr { return nil }

// Backend is the node as the API sees it.
func (n *Node) Backend() api.Backend { return nil }
