package consensus

import "github.com/hashicorp/raft"

// Raft's heartbeat fast path is switched off: every RPC a replica receives,
// heartbeats included, is handled on Raft's main goroutine.
//
// hashicorp/raft (v1.8.0) lets a transport hand heartbeats to a handler on
// the transport's own goroutine, so that a follower's disk latency does not
// delay them. But a heartbeat carrying a newer term sets the term and makes
// the node a follower from that goroutine, with nothing to tell the leader
// loop, which may be waiting for the next proposal. A deposed leader handed
// a proposal in that moment writes it under the new leader's term, at an
// index where the new leader has an entry of its own. Both entries carry the same
// term, so neither node ever sees the conflict: the deposed leader keeps its
// entry and applies it once the new leader's commit index passes it, while
// every other node applies the new leader's (hashicorp/raft#695, open when
// this was written; bug 15 in docs/robustness.md, where the robustness
// soak's leader pause made two nodes build different cold chains). Handled
// on the main goroutine, the heartbeat ends the leader loop before it can
// take another proposal.
//
// The cost is that a follower answers heartbeats after the disk writes
// queued before them. Measured on a 2-core machine (consensus/DESIGN.md,
// "Transport"): BenchmarkReplicate unchanged, BenchmarkCluster/saturated
// about 4% slower, and about as many elections and lease step-downs in a
// 30-minute robustness soak as before (135 and 22, against 144 and 20).

// serialTransport is a transport that never gets a heartbeat handler.
type serialTransport struct{ raft.Transport }

// serialPreVoteTransport is a serialTransport over a transport that can
// carry pre-votes: raft asks for raft.WithPreVote by type assertion, so the
// wrapper has it only when the transport it wraps does.
type serialPreVoteTransport struct {
	serialTransport
	preVote raft.WithPreVote
}

// serialize wraps t so that Raft cannot install its heartbeat fast path.
func serialize(t raft.Transport) raft.Transport {
	s := serialTransport{t}
	if pv, ok := t.(raft.WithPreVote); ok {
		return serialPreVoteTransport{serialTransport: s, preVote: pv}
	}
	return s
}

// SetHeartbeatHandler drops the handler: the transport then queues
// heartbeats for Raft's main goroutine like any other RPC.
func (serialTransport) SetHeartbeatHandler(func(raft.RPC)) {}

// Close closes the wrapped transport, if it can be closed (raft.WithClose).
func (t serialTransport) Close() error { return closeTransport(t.Transport) }

// RequestPreVote implements raft.WithPreVote.
func (t serialPreVoteTransport) RequestPreVote(id raft.ServerID, target raft.ServerAddress,
	args *raft.RequestPreVoteRequest, resp *raft.RequestPreVoteResponse) error {
	return t.preVote.RequestPreVote(id, target, args, resp)
}

var (
	_ raft.WithClose   = serialTransport{}
	_ raft.WithPreVote = serialPreVoteTransport{}
)
