package demo

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dualchain/dualchain/internal/audit"
	"github.com/dualchain/dualchain/internal/progress"
)

// Names of the demo's own checks.
const (
	CheckAgree   = "nodes agree"
	CheckFound   = "acknowledged txs found by id"
	CheckHeld    = "acknowledged txs in blocks"
	CheckOnce    = "no tx applied twice"
	CheckNonces  = "nonces"
	CheckStopped = "every process stopped"
)

// Bounds of the checks.
const (
	auditTimeout = 10 * time.Second // each round of the audit's requests
	lookupConns  = 8                // lookups by id in flight
)

func (r *run) auditTitle() string {
	return "Audit every node (conservation, mirror, equal roots), and check what the demo was told: no acknowledged transaction lost, none applied twice"
}

// audit runs the audit and the demo's own checks, adds them to the
// report, and fails if any failed.
func (r *run) audit(ctx context.Context, s *Step) (string, error) {
	checks := []audit.Check{r.checkAgree(ctx)}
	rep := audit.Run(ctx, auditTimeout, r.targets())
	r.say.linef("audit of %d nodes: %d of %d checks pass (conservation, no bad balances, mirror, equal cold roots and hot commitments)",
		len(rep.Nodes), len(rep.Checks)-rep.Failed(), len(rep.Checks))
	checks = append(checks, rep.Checks...)
	checks = append(checks, r.checkFound(ctx))
	checks = append(checks, r.checkChains(ctx)...)
	failed := 0
	for _, c := range checks {
		if !c.Pass {
			failed++
			r.say.linef("✗ %s (%s): %s", c.Check, c.Node, c.Detail)
		}
	}
	r.rep.Checks = append(r.rep.Checks, checks...)
	s.Figures["checks"], s.Figures["failed"] = len(checks), failed
	s.Figures["acknowledged"] = r.book.len()
	if failed > 0 {
		return "", fmt.Errorf("%d of %d checks failed", failed, len(checks))
	}
	return fmt.Sprintf("%d checks pass: value conserved, %s acknowledged transactions each committed exactly once, every node equal",
		len(checks), progress.Count(int64(r.book.len()))), nil
}

func (r *run) targets() []audit.Target {
	var out []audit.Target
	for _, n := range r.c.Nodes() {
		out = append(out, audit.Target{ID: n.ID, URL: n.URL})
	}
	return out
}

// checkAgree waits until every node agrees (see converge).
func (r *run) checkAgree(ctx context.Context) audit.Check {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	sts, err := r.converge(ctx)
	if err != nil {
		return audit.Check{Check: CheckAgree, Node: "all", Detail: err.Error()}
	}
	st := sts[0].Status
	d := fmt.Sprintf("%d nodes caught up at hot height %d, head %s, commitment %s; %s leads",
		len(sts), st.Height, short(st.Head), short(st.Commitment), leaderOf(sts))
	r.say.linef("%s", d)
	return audit.Check{Check: CheckAgree, Node: "all", Pass: true, Detail: d}
}

// checkFound looks up every acknowledged hot transaction by id, each on
// one node in turn, and checks it is where its receipt said.
func (r *run) checkFound(ctx context.Context) audit.Check {
	acked := r.book.hot()
	task := r.say.start("looking up every acknowledged transaction by id", len(acked))
	var mu sync.Mutex
	var bad []string
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(lookupConns)
	i := 0
	for id, a := range acked {
		c := r.clients[i%len(r.clients)]
		i++
		g.Go(func() error {
			v, err := c.Tx(gctx, id)
			task.Add(1)
			if err == nil && v.Block == a.block && v.Index == a.index {
				return nil
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				bad = append(bad, fmt.Sprintf("%s: %v", id, err))
			} else {
				bad = append(bad, fmt.Sprintf("%s at block %d index %d, acknowledged at %d/%d", id, v.Block, v.Index, a.block, a.index))
			}
			return nil
		})
	}
	g.Wait()
	_, took := task.Done()
	if len(bad) > 0 {
		return audit.Check{Check: CheckFound, Node: "all", Detail: fmt.Sprintf("%d of %d not found where acknowledged: %s", len(bad), len(acked), bad[0])}
	}
	d := fmt.Sprintf("all %s acknowledged hot transactions found by id where their receipts put them (%s)", progress.Count(int64(len(acked))), progress.Seconds(took))
	r.say.linef("%s", d)
	return audit.Check{Check: CheckFound, Node: "all", Pass: true, Detail: d}
}

// checkChains reads every node's hot chain and checks it against what the
// demo was told: every acknowledged transaction in it at its place, no
// transaction twice, every sender's nonces gapless up to what it signed.
func (r *run) checkChains(ctx context.Context) []audit.Check {
	var checks []audit.Check
	for i, n := range r.c.Nodes() {
		v, err := readChain(ctx, r.clients[i])
		if err != nil {
			fail := fmt.Sprintf("read its hot blocks: %v", err)
			checks = append(checks, audit.Check{Check: CheckHeld, Node: n.ID, Detail: fail}, audit.Check{Check: CheckOnce, Node: n.ID, Detail: fail})
		} else {
			checks = append(checks, v.held(n.ID, r.book.hot()), v.once(n.ID, r.accounts()))
		}
		checks = append(checks, r.checkNonces(ctx, i, n.ID))
	}
	r.say.linef("on every node: every acknowledged transaction in its block, none twice, every sender's nonces gapless")
	return checks
}

// checkNonces checks that node i's next nonces of every demo account, hot
// and cold, are the numbers of transactions the demo had committed.
func (r *run) checkNonces(ctx context.Context, i int, id string) audit.Check {
	got, err := r.holdings(ctx, i)
	if err != nil {
		return audit.Check{Check: CheckNonces, Node: id, Detail: err.Error()}
	}
	for _, a := range r.accounts() {
		h := got[a.addr()]
		if h.hotNonce != a.hot || h.coldNonce != a.cold {
			return audit.Check{Check: CheckNonces, Node: id, Detail: fmt.Sprintf("%s: next nonces hot %d, cold %d; the demo had %d and %d committed",
				a.name, h.hotNonce, h.coldNonce, a.hot, a.cold)}
		}
	}
	return audit.Check{Check: CheckNonces, Node: id, Pass: true,
		Detail: fmt.Sprintf("the %d senders' next nonces, hot and cold, are the numbers of their committed transactions", len(r.accounts()))}
}
