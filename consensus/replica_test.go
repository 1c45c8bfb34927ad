package consensus_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dualchain/dualchain/consensus"
	"github.com/dualchain/dualchain/consensus/consensustest"
	"golang.org/x/sync/errgroup"
)

// TestReplicate runs a 3-replica group over TCP on 127.0.0.1 with each log
// store: entries reach every FSM in one order, snapshots are taken, a new
// leader takes over from a stopped one, and a restarted replica catches up
// from its snapshot and the log.
func TestReplicate(t *testing.T) {
	for _, kind := range []consensus.StoreKind{consensus.StoreWAL, consensus.StoreBolt} {
		t.Run(string(kind), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			cfg := consensus.TestConfig()
			cfg.LogStore = kind
			logger := consensustest.Logger(t, slog.LevelInfo)
			c := newCluster(t, 3, cfg, func() consensus.FSM { return consensustest.NewMemoryFSM() }, logger)

			first := c.waitLeader(ctx)
			pipeline(ctx, t, c.reps[first], "a", 1000)
			checkReplicated(ctx, t, c, 1000, nil)
			checkSequence(t, c.fsms[0].(*consensustest.MemoryFSM).Entries(), "a", 1000)
			for i := range c.reps {
				waitSnapshot(ctx, t, c.cfgs[i].DataDir)
			}

			c.stop(first)
			second := c.waitLeader(ctx, first)
			if second == first {
				t.Fatalf("leader after stopping %s is %s, want another", c.cfgs[first].NodeID, c.cfgs[second].NodeID)
			}
			propose(ctx, t, c.reps[second], "b", 200)
			checkReplicated(ctx, t, c, 1200, []int{first})

			fsm := consensustest.NewMemoryFSM()
			c.restart(first, fsm)
			checkReplicated(ctx, t, c, 1200, nil)
			if fsm.Restores() == 0 {
				t.Errorf("restarted %s restored %d snapshots, want at least 1", c.cfgs[first].NodeID, fsm.Restores())
			}
		})
	}
}

// pipeline proposes n entries "prefix/0/i" through r from one goroutine
// without waiting for each, then waits for them all.
func pipeline(ctx context.Context, t *testing.T, r *consensus.Replica, prefix string, n int) {
	t.Helper()
	ps := make([]consensus.Proposal, n)
	for i := range ps {
		p, err := r.Propose(ctx, fmt.Appendf(nil, "%s/0/%d", prefix, i))
		if err != nil {
			t.Fatalf("Propose on %s = %v, want nil", r.ID(), err)
		}
		ps[i] = p
	}
	var last uint64
	for i, p := range ps {
		idx, err := p.Wait(ctx)
		if err != nil || idx <= last {
			t.Fatalf("entry %d: Wait() = %d, %v, want an index past %d, nil", i, idx, err, last)
		}
		last = idx
	}
}

// checkSequence checks that es are exactly "prefix/0/0" ... "prefix/0/n-1".
func checkSequence(t *testing.T, es []consensus.Entry, prefix string, n int) {
	t.Helper()
	for i, e := range es[:n] {
		if want := fmt.Sprintf("%s/0/%d", prefix, i); string(e.Data) != want {
			t.Fatalf("entry %d at index %d = %q, want %q", i, e.Index, e.Data, want)
		}
	}
}

// propose applies n entries "prefix/w/i" through r from 8 concurrent
// proposers, each waiting for its entry to commit before the next.
func propose(ctx context.Context, t *testing.T, r *consensus.Replica, prefix string, n int) {
	t.Helper()
	const workers = 8
	g, ctx := errgroup.WithContext(ctx)
	for w := range workers {
		g.Go(func() error {
			for i := w; i < n; i += workers {
				if _, err := r.Apply(ctx, fmt.Appendf(nil, "%s/%d/%d", prefix, w, i)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("Apply on %s = %v, want nil", r.ID(), err)
	}
}

// checkReplicated waits until every FSM not in down holds n entries, then
// checks that they hold the same entries, with strictly increasing indices,
// each proposer's entries in the order it proposed them.
func checkReplicated(ctx context.Context, t *testing.T, c *cluster, n int, down []int) {
	t.Helper()
	var want []consensus.Entry
	wantFrom := ""
	for i, f := range c.fsms {
		if slices.Contains(down, i) {
			continue
		}
		m := f.(*consensustest.MemoryFSM)
		if err := m.WaitLen(ctx, n); err != nil {
			t.Fatalf("%s: %v", c.cfgs[i].NodeID, err)
		}
		got := m.Entries()
		if len(got) != n {
			t.Fatalf("%s holds %d entries, want %d", c.cfgs[i].NodeID, len(got), n)
		}
		if want == nil {
			want, wantFrom = got, c.cfgs[i].NodeID
			checkOrder(t, got)
			continue
		}
		if !slices.EqualFunc(got, want, entryEqual) {
			t.Fatalf("%s's entries differ from %s's", c.cfgs[i].NodeID, wantFrom)
		}
	}
}

func entryEqual(a, b consensus.Entry) bool {
	return a.Index == b.Index && a.Term == b.Term && string(a.Data) == string(b.Data)
}

// checkOrder checks strictly increasing indices, non-decreasing terms and,
// per proposer "prefix/w", increasing sequence numbers.
func checkOrder(t *testing.T, es []consensus.Entry) {
	t.Helper()
	last := map[string]int{}
	for k, e := range es {
		if k > 0 && (e.Index <= es[k-1].Index || e.Term < es[k-1].Term) {
			t.Fatalf("entry %d at index %d term %d after index %d term %d", k, e.Index, e.Term, es[k-1].Index, es[k-1].Term)
		}
		proposer, seq := splitEntry(t, e.Data)
		if prev, ok := last[proposer]; ok && seq <= prev {
			t.Fatalf("entry %q at index %d after %s/%d", e.Data, e.Index, proposer, prev)
		}
		last[proposer] = seq
	}
}

func splitEntry(t *testing.T, data []byte) (string, int) {
	t.Helper()
	s := string(data)
	cut := strings.LastIndexByte(s, '/')
	seq, err := strconv.Atoi(s[cut+1:])
	if cut < 0 || err != nil {
		t.Fatalf("entry %q is not prefix/worker/seq", s)
	}
	return s[:cut], seq
}

// waitSnapshot waits until Raft's file snapshot store under dataDir holds
// a complete snapshot (meta.json and state.bin).
func waitSnapshot(ctx context.Context, t *testing.T, dataDir string) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !hasSnapshot(dataDir) {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("no snapshot in %s: %v", dataDir, ctx.Err())
		}
	}
}

func hasSnapshot(dataDir string) bool {
	dirs, _ := os.ReadDir(filepath.Join(dataDir, "snapshots"))
	for _, d := range dirs {
		_, errMeta := os.Stat(filepath.Join(dataDir, "snapshots", d.Name(), "meta.json"))
		_, errState := os.Stat(filepath.Join(dataDir, "snapshots", d.Name(), "state.bin"))
		if errMeta == nil && errState == nil && !strings.HasSuffix(d.Name(), ".tmp") {
			return true
		}
	}
	return false
}
