package robustness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/dualchain/dualchain/internal/robust"
	"github.com/dualchain/dualchain/ledger"
)

// Faults of membership and replication under load (ARCHITECTURE §5): the
// leadership handed to a chosen follower, a follower replaced by a fresh
// node that must catch up from a snapshot (from the log while the leader
// has taken none), and a follower paused until the leader compacted its
// log past it, so that it must install one. The workload runs on
// meanwhile; each shows its effect in the nodes' status, their admin
// API, their metrics and their logs.

const (
	// logInstalled is what hashicorp/raft logs once a follower installed a
	// snapshot a leader sent it (raft.go, installSnapshot): the one
	// evidence of an InstallSnapshot. A snapshot index alone is not one,
	// as every node also takes snapshots of its own.
	logInstalled = "Installed remote snapshot"
	// raftTrailingLogs is hashicorp/raft's default for a node started
	// without --trailing-logs.
	raftTrailingLogs = 10240
	// lagMargin is how many entries past its applied index plus the
	// trailing logs the leader's snapshot must be before a paused follower
	// is resumed: its log may hold entries it had not applied yet.
	lagMargin = 128
	// afterCaughtUp bounds the wait for the evidence of a snapshot install
	// (a log line, a metric) once a node caught up.
	afterCaughtUp = 5 * time.Second
	// lagPatience is how long the workload alone may make the entries a
	// paused follower must fall behind by, before burst helps.
	lagPatience = 10 * time.Second
)

// leaderTransfer: the leader is asked (POST /v1/admin/leadership) to hand
// leadership to a follower chosen at random; that follower must lead in a
// later term. Nothing to heal: the workload goes on under the new leader.
type leaderTransfer struct{}

func (leaderTransfer) Name() string     { return "leader-transfer" }
func (leaderTransfer) NeedsRedis() bool { return false }

func (f leaderTransfer) Inject(ctx context.Context, e *Env) (*Injection, error) {
	old, err := e.leader(ctx)
	if err != nil {
		return nil, err
	}
	st, err := e.status(ctx, old.ID)
	if err != nil {
		return nil, err
	}
	to, err := e.follower(old.ID)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	in := &Injection{Fault: f.Name(), Node: old.ID, heal: e.whoLeads}
	body := map[string]string{"to": to.ID}
	if err := e.admin(ctx, old, http.MethodPost, "/v1/admin/leadership", body, nil); err != nil {
		return in, fmt.Errorf("%w: hand leadership from %s to %s: %v", ErrNoEffect, old.ID, to.ID, err)
	}
	now, err := e.waitLeads(ctx, to.ID, st.Term)
	if err != nil {
		return in, err
	}
	in.EffectAfter = time.Since(start)
	in.Effect = fmt.Sprintf("leadership handed from %s (term %d) to %s, which leads in term %d after %v",
		old.ID, st.Term, to.ID, now.Term, in.EffectAfter.Round(time.Millisecond))
	return in, nil
}

// waitLeads waits until node id says it leads in a term past term, and no
// node says it leads in a later one.
func (e *Env) waitLeads(ctx context.Context, id string, term uint64) (api.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, e.Effect)
	defer cancel()
	var last string
	for {
		st, err := e.status(ctx, id)
		lead, lerr := e.ep.leader(ctx, time.Second)
		switch {
		case err != nil:
			last = err.Error()
		case !st.Leader || st.Term <= term:
			last = fmt.Sprintf("%s is %s in term %d", id, st.Role, st.Term)
		case lerr != nil || lead != id:
			last = fmt.Sprintf("%s leads in term %d, but the leader found is %q (%v)", id, st.Term, lead, lerr)
		default:
			return st, nil
		}
		if !sleepCtx(ctx, 20*time.Millisecond) {
			return st, fmt.Errorf("%w: %s does not lead past term %d within %v: %s", ErrNoEffect, id, term, e.Effect, last)
		}
	}
}

// whoLeads reports the leader and its term: the heal of a fault that
// leaves nothing to undo.
func (e *Env) whoLeads(ctx context.Context) (string, error) {
	n, err := e.leader(ctx)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotRecovered, err)
	}
	st, err := e.status(ctx, n.ID)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNotRecovered, err)
	}
	return fmt.Sprintf("%s leads (term %d)", n.ID, st.Term), nil
}

// memberReplace: a follower is removed from the cluster through the
// leader (DELETE /v1/admin/members/{id}), its process and redis-server
// stopped and its data kept (localcluster.RemoveNode), and a fresh node
// added that joins as a voter and catches up: from a snapshot, or from
// the log when the leader had taken no snapshot yet (see joined). From
// then on the run follows the new member set: the removed node is never
// started again, nor read at the end. Nothing to heal.
type memberReplace struct{}

func (memberReplace) Name() string     { return "member-replace" }
func (memberReplace) NeedsRedis() bool { return false }

func (f memberReplace) Inject(ctx context.Context, e *Env) (*Injection, error) {
	leader, err := e.leader(ctx)
	if err != nil {
		return nil, err
	}
	old, err := e.replaceable(ctx, leader.ID)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	in := &Injection{Fault: f.Name(), Node: old.ID, heal: e.whoLeads}
	e.ep.remove(old.ID) // the workload and later faults leave it alone
	if err := e.admin(ctx, leader, http.MethodDelete, "/v1/admin/members/"+old.ID, nil, nil); err != nil {
		e.ep.add(old) // still a member
		return in, fmt.Errorf("%w: remove %s through %s: %v", ErrNoEffect, old.ID, leader.ID, err)
	}
	if err := e.Cluster.RemoveNode(ctx, old.ID); err != nil {
		return in, fmt.Errorf("%w: stop the removed %s: %v", ErrNoEffect, old.ID, err)
	}
	id, err := e.Cluster.AddNode(ctx, false)
	if err != nil {
		return in, fmt.Errorf("%w: add a node in place of %s: %v", ErrNoEffect, old.ID, err)
	}
	ev, err := e.joined(ctx, id, old.ID)
	if err != nil {
		return in, err
	}
	n, err := e.Cluster.Node(id)
	if err != nil {
		return in, err
	}
	e.ep.add(n)
	in.EffectAfter = time.Since(start)
	in.Effect = fmt.Sprintf("%s removed (its data kept in %s); %s after %v", old.ID, old.Data, ev, in.EffectAfter.Round(time.Millisecond))
	return in, nil
}

// replaceable picks, at random, a follower of leader whose removal
// leaves every hot block held by another member. A node that joined from
// a snapshot holds no block before it (its archive starts there), and
// the final ledger reads every block from the members: once every node
// that held the first blocks is replaced, the cluster serves them no
// more.
func (e *Env) replaceable(ctx context.Context, leader string) (localcluster.Node, error) {
	ids := e.ep.members()
	head, err := e.status(ctx, leader)
	if err != nil {
		return localcluster.Node{}, err
	}
	held := make([][]bool, len(ids)) // held[i][p]: ids[i] holds every block of page p
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { held[i] = e.pagesHeld(ctx, id, head.Height) })
	}
	wg.Wait()
	var ok []string
	for i, id := range ids {
		if id != leader && coveredWithout(held, i) {
			ok = append(ok, id)
		}
	}
	if len(ok) == 0 {
		return localcluster.Node{}, fmt.Errorf("%w: every follower of %s holds hot blocks no other member holds: removing one would lose them", ErrNoEffect, leader)
	}
	return e.Cluster.Node(ok[e.rng.IntN(len(ok))])
}

// pagesHeld reports, for each page of api.MaxRangeBlocks hot blocks up to
// head, whether node id holds all of it.
func (e *Env) pagesHeld(ctx context.Context, id string, head uint64) []bool {
	var out []bool
	for from := uint64(1); from <= head; from += api.MaxRangeBlocks {
		to := min(from+api.MaxRangeBlocks-1, head)
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		blocks, err := e.ep.local(id).Blocks(rctx, from, to)
		cancel()
		out = append(out, err == nil && uint64(len(blocks)) == to-from+1 && blocks[0].Height == from)
	}
	return out
}

// coveredWithout reports whether every page is held by a node but the
// i-th.
func coveredWithout(held [][]bool, i int) bool {
	for p := range held[i] {
		covered := false
		for j := range held {
			covered = covered || j != i && p < len(held[j]) && held[j][p]
		}
		if !covered {
			return false
		}
	}
	return true
}

// joined waits until node id is a voter and removed is not a member, as
// the leader lists them, and id has caught up from a snapshot: applied
// the leader's commit index of when it joined, with a snapshot installed
// (its log says so, or it restored hot state from one) unless the leader
// had taken no snapshot yet, when the log is all it needs; and it has
// backfilled the hot blocks below that snapshot (archive_complete), so it
// serves the whole history as the member it replaced did.
func (e *Env) joined(ctx context.Context, id, removed string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, e.Effect)
	defer cancel()
	leader, err := e.leader(ctx)
	if err != nil {
		return "", err
	}
	lst, err := e.status(ctx, leader.ID)
	if err != nil {
		return "", err
	}
	n, err := e.Cluster.Node(id)
	if err != nil {
		return "", err
	}
	var last string
	var caughtUp time.Time
	for {
		members, merr := e.members(ctx, leader)
		st, serr := e.status(ctx, id)
		inst, ierr := e.installEvidence(ctx, n, 0, 0)
		switch {
		case merr != nil || serr != nil || ierr != nil:
			last = fmt.Sprint(merr, serr, ierr)
		case !isVoter(members, id) || isMember(members, removed):
			last = fmt.Sprintf("%s lists %v", leader.ID, members)
		case !st.CaughtUp || st.AppliedIndex < lst.CommitIndex:
			last = fmt.Sprintf("%s applied %d of %d, caught up %v", id, st.AppliedIndex, lst.CommitIndex, st.CaughtUp)
		case !st.ArchiveComplete:
			last = fmt.Sprintf("%s caught up but still fetches the hot blocks below its snapshot from its peers", id)
		case inst != "":
			return fmt.Sprintf("%s joined as a voter (%s lists %s) and caught up (applied %d ≥ the leader's commit %d when it joined): %s",
				id, leader.ID, memberIDs(members), st.AppliedIndex, lst.CommitIndex, inst), nil
		case lst.LastSnapshotIndex == 0:
			// The leader had compacted nothing when the node joined (a
			// fault early in a run): its whole log was there to send,
			// so the node caught up from the log, as Raft should.
			return fmt.Sprintf("%s joined as a voter (%s lists %s) and caught up from the log (applied %d ≥ the leader's commit %d when it joined; the leader had no snapshot yet)",
				id, leader.ID, memberIDs(members), st.AppliedIndex, lst.CommitIndex), nil
		case caughtUp.IsZero():
			caughtUp = time.Now()
			fallthrough
		default:
			last = fmt.Sprintf("%s caught up (applied %d, last snapshot %d) without installing a snapshot", id, st.AppliedIndex, st.LastSnapshotIndex)
			if time.Since(caughtUp) > afterCaughtUp {
				return "", fmt.Errorf("%w: %s (the leader's last snapshot is at %d)", ErrNoEffect, last, lst.LastSnapshotIndex)
			}
		}
		if !sleepCtx(ctx, 50*time.Millisecond) {
			return "", fmt.Errorf("%w: new member %s within %v: %s", ErrNoEffect, id, e.Effect, last)
		}
	}
}

// installEvidence returns what shows node n installed a snapshot sent by
// the leader since its log had logFrom bytes and its restore counter was
// at restores: hashicorp/raft's log line, and hot state restored from it
// (the counter also counts rebuilds; installing a snapshot to a node
// behind it always restores). It is "" until both show.
func (e *Env) installEvidence(ctx context.Context, n localcluster.Node, logFrom int64, restores float64) (string, error) {
	found, err := logHas(filepath.Join(n.Data, localcluster.NodeLogFile), logFrom, logInstalled)
	if err != nil || !found {
		return "", err
	}
	v, err := e.metric(ctx, n.ID, metricRestores)
	if err != nil || v <= restores {
		return "", err
	}
	st, err := e.status(ctx, n.ID)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("installed a snapshot (%q in its log; last snapshot index %d; %s %v → %v)",
		logInstalled, st.LastSnapshotIndex, metricRestores, restores, v), nil
}

// followerLag: a follower is paused (SIGSTOP) while the workload runs on,
// until the leader's latest snapshot is past the follower's applied index
// plus the trailing logs the leader keeps: the follower's next entry is
// then gone from the leader's log. It is resumed (SIGCONT) and must
// install the leader's snapshot. It is resumed whatever happens.
type followerLag struct{}

func (followerLag) Name() string     { return "follower-lag" }
func (followerLag) NeedsRedis() bool { return false }

func (f followerLag) Inject(ctx context.Context, e *Env) (*Injection, error) {
	_, n, err := e.leaderAndFollower(ctx)
	if err != nil {
		return nil, err
	}
	st, err := e.status(ctx, n.ID)
	if err != nil {
		return nil, err
	}
	restores, err := e.metric(ctx, n.ID, metricRestores)
	if err != nil {
		return nil, err
	}
	logFrom := fileSize(filepath.Join(n.Data, localcluster.NodeLogFile))
	start := time.Now()
	if err := signalNode(n, syscall.SIGSTOP); err != nil {
		return nil, err
	}
	resume := sync.OnceValue(func() error { return signalNode(n, syscall.SIGCONT) })
	defer resume() // on every path: a paused node is always resumed
	in := &Injection{Fault: f.Name(), Node: n.ID, heal: func(ctx context.Context) (string, error) {
		if err := resume(); err != nil {
			return "", err
		}
		return e.whoLeads(ctx)
	}}
	if err := waitStopped(n.PID); err != nil {
		return in, fmt.Errorf("%w: %s: %v", ErrNoEffect, n.ID, err)
	}
	need := max(st.AppliedIndex, st.CommitIndex) + trailingLogs(n.Args) + lagMargin
	bctx, stopBurst := context.WithCancel(ctx)
	burst := burstStats{done: make(chan struct{})}
	go func() {
		if sleepCtx(bctx, lagPatience) {
			e.burst(bctx, n.ID, &burst)
		}
		close(burst.done)
	}()
	snap, err := e.waitSnapshot(ctx, n.ID, need)
	stopBurst()
	<-burst.done
	if err != nil {
		return in, fmt.Errorf("%w (%s)", err, burst.describe())
	}
	lagged := time.Since(start)
	if err := resume(); err != nil {
		return in, err
	}
	ev, err := e.waitInstalled(ctx, n, logFrom, restores)
	if err != nil {
		return in, err
	}
	in.EffectAfter = time.Since(start)
	in.Effect = fmt.Sprintf("%s (pid %d) paused at applied index %d; after %v (%s) the leader's snapshot was at %d (≥ %d); resumed, %s %v later",
		n.ID, n.PID, st.AppliedIndex, lagged.Round(time.Millisecond), burst.describe(), snap, need, ev, (in.EffectAfter - lagged).Round(time.Millisecond))
	return in, nil
}

// burstStats counts what burst sent; done is closed once it returned.
type burstStats struct {
	done     chan struct{}
	sent     int
	rejected int
}

func (b *burstStats) describe() string {
	if b.sent+b.rejected == 0 {
		return "the workload's entries alone"
	}
	return fmt.Sprintf("the workload's entries and a burst of %d faucet transfers (%d refused)", b.sent, b.rejected)
}

// burst makes log entries when the workload is too slow, or over, for a
// paused follower to fall behind the leader's snapshot: it sends
// transfers of 1 from the faucet to a new account, one a request so that
// each tends to make a block of its own, to the leader (any member but
// paused), until ctx ends. The faucet is not a workload account: the
// checker's sums still hold (a transfer moves supply, never makes it).
func (e *Env) burst(ctx context.Context, paused string, b *burstStats) {
	key, err := ledger.LoadKeyFile(e.Cluster.FaucetKey())
	if err != nil {
		return
	}
	sink, err := ledger.NewKey()
	if err != nil {
		return
	}
	ids := slices.DeleteFunc(slices.Clone(e.ep.members()), func(id string) bool { return id == paused })
	for ctx.Err() == nil {
		leader := leaderOf(ids, e.ep.statusesOf(ctx, ids, time.Second))
		if leader == "" {
			sleepCtx(ctx, 100*time.Millisecond)
			continue
		}
		a, err := e.ep.strong(leader).Account(ctx, key.Address)
		for err == nil && ctx.Err() == nil {
			tx := newTx(e.Cluster.ChainID(), key, robust.KindHotTransfer, sink.Address, 1, a.Nonce)
			var res []api.TxResult
			if res, err = e.ep.local(leader).Submit(ctx, tx); err == nil && res[0].Status == api.StatusPending {
				b.sent++
				a.Nonce++
			} else if err == nil {
				err = fmt.Errorf("refused: %+v", res[0].Error)
			}
		}
		if ctx.Err() == nil {
			b.rejected++ // read the nonce again, and the leader
			sleepCtx(ctx, 20*time.Millisecond)
		}
	}
}

// leaderOf is the id of the node in sts (of ids) that leads in the
// highest term, or "".
func leaderOf(ids []string, sts []*api.Status) string {
	best, term := "", uint64(0)
	for i, st := range sts {
		if st != nil && st.Leader && (best == "" || st.Term > term) {
			best, term = ids[i], st.Term
		}
	}
	return best
}

// waitSnapshot waits until the leader (any member but paused) took a
// snapshot at index need or later, and returns its index.
func (e *Env) waitSnapshot(ctx context.Context, paused string, need uint64) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, e.Effect)
	defer cancel()
	ids := slices.DeleteFunc(slices.Clone(e.ep.members()), func(id string) bool { return id == paused })
	var best uint64
	for {
		for _, st := range e.ep.statusesOf(ctx, ids, time.Second) {
			switch {
			case st == nil || !st.Leader:
			case st.LastSnapshotIndex >= need:
				return st.LastSnapshotIndex, nil
			default:
				best = st.LastSnapshotIndex
			}
		}
		if !sleepCtx(ctx, 100*time.Millisecond) {
			return 0, fmt.Errorf("%w: the leader's snapshot at %d within %v, want ≥ %d (the workload too slow?)", ErrNoEffect, best, e.Effect, need)
		}
	}
}

// waitInstalled waits until the resumed node n installed a snapshot (see
// installEvidence) and caught up.
func (e *Env) waitInstalled(ctx context.Context, n localcluster.Node, logFrom int64, restores float64) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, e.Effect)
	defer cancel()
	var last string
	for {
		st, err := e.status(ctx, n.ID)
		inst, ierr := e.installEvidence(ctx, n, logFrom, restores)
		switch {
		case err != nil || ierr != nil:
			last = fmt.Sprint(err, ierr)
		case inst == "":
			last = fmt.Sprintf("no snapshot installed (applied %d, last snapshot %d, caught up %v)", st.AppliedIndex, st.LastSnapshotIndex, st.CaughtUp)
		case !st.CaughtUp:
			last = fmt.Sprintf("%s; not caught up (applied %d, commit %d)", inst, st.AppliedIndex, st.CommitIndex)
		default:
			return fmt.Sprintf("%s, caught up at applied index %d", inst, st.AppliedIndex), nil
		}
		if !sleepCtx(ctx, 50*time.Millisecond) {
			return "", fmt.Errorf("%w: %s within %v: %s", ErrNoEffect, n.ID, e.Effect, last)
		}
	}
}

// status asks node id, a member or one joining, for its status, a second
// at most.
func (e *Env) status(ctx context.Context, id string) (api.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	c := e.ep.local(id)
	if c == nil { // not a member yet
		n, err := e.Cluster.Node(id)
		if err != nil {
			return api.Status{}, err
		}
		c = client.New(n.URL)
	}
	return c.Status(ctx)
}

// members lists the cluster's members as node n sees them.
func (e *Env) members(ctx context.Context, n localcluster.Node) ([]api.Member, error) {
	var out struct {
		Members []api.Member `json:"members"`
	}
	err := e.admin(ctx, n, http.MethodGet, "/v1/admin/members", nil, &out)
	return out.Members, err
}

// admin sends an admin request, with the cluster's token, to node n (a
// follower forwards it to the leader), and decodes the JSON answer into
// out unless out is nil. It waits at most Effect.
func (e *Env) admin(ctx context.Context, n localcluster.Node, method, path string, body, out any) error {
	ctx, cancel := context.WithTimeout(ctx, e.Effect)
	defer cancel()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, n.URL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+e.Cluster.AdminToken())
	if body != nil {
		req.Header.Set("Content-Type", api.MediaJSON)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s on %s: %w", method, path, n.ID, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s %s on %s: read the answer: %w", method, path, n.ID, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s %s on %s: %s: %s", method, path, n.ID, resp.Status, bytes.TrimSpace(data))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

func isMember(ms []api.Member, id string) bool {
	return slices.ContainsFunc(ms, func(m api.Member) bool { return m.ID == id })
}

func isVoter(ms []api.Member, id string) bool {
	return slices.ContainsFunc(ms, func(m api.Member) bool { return m.ID == id && m.Voter })
}

func memberIDs(ms []api.Member) string {
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	return strings.Join(ids, ", ")
}

// trailingLogs is the --trailing-logs of a node's argv: the entries a
// leader keeps in its log after a snapshot.
func trailingLogs(args []string) uint64 {
	for i, a := range args {
		v, ok := strings.CutPrefix(a, "--trailing-logs=")
		if a == "--trailing-logs" && i+1 < len(args) {
			v, ok = args[i+1], true
		}
		if n, err := strconv.ParseUint(v, 10, 64); ok && err == nil {
			return n
		}
	}
	return raftTrailingLogs
}

// fileSize is the size of the file at path, 0 if there is none.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// logHas reports whether the file at path holds s past its first from
// bytes.
func logHas(path string, from int64, s string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return false, err
	}
	data, err := io.ReadAll(f)
	return bytes.Contains(data, []byte(s)), err
}
