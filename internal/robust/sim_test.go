package robust

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"github.com/dualchain/dualchain/ledger"
)

// A simulated run: a correct bank applies a script of operations at the
// instants the script says, and the clients record what they saw through
// a real History on a fake clock. Tests check what it produces, then
// break it.

// sink is an address the history does not track.
var sink = ledger.Address{0xee}

// addr is tracked account i's address.
func addr(i int) ledger.Address { return ledger.Address{1, byte(i)} }

// step is one operation of a script.
type step struct {
	client   int
	kind     Kind
	from, to int // account indexes; to -1 is the sink
	amount   uint64
	// call and ret are when the client calls and hears back; lin is when
	// the chain applies the transaction or the read reads (ignored unless
	// it commits or answers), credit when a settle's or deposit's credit
	// lands on the other chain (at least lin).
	call, lin, ret, credit time.Duration
	commit                 bool    // a transaction: the chain commits it
	outcome                Outcome // what the client hears; "" never ended
	all, split, local      bool    // a read: of every account (with sums), not atomic, served locally
}

const ms = time.Millisecond

// ok is a transaction the chain commits and the client hears of.
func ok(client int, kind Kind, from, to int, amount uint64, call, lin, ret time.Duration) step {
	return step{client: client, kind: kind, from: from, to: to, amount: amount,
		call: call, lin: lin, ret: ret, credit: lin, commit: true, outcome: OutcomeOK}
}

// read is a read of account from that the client hears of.
func read(client, from int, call, lin, ret time.Duration) step {
	return step{client: client, kind: KindRead, from: from, call: call, lin: lin, ret: ret, outcome: OutcomeOK}
}

// readAll is an atomic read of every account, with the sums.
func readAll(client int, call, lin, ret time.Duration) step {
	s := read(client, 0, call, lin, ret)
	s.kind, s.all = KindReadAll, true
	return s
}

func (s step) with(f func(*step)) step { f(&s); return s }

// simulated is what a run produced.
type simulated struct {
	h      *History
	ledger *Frozen
	ops    []*Op // by script index
}

// bankSim is the correct bank.
type bankSim struct {
	accts    []Account
	sinkHot  uint64
	sinkCold uint64
	supply   uint64
	heights  [2]uint64
	pending  []credit
	txs      []CommittedTx
}

// credit is a bridge credit on its way.
type credit struct {
	at     time.Duration
	acct   int
	side   int
	amount uint64
}

// simulate runs script on a bank that starts as initial. With drained, the
// final snapshot is taken after every credit landed.
func simulate(t *testing.T, initial []Account, script []step, drained bool) simulated {
	t.Helper()
	b := &bankSim{accts: slices.Clone(initial)}
	for _, a := range initial {
		b.supply += a.Hot + a.Cold
	}
	nonces := assignNonces(initial, script)
	results := make([]Result, len(script))
	order := make([]int, len(script))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return cmp.Compare(script[i].lin, script[j].lin) })
	for _, i := range order {
		s := &script[i]
		b.land(s.lin)
		switch {
		case s.kind.IsTx() && s.commit:
			results[i] = b.apply(t, i, s, nonces[i])
		case !s.kind.IsTx() && s.outcome == OutcomeOK:
			results[i] = Result{Snapshot: b.snapshot(s)}
		}
	}
	if drained {
		b.land(1 << 62)
	}
	h, ops := record(initial, script, nonces, results)
	return simulated{h: h, ledger: b.frozen(), ops: ops}
}

// assignNonces gives each transaction of the script its account's next
// nonce on its chain; one the chain does not commit leaves it unused.
func assignNonces(initial []Account, script []step) []uint64 {
	next := map[[2]int]uint64{}
	for i, a := range initial {
		next[[2]int{i, hotSide}], next[[2]int{i, coldSide}] = a.HotNonce, a.ColdNonce
	}
	out := make([]uint64, len(script))
	for i, s := range script {
		if !s.kind.IsTx() {
			continue
		}
		key := [2]int{s.from, sideOf(s.kind.Chain())}
		out[i] = next[key]
		if s.commit {
			next[key]++
		}
	}
	return out
}

// txID is script step i's transaction id.
func txID(i int) ledger.Hash {
	return sha256.Sum256(binary.BigEndian.AppendUint64([]byte("tx"), uint64(i)))
}

// land applies every credit due by at, oldest first.
func (b *bankSim) land(at time.Duration) {
	slices.SortStableFunc(b.pending, func(x, y credit) int { return cmp.Compare(x.at, y.at) })
	for len(b.pending) > 0 && b.pending[0].at <= at {
		c := b.pending[0]
		b.pending = b.pending[1:]
		*b.bal(c.acct, c.side) += c.amount
	}
}

func (b *bankSim) bal(i, side int) *uint64 {
	switch {
	case i < 0 && side == hotSide:
		return &b.sinkHot
	case i < 0:
		return &b.sinkCold
	case side == hotSide:
		return &b.accts[i].Hot
	}
	return &b.accts[i].Cold
}

func (b *bankSim) nonce(i, side int) *uint64 {
	if side == hotSide {
		return &b.accts[i].HotNonce
	}
	return &b.accts[i].ColdNonce
}

func (b *bankSim) apply(t *testing.T, i int, s *step, nonce uint64) Result {
	c := sideOf(s.kind.Chain())
	if n := b.nonce(s.from, c); *n != nonce {
		t.Fatalf("script step %d applies nonce %d, the account is at %d: fix the script", i, nonce, *n)
	} else {
		*n++
	}
	status := ledger.StatusOK
	from := b.bal(s.from, c)
	switch {
	case *from < s.amount:
		status = ledger.StatusInsufficientFunds
	case s.kind == KindSettle || s.kind == KindDeposit:
		*from -= s.amount
		b.pending = append(b.pending, credit{max(s.credit, s.lin), s.from, 1 - c, s.amount})
	default:
		*from -= s.amount
		*b.bal(s.to, c) += s.amount
	}
	b.heights[c]++
	b.txs = append(b.txs, CommittedTx{ID: txID(i), From: addr(s.from), Chain: s.kind.Chain(),
		Nonce: nonce, Height: b.heights[c], Status: status})
	return Result{Height: b.heights[c], Status: status}
}

func (b *bankSim) sums() *Sums {
	s := &Sums{Supply: b.supply, Hot: b.sinkHot, Cold: b.sinkCold}
	for _, a := range b.accts {
		s.Hot += a.Hot
		s.Cold += a.Cold
	}
	for _, c := range b.pending {
		s.InFlight += c.amount
	}
	return s
}

func (b *bankSim) snapshot(s *step) *Snapshot {
	if !s.all {
		return &Snapshot{Atomic: !s.split, Accounts: []Account{b.accts[s.from]}}
	}
	return &Snapshot{Atomic: !s.split, Accounts: slices.Clone(b.accts), Sums: b.sums()}
}

// frozen is the ledger the cluster holds at the end: three nodes that
// agree.
func (b *bankSim) frozen() *Frozen {
	f := &Frozen{Committed: b.txs, Final: Snapshot{Node: "n1", Atomic: true, Accounts: slices.Clone(b.accts), Sums: b.sums()}}
	for _, n := range []string{"n1", "n2", "n3"} {
		r := NodeReport{Node: n}
		for h := uint64(1); h <= b.heights[0]+1; h++ {
			r.Hot = append(r.Hot, Point{h, digest("hot", h)})
		}
		for h := uint64(1); h <= b.heights[1]+1; h++ {
			r.Cold = append(r.Cold, Point{h, digest("cold", h)})
		}
		for i := uint64(1); i <= uint64(len(b.txs))+2; i++ {
			r.Log = append(r.Log, Point{i, digest("log", i)})
		}
		f.Reports = append(f.Reports, r)
	}
	return f
}

func digest(what string, at uint64) ledger.Hash {
	return sha256.Sum256(binary.BigEndian.AppendUint64([]byte(what), at))
}

// record plays the script's calls and returns through a History on a
// fake clock.
func record(initial []Account, script []step, nonces []uint64, results []Result) (*History, []*Op) {
	type event struct {
		at  time.Duration
		end bool
		i   int
	}
	var events []event
	for i, s := range script {
		events = append(events, event{s.call, false, i})
		if s.outcome != "" {
			events = append(events, event{s.ret, true, i})
		}
	}
	slices.SortStableFunc(events, func(x, y event) int {
		if x.at != y.at {
			return cmp.Compare(x.at, y.at)
		}
		if x.end != y.end { // calls first: an op of zero length still begins before it ends
			if x.end {
				return 1
			}
			return -1
		}
		return 0
	})
	var now time.Duration
	h := NewHistory(initial, func() time.Duration { return now })
	ops := make([]*Op, len(script))
	for _, e := range events {
		now = e.at
		s := &script[e.i]
		if !e.end {
			ops[e.i] = h.Begin(s.client, input(e.i, s, nonces[e.i]))
			continue
		}
		ops[e.i].End(s.outcome, heard(s, results[e.i]))
	}
	return h, ops
}

func input(i int, s *step, nonce uint64) Input {
	in := Input{Kind: s.kind, From: addr(s.from), Local: s.local}
	if !s.kind.IsTx() {
		return in
	}
	in.Amount, in.TxID, in.Nonce = s.amount, txID(i), nonce
	if s.kind == KindHotTransfer || s.kind == KindColdTransfer {
		in.To = sink
		if s.to >= 0 {
			in.To = addr(s.to)
		}
	}
	return in
}

// heard is what the client is told.
func heard(s *step, r Result) Result {
	switch s.outcome {
	case OutcomeFail:
		return Result{Error: "rejected"}
	case OutcomeUnknown:
		return Result{Error: "timeout"}
	}
	return r
}

// accounts returns n tracked accounts holding hot and cold each.
func accounts(n int, hot, cold uint64) []Account {
	out := make([]Account, n)
	for i := range out {
		out[i] = Account{Address: addr(i), Hot: hot, Cold: cold}
	}
	return out
}
