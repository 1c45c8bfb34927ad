package audit

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/ledger"
)

// answered returns the nodes that gave an audit.
func answered(nodes []Node) []Node {
	var out []Node
	for _, n := range nodes {
		if n.Audit != nil {
			out = append(out, n)
		}
	}
	return out
}

// blockID is what two nodes must agree on at one height.
type blockID struct {
	root, hash ledger.Hash
	err        string
}

// fetchFunc fetches one node's block at a height.
type fetchFunc func(context.Context, *client.Client, uint64) (blockID, error)

// compareAt is a check across nodes: at the lowest height any answering
// node reports, fetch each node's block there and compare what fetch
// returns.
func compareAt(ctx context.Context, timeout time.Duration, nodes []Node, check, chain, what string,
	height func(*api.Audit) uint64, fetch fetchFunc) Check {
	up := answered(nodes)
	if len(up) == 0 {
		return Check{check, "all", false, "no node answered"}
	}
	h := height(up[0].Audit)
	for _, n := range up {
		h = min(h, height(n.Audit))
	}
	if h == 0 {
		return Check{check, "all", true, fmt.Sprintf("a node has no %s block yet: nothing to compare", chain)}
	}
	ids := fetchBlocks(ctx, timeout, up, h, fetch)
	return judge(check, chain, what, up, h, ids)
}

// fetchBlocks fetches each node's block at height h, all at once.
func fetchBlocks(ctx context.Context, timeout time.Duration, up []Node, h uint64, fetch fetchFunc) []blockID {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ids := make([]blockID, len(up))
	var wg sync.WaitGroup
	for i, n := range up {
		wg.Go(func() {
			id, err := fetch(ctx, client.New(n.URL), h)
			if err != nil {
				id.err = DescribeError(err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	return ids
}

// judge passes if every node served its block and all agree.
func judge(check, chain, what string, up []Node, h uint64, ids []blockID) Check {
	agree := true
	var each []string
	for i, id := range ids {
		agree = agree && id.err == "" && id.root == ids[0].root && id.hash == ids[0].hash
		if id.err != "" {
			each = append(each, fmt.Sprintf("%s: %s", up[i].ID, id.err))
		} else {
			each = append(each, fmt.Sprintf("%s: %s %s, hash %s", up[i].ID, what, short(id.root), short(id.hash)))
		}
	}
	if agree {
		return Check{check, "all", true, fmt.Sprintf("at %s height %d, %s: %s %s, hash %s",
			chain, h, nodesCount(len(ids)), what, ids[0].root, ids[0].hash)}
	}
	return Check{check, "all", false, fmt.Sprintf("at %s height %d: %s", chain, h, strings.Join(each, "; "))}
}

func nodesCount(n int) string {
	if n == 1 {
		return "1 node"
	}
	return fmt.Sprintf("%d nodes", n)
}

// short is the first 12 hex digits of h, as tables show a hash.
func short(h ledger.Hash) string { return h.String()[:12] }

func compareCold(ctx context.Context, timeout time.Duration, nodes []Node) Check {
	return compareAt(ctx, timeout, nodes, CheckColdRoots, "cold", "state root",
		func(au *api.Audit) uint64 { return au.ColdHeight },
		func(ctx context.Context, c *client.Client, h uint64) (blockID, error) {
			b, err := c.ColdBlock(ctx, h)
			if err != nil {
				return blockID{}, err
			}
			if b.Header.Height != h {
				return blockID{}, fmt.Errorf("asked for cold block %d, got %d", h, b.Header.Height)
			}
			return blockID{root: b.Header.StateRoot, hash: b.Header.Hash()}, nil
		})
}

func compareHot(ctx context.Context, timeout time.Duration, nodes []Node) Check {
	return compareAt(ctx, timeout, nodes, CheckHotCommits, "hot", "commitment",
		func(au *api.Audit) uint64 { return au.HotHeight },
		func(ctx context.Context, c *client.Client, h uint64) (blockID, error) {
			b, err := c.Block(ctx, h)
			if err != nil {
				return blockID{}, err
			}
			if b.Height != h {
				return blockID{}, fmt.Errorf("asked for hot block %d, got %d", h, b.Height)
			}
			return blockID{root: b.Commitment, hash: b.Hash}, nil
		})
}
