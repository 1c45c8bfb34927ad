package node

import (
	"context"
	"errors"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/consensus"
	"github.com/dualchain/dualchain/ledger"
)

var _ api.RaftLogBackend = backend{}

// RaftLog digests this node's Raft log (consensus.Replica.LogDigests), so
// that a checker can tell whether the nodes hold identical logs.
func (b backend) RaftLog(ctx context.Context, from, to, every uint64) (api.RaftLog, error) {
	d, err := b.n.replica.LogDigests(ctx, from, to, every)
	if errors.Is(err, consensus.ErrBadDigestRange) {
		return api.RaftLog{}, detail(errBadRange, "%v", err)
	}
	if err != nil {
		return api.RaftLog{}, err
	}
	out := api.RaftLog{
		FirstIndex: d.First, LastIndex: d.Last, CommitIndex: d.Commit, FloorIndex: d.Floor,
		From: d.From, To: d.To, Every: every,
	}
	for _, p := range d.Points {
		out.Digests = append(out.Digests, api.RaftLogDigest{Index: p.Index, Digest: ledger.Hash(p.Digest)})
	}
	return out, nil
}

// errBadRange is a range of log indexes the node will not digest.
var errBadRange = coded(api.CodeBadRequest, "bad range of log indexes")
