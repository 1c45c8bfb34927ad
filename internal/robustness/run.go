package robustness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/dualchain/dualchain/internal/netfault"
	"github.com/dualchain/dualchain/internal/robust"
	"github.com/dualchain/dualchain/ledger"
)

// maxLag is how many hot blocks a node may be behind the others and
// still count as recovered while the workload runs.
const maxLag = 200

// requiredRows returns the checker's rows a run of n nodes fails
// without: each must have compared something (robust.Options.Require).
// "No failed tx committed" is not among them: a run may have no failed
// tx; nor, on one node, are the rows that compare nodes.
func requiredRows(n int) []string {
	rows := []string{robust.InvAcked, robust.InvConserved, robust.InvLinearizable}
	if n > 1 {
		rows = append(rows, robust.InvNodes, robust.InvRaftLog)
	}
	return rows
}

// runner is one Run.
type runner struct {
	o       Options
	start   time.Time
	c       *localcluster.Cluster
	ep      *endpoints
	h       *robust.History
	wl      *workload
	sum     Summary
	failed  bool // a fault did not take effect or the cluster did not recover
	frozen  *robust.Frozen
	windows [][2]time.Duration
	net     *netfault.Net // the nodes' namespaces; nil without (noNet says why)
	noNet   string
}

// Run does one robustness run (see the package doc) and returns its
// summary. The error is non-nil on any violation, on a fault that did not
// take effect or was not recovered from, and on any failure to run; the
// run's directory then keeps what it saw, and the error names it.
func Run(ctx context.Context, o Options) (Summary, error) {
	if err := o.Validate(); err != nil {
		return Summary{}, err
	}
	r := &runner{o: o.withDefaults(), start: time.Now()}
	r.sum = Summary{Seed: r.o.Seed, Dir: r.o.Dir, Nodes: r.o.Nodes, Clients: r.o.Clients, Duration: r.o.Duration}
	err := r.run(ctx)
	if n := r.sum.Repairs.Stuck; err == nil && n > 0 {
		err = fmt.Errorf("%w: %d resent to the recovered cluster until the run ended", ErrStuck, n)
	}
	r.sum.Elapsed = time.Since(r.start)
	if err != nil {
		r.sum.Errors = append(r.sum.Errors, err.Error())
	}
	if r.sum.Pass() {
		if r.o.Keep {
			r.keep()
		}
		return r.sum, nil
	}
	return r.sum, r.save(err)
}

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.o.Log, "robustness: "+format+"\n", args...)
}

func (r *runner) run(ctx context.Context) (err error) {
	store, _, why, err := localcluster.PickStore(r.o.Store)
	if err != nil {
		return err
	}
	r.sum.Store = store
	r.logf("seed %d, %d nodes, %s (%s), %d clients, %v", r.o.Seed, r.o.Nodes, store, why, r.o.Clients, r.o.Duration)
	if err := os.MkdirAll(r.o.Dir, 0o755); err != nil {
		return err
	}
	place, err := r.setupNet(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, r.closeNet()) }() // after Down: deferred first, run last
	r.c, err = localcluster.Up(ctx, localcluster.Options{Binary: r.o.Binary, Dir: filepath.Join(r.o.Dir, "cluster"),
		Nodes: r.o.Nodes, Store: store, NodeArgs: r.o.NodeArgs, Log: r.o.Log, Place: place})
	if err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err = errors.Join(err, r.c.Down(dctx))
	}()
	r.logf("cluster up in %v", time.Since(r.start).Round(time.Millisecond))
	r.ep = newEndpoints(r.c.Nodes())
	accts, initial, err := fund(ctx, r.c, r.ep, r.o.Clients)
	if err != nil {
		return err
	}
	r.logf("%d accounts funded at %v", len(accts), time.Since(r.start).Round(time.Millisecond))
	r.h = robust.NewHistory(initial, nil)
	r.wl = newWorkload(r.o, r.h, r.ep, r.c.ChainID(), accts)
	if err := r.drive(ctx, store == localcluster.StoreRedis); err != nil {
		return err
	}
	return r.check(ctx)
}

// drive runs the workload for the run's duration with faults injected,
// then stops it.
func (r *runner) drive(ctx context.Context, redis bool) error {
	faults, skipped := pickFaults(r.o.Faults, redis)
	faults, skipped, err := r.withFailpoints(ctx, faults, skipped)
	if err != nil {
		return err
	}
	faults, skipped = r.dropWithoutNetns(faults, skipped)
	r.sum.Skipped = skipped
	wctx, stop := context.WithTimeout(ctx, r.o.Duration)
	defer stop()
	finish, end := context.WithTimeout(ctx, r.o.Duration+r.o.Recover+r.o.OpTimeout)
	defer end()
	var wg sync.WaitGroup
	for i := range r.o.Clients {
		wg.Go(func() { r.wl.run(wctx, finish, i) })
	}
	wg.Go(func() { r.wl.pauser(wctx) })
	r.inject(wctx, faults)
	<-wctx.Done()
	workloadEnd := r.h.Now()
	wg.Wait()
	r.logf("workload stopped at %v; every client's last op ended %v later", time.Since(r.start).Round(time.Millisecond), (r.h.Now() - workloadEnd).Round(time.Millisecond))
	r.summarizeWorkload(workloadEnd)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

// inject injects faults from the schedule until ctx ends or one is not
// survived.
func (r *runner) inject(ctx context.Context, faults []Fault) {
	s := newSchedule(r.o.Seed, faults)
	env := &Env{Cluster: r.c, ep: r.ep, rng: victims(r.o.Seed), Effect: r.o.Recover, net: r.net}
	if !sleepCtx(ctx, r.o.WarmUp) {
		return
	}
	for {
		f := s.next()
		hold := s.between(r.o.Hold)
		if f == nil || time.Until(deadline(ctx)) < hold+5*time.Second {
			return
		}
		e := r.fault(ctx, env, f, hold)
		r.sum.Events = append(r.sum.Events, e)
		r.logf("%s", describeEvent(e))
		if !e.Survived() {
			r.failed = true
			return
		}
		if !sleepCtx(ctx, s.between(r.o.Quiet)) {
			return
		}
	}
}

func deadline(ctx context.Context) time.Time {
	d, ok := ctx.Deadline()
	if !ok {
		return time.Now().Add(time.Hour)
	}
	return d
}

func describeEvent(e FaultEvent) string {
	s := fmt.Sprintf("at %v %s: %s; held %v", e.At.Round(time.Millisecond), e.Fault, e.Effect, e.Held.Round(time.Millisecond))
	if e.Healed != "" {
		s += "; " + e.Healed
	}
	s += fmt.Sprintf("; recovered in %v", e.Recovery.Round(time.Millisecond))
	if e.Err != "" {
		s += "; FAILED: " + e.Err
	}
	return s
}

// fault injects f, holds it, heals it and waits for the cluster to
// recover. It runs under a context of its own: a fault begun is always
// healed, even when the run's time is up.
func (r *runner) fault(ctx context.Context, env *Env, f Fault, hold time.Duration) FaultEvent {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*r.o.Recover)
	defer cancel()
	e := FaultEvent{Fault: f.Name(), At: r.h.Now()}
	in, err := f.Inject(fctx, env)
	if in != nil {
		e.Node, e.Effect, e.EffectAfter = in.Node, in.Effect, in.EffectAfter
	}
	if err == nil {
		t := time.Now()
		sleepCtx(fctx, hold)
		e.Held = time.Since(t)
	}
	healStart := time.Now()
	healed, herr := r.heal(ctx, in)
	e.Healed = healed
	rerr := r.recovered(fctx)
	e.Recovery, e.Recovered = time.Since(healStart), r.h.Now()
	r.windows = append(r.windows, [2]time.Duration{e.At, e.Recovered})
	if err = errors.Join(err, herr, rerr); err != nil {
		e.Err = err.Error()
	}
	return e
}

// heal heals what in began and, if it cannot (or in is nil: Inject
// began nothing it could name), starts whatever is down. It runs on a
// context of its own: a slow Inject may have used up the fault's, and a
// heal that cannot run leaves the fault armed. Its bound is the fault's,
// three times Recover, as a heal may chain waits of up to Recover each
// (lift a partition, then see the node catch up).
func (r *runner) heal(ctx context.Context, in *Injection) (healed string, err error) {
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*r.o.Recover)
	defer cancel()
	if in != nil {
		err = in.Heal(hctx)
		healed = in.Healed
	}
	if in == nil || err != nil {
		err = errors.Join(err, r.c.StartAll(hctx)) // whatever it left down
	}
	return healed, err
}

// recovered waits until every node runs, answers, has caught up and
// follows the one leader, within maxLag blocks of the highest.
func (r *runner) recovered(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.o.Recover)
	defer cancel()
	var why string
	for {
		ids := r.ep.members()
		if why = agree(ids, r.ep.statusesOf(ctx, ids, time.Second)); why == "" {
			return nil
		}
		if !sleepCtx(ctx, 20*time.Millisecond) {
			return fmt.Errorf("%w within %v: %s", ErrNotRecovered, r.o.Recover, why)
		}
	}
}

// summarizeWorkload fills in the summary's counts of the workload that
// ended at end.
func (r *runner) summarizeWorkload(end time.Duration) {
	ops := r.h.Ops()
	r.sum.ByKind = byKind(ops)
	r.sum.Faults = faultStats(r.sum.Events)
	r.sum.Throughput = throughput(ops, r.o.Clients, r.windows, end)
	r.sum.Repairs = r.wl.Repairs()
	for _, p := range r.wl.Pauses() {
		r.sum.Pauses++
		if p.Drained {
			r.sum.Drained++
		}
	}
}

// check starts every node, waits until they converge and the bridge
// drains, reads the final ledger once and checks the history against it.
// A node that does not start, or a cluster that does not converge or
// drain, fails the run, but the check runs all the same.
func (r *runner) check(ctx context.Context) error {
	var errs []error
	if r.failed {
		errs = append(errs, fmt.Errorf("%w: a fault was not survived (see its event)", ErrNotRecovered))
	}
	cctx, cancel := context.WithTimeout(ctx, r.o.Recover)
	defer cancel()
	// A node that does not start is a failure, but not one to hide a
	// violation behind: what the others hold is read and checked all the
	// same, and what cannot be read is the checker's to report.
	if err := r.c.StartAll(cctx); err != nil {
		errs = append(errs, fmt.Errorf("starting every node for the final check: %w", err))
	}
	if err := r.c.WaitConverged(cctx); err != nil {
		errs = append(errs, err)
	}
	r.logf("converged at %v", time.Since(r.start).Round(time.Millisecond))
	drainErr := drain(cctx, r.ep, 30*time.Second)
	if drainErr != nil {
		errs = append(errs, drainErr)
	}
	// Freeze reads every part of the ledger it can, and keeps what it
	// could not as errors that Check reports on its "final ledger read"
	// row; the Frozen is saved as it is (save.go).
	final := &ClusterLedger{ep: r.ep, token: r.c.AdminToken()}
	frozen, err := robust.Freeze(ctx, final, r.addrs())
	if err != nil {
		r.logf("final ledger read with errors: %v", err)
	}
	r.frozen = frozen
	r.sum.Report = robust.Check(ctx, r.h, frozen, robust.Options{Timeout: r.o.CheckTimeout,
		Visualize: filepath.Join(r.o.Dir, "porcupine.html"), Drained: drainErr == nil, Require: requiredRows(r.o.Nodes)})
	r.logf("checked in %v: pass %v", r.sum.Report.Elapsed.Round(time.Millisecond), r.sum.Report.Pass)
	return errors.Join(errs...)
}

func (r *runner) addrs() []ledger.Address {
	var out []ledger.Address
	for _, a := range r.h.Initial() {
		out = append(out, a.Address)
	}
	return out
}
