package consensus_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/dualchain/dualchain/consensus"
	"github.com/dualchain/dualchain/consensus/consensustest"
	"github.com/hashicorp/raft"
)

// inmemCluster is n replicas wired over raft.InmemTransport, bootstrapped
// by the first.
func inmemCluster(t *testing.T, n int) *cluster {
	t.Helper()
	c := &cluster{tb: t, logger: consensustest.Logger(t, slog.LevelWarn)}
	trans := make([]*raft.InmemTransport, n)
	var servers []consensus.Server
	for i := range n {
		cfg := consensus.TestConfig()
		cfg.NodeID = fmt.Sprintf("n%d", i+1)
		cfg.DataDir = t.TempDir()
		_, trans[i] = raft.NewInmemTransport(raft.ServerAddress(cfg.NodeID))
		cfg.Transport = trans[i]
		c.cfgs = append(c.cfgs, cfg)
		c.fsms = append(c.fsms, consensustest.NewMemoryFSM())
		servers = append(servers, consensus.Server{ID: cfg.NodeID, Addr: cfg.NodeID})
	}
	for i := range trans {
		for j := range trans {
			if i != j {
				trans[i].Connect(trans[j].LocalAddr(), trans[j])
			}
		}
	}
	t.Cleanup(c.close)
	for i := range c.cfgs {
		c.reps = append(c.reps, c.open(i))
	}
	if err := c.reps[0].Bootstrap(servers); err != nil {
		t.Fatalf("Bootstrap(%v) = %v, want nil", servers, err)
	}
	return c
}

// commonDigests asks every replica for its digests over the range all of
// them hold, up to the lowest commit index, and returns them.
func commonDigests(ctx context.Context, t *testing.T, c *cluster, every uint64) []consensus.LogDigest {
	t.Helper()
	var from, to uint64 = 1, 0
	for _, r := range c.reps {
		d, err := r.LogDigests(ctx, 0, 0, 0)
		if err != nil {
			t.Fatalf("LogDigests(%s) = %v, want nil", r.ID(), err)
		}
		from = max(from, d.First, d.Floor+1)
		if to == 0 || d.Commit < to {
			to = d.Commit
		}
	}
	var out []consensus.LogDigest
	for _, r := range c.reps {
		d, err := r.LogDigests(ctx, from, to, every)
		if err != nil {
			t.Fatalf("LogDigests(%s, %d, %d, %d) = %v, want nil", r.ID(), from, to, every, err)
		}
		out = append(out, d)
	}
	return out
}

// Replicas of one group report the same digests over the range they all
// hold, although each compacted its log at its own point; an entry
// changed in one replica's store changes that replica's digest of its
// segment, and only that one.
func TestLogDigests(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c := inmemCluster(t, 3)
	fill(ctx, t, c, 400) // past TestConfig's snapshot threshold
	l := c.waitLeader(ctx)
	waitSnapshot(ctx, t, c.cfgs[l].DataDir)

	const every = 16
	ds := commonDigests(ctx, t, c, every)
	if n := len(ds[0].Points); n < 4 {
		t.Fatalf("digests over %d..%d: %d points; want 4 segments at least", ds[0].From, ds[0].To, n)
	}
	// A replica may compact the start of the range between the two calls:
	// it then leaves out the first segments. Where both have a point, the
	// points must be equal.
	for i, d := range ds[1:] {
		if shared := agree(t, ds[0], d, c.cfgs[0].NodeID, c.cfgs[i+1].NodeID); shared < 4 {
			t.Fatalf("%s and %s share %d points, want 4 at least", c.cfgs[0].NodeID, c.cfgs[i+1].NodeID, shared)
		}
	}

	// Tamper with an entry of a follower's store, behind Raft's back,
	// in the second last segment: within the trailing logs no compaction
	// removes.
	f := (l + 1) % 3
	k := len(ds[l].Points) - 2
	at := ds[l].Points[k].Index - 1
	store := c.reps[f].LogStoreForTest()
	var e raft.Log
	if err := store.GetLog(at, &e); err != nil {
		t.Fatalf("GetLog(%d) = %v, want nil", at, err)
	}
	e.Data = append(slices.Clone(e.Data), '!')
	if err := store.StoreLog(&e); err != nil {
		t.Fatalf("StoreLog(%d) = %v, want nil", at, err)
	}
	got, err := c.reps[f].LogDigests(ctx, ds[0].From, ds[0].To, every)
	if err != nil {
		t.Fatal(err)
	}
	want := ds[l].Points[k]
	for _, p := range got.Points {
		if p.Index == want.Index && p == want {
			t.Errorf("after tampering with entry %d: the digest at %d is unchanged", at, want.Index)
		}
	}
	ds[f] = got
	if differ := mismatches(ds[l], got); len(differ) != 1 || differ[0] != want.Index {
		t.Errorf("after tampering with entry %d: points differ at %v, want at %d only", at, differ, want.Index)
	}
}

// mismatches returns the indexes where a and b both have a point and the
// points differ.
func mismatches(a, b consensus.LogDigest) []uint64 {
	at := map[uint64]consensus.LogPoint{}
	for _, p := range a.Points {
		at[p.Index] = p
	}
	var out []uint64
	for _, p := range b.Points {
		if q, ok := at[p.Index]; ok && q != p {
			out = append(out, p.Index)
		}
	}
	return out
}

// agree fails the test where a and b differ, and returns at how many
// indexes both have a point.
func agree(t *testing.T, a, b consensus.LogDigest, an, bn string) int {
	t.Helper()
	if d := mismatches(a, b); len(d) > 0 {
		t.Fatalf("%s's and %s's digests over %d..%d differ at %v", an, bn, a.From, a.To, d)
	}
	shared := 0
	for _, p := range b.Points {
		if slices.ContainsFunc(a.Points, func(q consensus.LogPoint) bool { return q.Index == p.Index }) {
			shared++
		}
	}
	return shared
}

// fill commits n entries through whoever leads, in batches proposed
// without waiting, again where a batch failed (a leader lost on a loaded
// machine), then waits until every replica has committed them all.
func fill(ctx context.Context, t *testing.T, c *cluster, n int) {
	t.Helper()
	var last uint64
	for done := 0; done < n; {
		r := c.reps[c.waitLeader(ctx)]
		var ps []consensus.Proposal
		for i := range min(50, n-done) {
			p, err := r.Propose(ctx, fmt.Appendf(nil, "fill/%d/%d", done, i))
			if err != nil {
				t.Fatalf("Propose on %s = %v, want nil", r.ID(), err)
			}
			ps = append(ps, p)
		}
		for _, p := range ps {
			if idx, err := p.Wait(ctx); err == nil {
				done, last = done+1, max(last, idx)
			}
		}
	}
	for _, r := range c.reps {
		for r.State().CommitIndex < last {
			select {
			case <-ctx.Done():
				t.Fatalf("%s committed %d, want %d: %v", r.ID(), r.State().CommitIndex, last, ctx.Err())
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
}

// Segments are cut at multiples of every; a segment the range or the log
// does not hold entirely is left out, and nothing past the commit index is
// read.
func TestLogDigestsSegments(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c := inmemCluster(t, 1)
	r := c.reps[c.waitLeader(ctx)]
	pipeline(ctx, t, r, "a", 40)
	d, err := r.LogDigests(ctx, 5, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var at []uint64
	for _, p := range d.Points {
		at = append(at, p.Index)
	}
	want := []uint64{10, 20, 30, 40, d.Commit}
	if d.Commit%10 == 0 {
		want = want[:len(want)-1]
	}
	want = slices.Compact(want)
	if d.From != 5 || d.To != d.Commit || !slices.Equal(at, want) {
		t.Fatalf("LogDigests(5, 0, 10) = %d..%d at %v; want 5..%d at %v", d.From, d.To, at, d.Commit, want)
	}
	// The first segment is 5..10 here; from 1 it is 1..10, another digest.
	d1, err := r.LogDigests(ctx, 1, d.To, 10)
	if err != nil {
		t.Fatal(err)
	}
	if d1.Points[0] == d.Points[0] || !slices.Equal(d1.Points[1:], d.Points[1:]) {
		t.Fatalf("digests from 1 and from 5: first %v and %v, want different; the rest equal", d1.Points[0], d.Points[0])
	}
	if b, err := r.LogDigests(ctx, 0, 0, 0); err != nil || len(b.Points) != 0 || b.Commit < d.Commit || b.First != d.First {
		t.Errorf("LogDigests(0, 0, 0) = %+v, %v; want the bounds (first %d, commit >= %d) and no points", b, err, d.First, d.Commit)
	}
	for _, bad := range [][3]uint64{{10, 5, 1}, {10, 5, 0}} {
		if _, err := r.LogDigests(ctx, bad[0], bad[1], bad[2]); !errors.Is(err, consensus.ErrBadDigestRange) {
			t.Errorf("LogDigests(%v) = %v, want ErrBadDigestRange", bad, err)
		}
	}
}

// A replica restarted over a snapshot digests nothing at or below the
// snapshot it restored: the floor.
func TestLogDigestsFloor(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c := inmemCluster(t, 1)
	r := c.reps[c.waitLeader(ctx)]
	pipeline(ctx, t, r, "a", 300)
	waitSnapshot(ctx, t, c.cfgs[0].DataDir)
	c.stop(0)
	_, tr := raft.NewInmemTransport(raft.ServerAddress(c.cfgs[0].NodeID))
	c.cfgs[0].Transport = tr
	c.cfgs[0].SnapshotThreshold = 1 << 20 // no compaction while the test reads
	c.fsms[0] = consensustest.NewMemoryFSM()
	c.reps[0] = c.open(0)
	r = c.reps[c.waitLeader(ctx)]
	pipeline(ctx, t, r, "b", 10)
	d, err := r.LogDigests(ctx, 1, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if d.Floor == 0 || len(d.Points) == 0 || d.Points[0].Index <= d.Floor || d.Points[0].Index != max(d.First, d.Floor+1) {
		t.Fatalf("after a restart: floor %d, first %d, points from %v; want a floor and points from just above it", d.Floor, d.First, d.Points[:min(1, len(d.Points))])
	}
}
