package robust

import "github.com/dualchain/dualchain/api"

// LogRange returns the Raft log indexes every node of logs can digest
// (GET /v1/admin/raft/log with every=0 gives each node's bounds): from
// the highest first index, above every node's floor, to the lowest commit
// index. ok is false when they share none (or logs is empty). Asked for
// this range with the same step, the nodes report digests of the same
// entries at the same indexes, so NodeReport.Log compares them.
func LogRange(logs []api.RaftLog) (from, to uint64, ok bool) {
	if len(logs) == 0 {
		return 0, 0, false
	}
	from, to = 1, logs[0].CommitIndex
	for _, lg := range logs {
		from = max(from, lg.FirstIndex, lg.FloorIndex+1)
		to = min(to, lg.CommitIndex)
	}
	return from, to, from <= to
}

// LogEvery is the segment length that digests from..to in at most
// maxPoints points: 1 (every entry its own point) when the range is
// small enough.
func LogEvery(from, to uint64, maxPoints int) uint64 {
	if to < from || maxPoints < 1 {
		return 1
	}
	n := to - from + 1
	return max(1, (n+uint64(maxPoints)-1)/uint64(maxPoints))
}

// LogPoints is a node's digests as Points, for NodeReport.Log.
func LogPoints(lg api.RaftLog) []Point {
	out := make([]Point, 0, len(lg.Digests))
	for _, d := range lg.Digests {
		out = append(out, Point{At: d.Index, Digest: d.Digest})
	}
	return out
}
