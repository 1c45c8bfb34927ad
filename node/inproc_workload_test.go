package node

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/internal/robust"
	"github.com/dualchain/dualchain/ledger"
)

// The in-process tier's workload and final ledger: a few clients, one op
// in flight each, sending hot transfers between tracked accounts and
// strong reads of them to any node, recorded in a robust.History and
// checked with robust.Check against what the nodes hold at the end.

// Workload tuning: an attempt is one SubmitWait to one node; an op gives
// up (unknown) after opTimeout.
const (
	attemptTimeout = 2 * time.Second
	opTimeout      = 20 * time.Second
)

// definitiveCodes are rejections that stand: the transaction was refused
// for what it is and never will be applied.
var definitiveCodes = map[string]bool{
	"insufficient_funds": true, "nonce_too_high": true, "wrong_chain_id": true,
	api.CodeBadRequest: true, api.CodeBadTx: true, api.CodeBadSignature: true,
}

// workload runs clients against the nodes at urls until stopped.
type workload struct {
	h      *robust.History
	keys   []*ledger.Key
	plain  []*client.Client // one per node
	strong []*client.Client // reads with consistency=strong
	stop   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
	mu     sync.Mutex
	ended  []string // why a client stopped early (an unknown op)
}

// startWorkload starts one client per key; initial is what the accounts
// hold now, with nothing in flight.
func startWorkload(urls []string, keys []*ledger.Key, initial []robust.Account, seed uint64) *workload {
	w := &workload{h: robust.NewHistory(initial, nil), keys: keys, stop: make(chan struct{})}
	for _, u := range urls {
		w.plain = append(w.plain, client.New(u))
		w.strong = append(w.strong, client.New(u, client.WithHTTPClient(&http.Client{Transport: strongReads{http.DefaultTransport}})))
	}
	for i := range keys {
		w.wg.Go(func() { w.run(i, rand.New(rand.NewPCG(seed, uint64(i)))) })
	}
	return w
}

// finish stops the clients, waits for their ops to end, and returns the
// history.
func (w *workload) finish() *robust.History {
	w.once.Do(func() { close(w.stop) })
	w.wg.Wait()
	return w.h
}

// run is client i: a transfer four times in five, else a strong read,
// until stopped or until an op ends unknown (its nonce's fate is then
// unknown, so no later nonce can be chosen).
func (w *workload) run(i int, rng *rand.Rand) {
	var nonce uint64
	sent := map[ledger.Hash]bool{} // every tx id client i signed
	for {
		select {
		case <-w.stop:
			return
		default:
		}
		node := rng.IntN(len(w.plain))
		if rng.IntN(5) == 0 {
			w.read(i, node, w.keys[rng.IntN(len(w.keys))].Address)
			continue
		}
		to := w.keys[(i+1+rng.IntN(len(w.keys)-1))%len(w.keys)].Address
		switch w.transfer(i, node, sent, nonce, to, 1+rng.Uint64N(5)) {
		case robust.OutcomeOK:
			nonce++
		case robust.OutcomeUnknown:
			return
		}
	}
}

// transfer sends one transfer of client i as a new op. A failed op's
// nonce is reused, so the same to and amount would sign the same tx
// again, which the checker rightly reports as one tx id in two ops: the
// amount is raised until the tx is one client i never sent (as
// internal/robustness's workload does).
func (w *workload) transfer(i, node int, sent map[ledger.Hash]bool, nonce uint64, to ledger.Address, amount uint64) robust.Outcome {
	tx := transfer(w.keys[i], nonce, to, amount)
	for sent[tx.ID()] {
		amount++
		tx = transfer(w.keys[i], nonce, to, amount)
	}
	sent[tx.ID()] = true
	op := w.h.Begin(i, robust.Input{Kind: robust.KindHotTransfer, From: tx.From, To: to, Amount: amount, TxID: tx.ID(), Nonce: nonce})
	outcome, res := w.send(node, tx)
	op.End(outcome, res)
	if outcome == robust.OutcomeUnknown {
		w.mu.Lock()
		w.ended = append(w.ended, fmt.Sprintf("client %d: %s", i, res.Error))
		w.mu.Unlock()
	}
	return outcome
}

// send submits tx through the nodes in turn from node, the same signed
// tx every time, until it commits, is refused for good, or opTimeout.
func (w *workload) send(node int, tx *ledger.Tx) (robust.Outcome, robust.Result) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	uncertain, last := false, ""
	for attempt := 0; ctx.Err() == nil; attempt++ {
		n := (node + attempt) % len(w.plain)
		actx, acancel := context.WithTimeout(ctx, attemptTimeout)
		res, err := w.plain[n].SubmitWait(actx, tx)
		acancel()
		code, why := answerOf(res, err)
		switch {
		case code == "committed":
			return robust.OutcomeOK, robust.Result{Height: res[0].Block, Status: res[0].Receipt.Status}
		case code == "nonce_too_low": // an earlier attempt committed it
			if v, err := w.strong[n].Tx(ctx, tx.ID()); err == nil {
				return robust.OutcomeOK, robust.Result{Height: v.Block, Status: v.Status}
			}
		case definitiveCodes[code] && !uncertain:
			return robust.OutcomeFail, robust.Result{Error: why}
		}
		uncertain, last = true, why
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	return robust.OutcomeUnknown, robust.Result{Error: last}
}

// answerOf reads a SubmitWait of one transaction: "committed", an error
// code, or "" when nothing is known.
func answerOf(res []api.TxResult, err error) (string, string) {
	if len(res) == 1 {
		switch r := res[0]; {
		case r.Status == api.StatusCommitted && r.Receipt != nil:
			return "committed", ""
		case r.Status == api.StatusRejected && r.Error != nil:
			return r.Error.Code, r.Error.Code + ": " + r.Error.Message
		}
	}
	var ce *client.Error
	if errors.As(err, &ce) {
		return ce.Code, err.Error()
	}
	return "", fmt.Sprintf("no answer: %v", err)
}

// read is a strong read of addr on both chains, with the sums.
func (w *workload) read(i, node int, addr ledger.Address) {
	op := w.h.Begin(i, robust.Input{Kind: robust.KindRead, From: addr})
	ctx, cancel := context.WithTimeout(context.Background(), attemptTimeout)
	defer cancel()
	a, au, err := readAccount(ctx, w.strong[node], addr)
	if err != nil {
		op.End(robust.OutcomeFail, robust.Result{Error: err.Error()})
		return
	}
	sums := robust.SumsOf(au)
	op.End(robust.OutcomeOK, robust.Result{Snapshot: &robust.Snapshot{Node: au.NodeID, Accounts: []robust.Account{a}, Sums: &sums}})
}

// readAccount reads addr on both chains and the audit's sums with c.
func readAccount(ctx context.Context, c *client.Client, addr ledger.Address) (robust.Account, api.Audit, error) {
	hot, err := c.Account(ctx, addr)
	if err != nil {
		return robust.Account{}, api.Audit{}, err
	}
	cold, err := c.ColdAccount(ctx, addr)
	if err != nil {
		return robust.Account{}, api.Audit{}, err
	}
	au, err := c.Audit(ctx)
	return robust.Account{Address: addr, Hot: hot.Balance, HotNonce: hot.Nonce, Cold: cold.Balance, ColdNonce: cold.Nonce}, au, err
}

// strongReads adds consistency=strong to every GET.
type strongReads struct{ base http.RoundTripper }

func (s strongReads) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodGet {
		return s.base.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	q := r.URL.Query()
	q.Set("consistency", "strong")
	r.URL.RawQuery = q.Encode()
	return s.base.RoundTrip(r)
}

// inprocLedger is the robust.FinalLedger of an in-process cluster, read
// over the nodes' APIs once the faults are healed and the nodes converged:
// the leader's blocks and an atomic read on it, and every node's hot
// commitments, cold roots and Raft log digests (GET /v1/admin/raft/log).
type inprocLedger struct {
	leader *client.Client   // strong reads
	nodes  []*client.Client // with the admin token
	ids    []string
	// logRange is the range of Raft log indexes Nodes compared.
	logFrom, logTo uint64
}

var _ robust.FinalLedger = (*inprocLedger)(nil)

// Txs scans both chains from height 1 on the first node, the leader
// first, that holds every block (one that installed a snapshot may not).
func (l *inprocLedger) Txs(ctx context.Context, accounts []ledger.Address) ([]robust.CommittedTx, error) {
	au, err := l.leader.Audit(ctx)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, c := range append([]*client.Client{l.leader}, l.nodes...) {
		txs, err := scanTxs(ctx, c, au.HotHeight, au.ColdHeight, accounts)
		if err == nil {
			return txs, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

func scanTxs(ctx context.Context, c *client.Client, hot, cold uint64, accounts []ledger.Address) ([]robust.CommittedTx, error) {
	var out []robust.CommittedTx
	blocks, err := c.Blocks(ctx, 1, hot)
	if err != nil || uint64(len(blocks)) != hot {
		return nil, fmt.Errorf("hot blocks 1..%d: %d, %v", hot, len(blocks), err)
	}
	for _, b := range blocks {
		for _, tx := range b.Txs {
			if slices.Contains(accounts, tx.From) {
				out = append(out, robust.CommittedTx{ID: tx.ID, From: tx.From, Chain: tx.Chain, Nonce: tx.Nonce, Height: b.Height, Status: tx.Status})
			}
		}
	}
	for h := uint64(1); h <= cold; h++ {
		b, err := c.ColdBlock(ctx, h)
		if err != nil {
			return nil, fmt.Errorf("cold block %d: %w", h, err)
		}
		for k := range b.Txs {
			if tx := &b.Txs[k]; slices.Contains(accounts, tx.From) {
				out = append(out, robust.CommittedTx{ID: tx.ID(), From: tx.From, Chain: ledger.Cold, Nonce: tx.Nonce, Height: h, Status: b.Receipts[k].Status})
			}
		}
	}
	return out, nil
}

// Snapshot reads accounts and the sums on the leader between two audits
// at one applied index: atomically.
func (l *inprocLedger) Snapshot(ctx context.Context, accounts []ledger.Address) (robust.Snapshot, error) {
	for ctx.Err() == nil {
		before, err := l.leader.Audit(ctx)
		if err != nil {
			return robust.Snapshot{}, err
		}
		s := robust.Snapshot{Node: before.NodeID, AppliedIndex: before.AppliedIndex, Atomic: true}
		for _, addr := range accounts {
			a, _, err := readAccount(ctx, l.leader, addr)
			if err != nil {
				return robust.Snapshot{}, err
			}
			s.Accounts = append(s.Accounts, a)
		}
		after, err := l.leader.Audit(ctx)
		if err == nil && after.AppliedIndex == before.AppliedIndex {
			sums := robust.SumsOf(before)
			s.Sums = &sums
			return s, nil
		}
	}
	return robust.Snapshot{}, fmt.Errorf("no atomic read: %w", ctx.Err())
}

// Nodes reports every node's hot commitment and cold root at every
// height, and its Raft log digests over the range all of them hold.
func (l *inprocLedger) Nodes(ctx context.Context) ([]robust.NodeReport, error) {
	logs := make([]api.RaftLog, len(l.nodes))
	for i, c := range l.nodes {
		lg, err := c.RaftLog(ctx, 0, 0, 0)
		if err != nil {
			return nil, fmt.Errorf("%s: raft log bounds: %w", l.ids[i], err)
		}
		logs[i] = lg
	}
	from, to, ok := robust.LogRange(logs)
	if !ok {
		return nil, fmt.Errorf("the nodes' Raft logs share no committed range: %+v", logs)
	}
	l.logFrom, l.logTo = from, to
	out := make([]robust.NodeReport, len(l.nodes))
	for i, c := range l.nodes {
		r, err := nodeReport(ctx, c, l.ids[i], from, to)
		if err != nil {
			r.Err = err.Error()
		}
		out[i] = r
	}
	return out, nil
}

// nodeReport is node id's Raft log digests over from..to, and its hot
// commitments and cold roots at a sample of heights it holds.
func nodeReport(ctx context.Context, c *client.Client, id string, from, to uint64) (robust.NodeReport, error) {
	r := robust.NodeReport{Node: id}
	lg, err := c.RaftLog(ctx, from, to, robust.LogEvery(from, to, 4096))
	if err != nil {
		return r, fmt.Errorf("raft log digests: %w", err)
	}
	r.Log = robust.LogPoints(lg)
	au, err := c.Audit(ctx)
	if err != nil {
		return r, err
	}
	for _, h := range sampleHeights(au.HotHeight) {
		b, err := c.Block(ctx, h)
		if err == nil {
			r.Hot = append(r.Hot, robust.Point{At: h, Digest: b.Commitment})
		} else if !notFound(err) {
			return r, fmt.Errorf("hot block %d: %w", h, err)
		}
	}
	for _, h := range sampleHeights(au.ColdHeight) {
		b, err := c.ColdBlock(ctx, h)
		if err == nil {
			r.Cold = append(r.Cold, robust.Point{At: h, Digest: b.Header.StateRoot})
		} else if !notFound(err) {
			return r, fmt.Errorf("cold block %d: %w", h, err)
		}
	}
	return r, nil
}

func notFound(err error) bool {
	var ce *client.Error
	return errors.As(err, &ce) && ce.Code == api.CodeNotFound
}

// sampleHeights is 32 heights spread over 1..head, and the last 5.
func sampleHeights(head uint64) []uint64 {
	var out []uint64
	for k := uint64(1); k <= 32 && head > 0; k++ {
		out = append(out, max(1, k*head/32))
	}
	for h := head; h > 0 && h+5 > head; h-- {
		out = append(out, h)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
