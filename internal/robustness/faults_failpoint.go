package robustness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/internal/failpoint"
	"github.com/dualchain/dualchain/internal/localcluster"
)

// The faults a node built with the failpoints tag lets in: a crash at a
// point inside apply, snapshot or the bridge's steps, a slow disk, a
// failed disk write, a skewed clock. Each arms points through the node's
// /debug/failpoints API and shows them to have fired: the process gone
// with its log naming the point, a hit counter up, a block's timestamp
// moved.

// errNoFailpoints is a node whose binary has no /debug/failpoints.
var errNoFailpoints = errors.New("robustness: the node has no /debug/failpoints (a binary built without the failpoints tag)")

// needsFailpoints marks the faults that need a failpoints binary.
type needsFailpoints interface{ failpoints() }

// probeFor bounds the retries of the failpoints probe: a node that does
// not answer yet may still be starting.
const probeFor = 5 * time.Second

// withFailpoints leaves the failpoint faults out of a run whose binary
// lacks them (the first member answers 404 at /debug/failpoints), with
// the reason logged, as pickFaults leaves Redis faults out without
// Redis. A probe that fails otherwise is ErrProbe, which must fail the
// run: failpointFaults says why.
func (r *runner) withFailpoints(ctx context.Context, faults []Fault, skipped []string) ([]Fault, []string, error) {
	n, err := r.c.Node(r.ep.members()[0])
	if err != nil {
		return faults, skipped, err
	}
	kept, dropped, err := failpointFaults(ctx, n, faults, probeFor)
	if len(dropped) > 0 {
		r.logf("faults left out: %s: %s answered 404 at /debug/failpoints (a binary built without the failpoints tag)", strings.Join(dropped, ", "), n.ID)
	}
	return kept, append(skipped, dropped...), err
}

// failpointFaults returns faults without those that need failpoints
// (and their names) when node n's binary has none: it answers 404 at
// /debug/failpoints. Any other failure of the probe is retried for
// within, then returned as ErrProbe with faults whole: a run must not
// lose faults to a node slow to start.
func failpointFaults(ctx context.Context, n localcluster.Node, faults []Fault, within time.Duration) (kept []Fault, dropped []string, err error) {
	err = probeFailpoints(ctx, n, within)
	if err != nil && !errors.Is(err, errNoFailpoints) {
		return faults, nil, fmt.Errorf("%w: %s: %v", ErrProbe, n.ID, err)
	}
	kept, dropped = withoutFailpoints(faults, err)
	return kept, dropped, nil
}

// probeFailpoints lists node n's failpoints until it answers, for within
// at most; a 404 (errNoFailpoints) ends it at once.
func probeFailpoints(ctx context.Context, n localcluster.Node, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	start := time.Now()
	for {
		_, err := fpList(ctx, n)
		if err == nil || errors.Is(err, errNoFailpoints) {
			return err
		}
		if !sleepCtx(ctx, 100*time.Millisecond) {
			return fmt.Errorf("no answer in %v: %w", time.Since(start).Round(time.Millisecond), err)
		}
	}
}

// withoutFailpoints returns faults without those that need failpoints if
// the probe of a node's failpoints found none (errNoFailpoints).
func withoutFailpoints(faults []Fault, probe error) (kept []Fault, dropped []string) {
	for _, f := range faults {
		if _, ok := f.(needsFailpoints); ok && errors.Is(probe, errNoFailpoints) {
			dropped = append(dropped, f.Name())
		} else {
			kept = append(kept, f)
		}
	}
	return kept, dropped
}

// fpDo sends a request to node n's failpoints API; out, if not nil,
// receives the JSON answer.
func fpDo(ctx context.Context, n localcluster.Node, method, name, body string, out any) error {
	url := n.URL + "/debug/failpoints"
	if name != "" {
		url += "/" + name
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("robustness: %s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusNotFound && name == "":
		return fmt.Errorf("%w: %s answered 404", errNoFailpoints, n.ID)
	case resp.StatusCode >= 300:
		return fmt.Errorf("robustness: %s %s: %s: %s", method, url, resp.Status, bytes.TrimSpace(data))
	case out != nil:
		return json.Unmarshal(data, out)
	}
	return nil
}

func fpArm(ctx context.Context, n localcluster.Node, name, term string) error {
	return fpDo(ctx, n, http.MethodPut, name, term, nil)
}

func fpDisarm(ctx context.Context, n localcluster.Node, name string) error {
	return fpDo(ctx, n, http.MethodDelete, name, "", nil)
}

func fpList(ctx context.Context, n localcluster.Node) (map[string]failpoint.Status, error) {
	var out map[string]failpoint.Status
	return out, fpDo(ctx, n, http.MethodGet, "", "", &out)
}

// waitExited waits until node n's process is gone, and returns how long
// that took.
func (e *Env) waitExited(ctx context.Context, n localcluster.Node, start time.Time) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, e.Effect)
	defer cancel()
	for isNode(n.PID, n) && procState(n.PID) != "Z" {
		if !sleepCtx(ctx, 10*time.Millisecond) {
			return 0, fmt.Errorf("%w: %s (pid %d) still runs %v after its failpoint was armed", ErrNoEffect, n.ID, n.PID, e.Effect)
		}
	}
	return time.Since(start), nil
}

// logSays waits a little for the node's log, past from, to hold s: the
// process's last words may reach the file after it is gone.
func logSays(n localcluster.Node, from int64, s string) bool {
	path := filepath.Join(n.Data, localcluster.NodeLogFile)
	for range 50 {
		if ok, _ := logHas(path, from, s); ok {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// crashPoint: one point inside apply, snapshot or the bridge's steps is
// armed with 1*crash on a node that reaches it (the leader for the
// checkpoint's proposal); the process must exit there, as kill -9 would,
// its log naming the point. Healed by restarting it. The restore point is
// not picked: a node reaches it only when it starts, which drops what the
// API armed (node tests cover it).
type crashPoint struct{}

func (crashPoint) Name() string     { return "crash-point" }
func (crashPoint) NeedsRedis() bool { return false }
func (crashPoint) failpoints()      {}

func (f crashPoint) Inject(ctx context.Context, e *Env) (*Injection, error) {
	points := make([]string, 0, len(failpoint.CrashPoints))
	for _, p := range failpoint.CrashPoints {
		if p != failpoint.Restore {
			points = append(points, p)
		}
	}
	point := points[e.rng.IntN(len(points))]
	n, err := e.anyNode()
	if point == failpoint.CheckpointPropose {
		n, err = e.leader(ctx)
	}
	if err != nil {
		return nil, err
	}
	in, after, err := e.armUntilExit(ctx, f.Name(), n, point, "1*crash", "failpoint "+point+": crash")
	if err != nil {
		return in, err
	}
	in.Effect = fmt.Sprintf("%s (pid %d) crashed at %s after %v: its log says so, the process is gone", n.ID, n.PID, point, after.Round(time.Millisecond))
	return in, nil
}

// armUntilExit arms point with action on node n, whose process must then
// exit with its log saying said (a crash point, or a failed write the
// node stops on); it returns the injection, healed by restarting n, and
// the time the exit took. A point that does not fire in time is disarmed,
// so that it does not fire later in another fault's window.
func (e *Env) armUntilExit(ctx context.Context, fault string, n localcluster.Node, point, action, said string) (*Injection, time.Duration, error) {
	logFrom := fileSize(filepath.Join(n.Data, localcluster.NodeLogFile))
	start := time.Now()
	if err := fpArm(ctx, n, point, action); err != nil {
		return nil, 0, err
	}
	in := &Injection{Fault: fault, Node: n.ID, heal: func(ctx context.Context) (string, error) {
		return e.restarted(ctx, n.ID, n.PID)
	}}
	after, err := e.waitExited(ctx, n, start)
	if err != nil {
		return in, 0, errors.Join(err, fpDisarm(ctx, n, point))
	}
	if !logSays(n, logFrom, said) {
		return in, 0, fmt.Errorf("%w: %s (pid %d) exited after %s=%s, but its log does not say %q", ErrNoEffect, n.ID, n.PID, point, action, said)
	}
	in.EffectAfter = after
	return in, after, nil
}

// diskSlow: one node's disks turn slow, the Raft log store's appends and
// the cold chain's syncs each sleeping; shown by both failpoints' hit
// counters: the log store's before Inject returns, the cold chain's at
// the latest by the heal. Healed by disarming them.
type diskSlow struct{}

func (diskSlow) Name() string     { return "disk-slow" }
func (diskSlow) NeedsRedis() bool { return false }
func (diskSlow) failpoints()      {}

// The slow disk's delays.
const (
	slowLogStore = 50 * time.Millisecond
	slowSync     = 100 * time.Millisecond
)

// syncWithin bounds the wait for the cold chain's first slow sync. Every
// node syncs Pebble when it applies a cold block (coldchain commits it
// with pebble.Sync), and the leader proposes one every checkpoint
// interval (1 s by default) while the workload changes hot state; the
// Raft log store, appended to every few milliseconds, fires long before.
// Ten intervals leave room for an election the slow disk may cause.
const syncWithin = 10 * time.Second

func (f diskSlow) Inject(ctx context.Context, e *Env) (*Injection, error) {
	n, err := e.anyNode()
	if err != nil {
		return nil, err
	}
	before, err := fpList(ctx, n)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	in := &Injection{Fault: f.Name(), Node: n.ID, heal: func(ctx context.Context) (string, error) {
		return e.disksFast(ctx, n, before, syncWithin)
	}}
	if err := errors.Join(fpArm(ctx, n, failpoint.RaftLogStore, fmt.Sprintf("sleep(%v)", slowLogStore)),
		fpArm(ctx, n, failpoint.PebbleSync, fmt.Sprintf("sleep(%v)", slowSync))); err != nil {
		return in, err
	}
	hits, err := e.waitHits(ctx, n, failpoint.RaftLogStore, before[failpoint.RaftLogStore].Hits, e.Effect)
	if err != nil {
		return in, err
	}
	in.EffectAfter = time.Since(start)
	in.Effect = fmt.Sprintf("%s's Raft log store appends sleep %v each, its cold chain's syncs %v: %s hit %d times after %v",
		n.ID, slowLogStore, slowSync, failpoint.RaftLogStore, hits, in.EffectAfter.Round(time.Millisecond))
	return in, nil
}

// disksFast heals disk-slow on node n: it waits, within at most, until
// the cold chain's syncs slept too (at once if they already did since
// before), then disarms both points whatever that showed, and reports
// how often each slept. Syncs that never slept are ErrNoEffect.
func (e *Env) disksFast(ctx context.Context, n localcluster.Node, before map[string]failpoint.Status, within time.Duration) (string, error) {
	_, synced := e.waitHits(ctx, n, failpoint.PebbleSync, before[failpoint.PebbleSync].Hits, within)
	if err := errors.Join(fpDisarm(ctx, n, failpoint.RaftLogStore), fpDisarm(ctx, n, failpoint.PebbleSync)); err != nil {
		return "", errors.Join(synced, fmt.Errorf("%w: %v", ErrNotRecovered, err))
	}
	now, err := fpList(ctx, n)
	if err != nil {
		return "", errors.Join(synced, fmt.Errorf("%w: %v", ErrNotRecovered, err))
	}
	return fmt.Sprintf("%s's disks fast again: %s slept %d times, %s %d times", n.ID,
		failpoint.RaftLogStore, now[failpoint.RaftLogStore].Hits-before[failpoint.RaftLogStore].Hits,
		failpoint.PebbleSync, now[failpoint.PebbleSync].Hits-before[failpoint.PebbleSync].Hits), synced
}

// waitHits waits, within at most, until node n's failpoint name fired
// more than before times, and returns how many more.
func (e *Env) waitHits(ctx context.Context, n localcluster.Node, name string, before int64, within time.Duration) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		all, err := fpList(ctx, n)
		if err == nil && all[name].Hits > before {
			return all[name].Hits - before, nil
		}
		if !sleepCtx(ctx, 20*time.Millisecond) {
			return 0, fmt.Errorf("%w: %s's %s not hit within %v (last error %v)", ErrNoEffect, n.ID, name, within, err)
		}
	}
}

// diskError: one node's disk fails its writes, in the Raft log store or
// in the cold chain's Pebble; the node must stop (fail-stop) rather than
// go on with a store it cannot trust. Healed by restarting it (a new
// process has no failpoint armed).
type diskError struct{}

func (diskError) Name() string     { return "disk-error" }
func (diskError) NeedsRedis() bool { return false }
func (diskError) failpoints()      {}

func (f diskError) Inject(ctx context.Context, e *Env) (*Injection, error) {
	point := []string{failpoint.RaftLogStore, failpoint.PebbleWrite}[e.rng.IntN(2)]
	n, err := e.anyNode()
	if err != nil {
		return nil, err
	}
	// The failpoint's own line, written as it injects the error: how the
	// node then dies is its store's business (Pebble may panic in a way
	// that prints no message; docs/robustness.md, bug 14).
	in, after, err := e.armUntilExit(ctx, f.Name(), n, point, "error", "failpoint "+point+": error")
	if err != nil {
		return in, err
	}
	in.Effect = fmt.Sprintf("%s (pid %d) stopped on a failed write (%s=error) after %v: its log says so", n.ID, n.PID, point, after.Round(time.Millisecond))
	return in, nil
}

// clockSkew: the leader's clock moves several seconds forward or back;
// its new blocks' timestamps must show it. Healed by disarming it.
type clockSkew struct{}

func (clockSkew) Name() string     { return "clock-skew" }
func (clockSkew) NeedsRedis() bool { return false }
func (clockSkew) failpoints()      {}

// skewBy is how far the clock moves.
const skewBy = 5 * time.Second

func (f clockSkew) Inject(ctx context.Context, e *Env) (*Injection, error) {
	n, err := e.leader(ctx)
	if err != nil {
		return nil, err
	}
	skew := skewBy
	if e.rng.IntN(2) == 0 {
		skew = -skewBy
	}
	bctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	b, err := client.New(n.URL).LatestBlock(bctx)
	cancel()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := fpArm(ctx, n, failpoint.ClockSkew, fmt.Sprintf("skew(%v)", skew)); err != nil {
		return nil, err
	}
	in := &Injection{Fault: f.Name(), Node: n.ID, heal: func(ctx context.Context) (string, error) {
		if err := fpDisarm(ctx, n, failpoint.ClockSkew); err != nil {
			return "", fmt.Errorf("%w: %v", ErrNotRecovered, err)
		}
		return fmt.Sprintf("%s's clock no longer skewed", n.ID), nil
	}}
	off, height, err := e.skewedBlock(ctx, n, skew, b.Height)
	if err != nil {
		return in, err
	}
	in.EffectAfter = time.Since(start)
	in.Effect = fmt.Sprintf("leader %s's clock skewed %v: its block %d is stamped %v from the time it was read, after %v",
		n.ID, skew, height, off.Round(time.Millisecond), in.EffectAfter.Round(time.Millisecond))
	return in, nil
}

// skewedBlock waits until node n's latest block, above height, is stamped
// about skew away from now (within half of it), and returns the offset
// and its height.
func (e *Env) skewedBlock(ctx context.Context, n localcluster.Node, skew time.Duration, height uint64) (time.Duration, uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, e.Effect)
	defer cancel()
	c := client.New(n.URL)
	var last string
	for {
		b, err := c.LatestBlock(ctx)
		if err == nil {
			off := time.Until(b.Time)
			if b.Height > height && (off-skew).Abs() < skewBy/2 {
				return off, b.Height, nil
			}
			last = fmt.Sprintf("block %d stamped %v from now", b.Height, off.Round(time.Millisecond))
		} else {
			last = err.Error()
		}
		if !sleepCtx(ctx, 20*time.Millisecond) {
			return 0, 0, fmt.Errorf("%w: no block of %s stamped %v from now within %v (last: %s)", ErrNoEffect, n.ID, skew, e.Effect, last)
		}
	}
}
