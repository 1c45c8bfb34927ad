package client

import (
	"context"
	"fmt"
	"net/http"

	"github.com/dualchain/dualchain/api"
)

// Admin returns a client of the same node, sharing this one's
// connections, that sends the cluster's admin token with every request:
// the /v1/admin endpoints want it.
func (c *Client) Admin(token string) *Client {
	a := *c
	a.token = token
	return &a
}

// RaftLog returns the node's Raft log bounds and, with every above 0,
// digests of its committed entries from..to (to 0: its commit index) in
// segments cut after every multiple of every. Two nodes asked with the
// same from and every digest the same entries at the same index. It needs
// a client made with Admin.
func (c *Client) RaftLog(ctx context.Context, from, to, every uint64) (api.RaftLog, error) {
	var lg api.RaftLog
	path := fmt.Sprintf("/v1/admin/raft/log?from=%d&to=%d&every=%d", from, to, every)
	err := c.do(ctx, http.MethodGet, path, nil, &lg)
	return lg, err
}
