package robust

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/dualchain/dualchain/ledger"
)

var (
	// ErrBadHistory reports a saved history that cannot be read back.
	ErrBadHistory = errors.New("robust: bad history")
	// ErrEndedTwice reports an Op ended a second time: a broken invariant
	// of the caller, so End panics with it.
	ErrEndedTwice = errors.New("robust: op ended twice")
)

// Kind is what an operation does.
type Kind string

// The kinds of operation a workload records.
const (
	KindHotTransfer  Kind = "hot_transfer"  // token transfer on the hot chain
	KindSettle       Kind = "settle"        // hot → cold: debits hot now, credits cold at a checkpoint
	KindDeposit      Kind = "deposit"       // cold → hot: debits cold now, credits hot in a later hot block
	KindColdTransfer Kind = "cold_transfer" // native transfer on the cold chain
	KindRead         Kind = "read"          // one account (From) on both chains
	KindReadAll      Kind = "read_all"      // every tracked account, and the sums if the reader has them
)

// IsTx reports whether the kind sends a transaction.
func (k Kind) IsTx() bool { return k != KindRead && k != KindReadAll }

// Chain is the chain a transaction of this kind is sent to, and whose
// nonce it uses.
func (k Kind) Chain() ledger.Chain {
	if k == KindDeposit || k == KindColdTransfer {
		return ledger.Cold
	}
	return ledger.Hot
}

// Outcome is what the client learned of an operation.
type Outcome string

const (
	// OutcomeOK: a transaction committed (whatever its receipt says), or
	// a read answered.
	OutcomeOK Outcome = "ok"
	// OutcomeFail: the operation did not happen and never will (a
	// transaction definitely rejected, a read that failed).
	OutcomeFail Outcome = "fail"
	// OutcomeUnknown: a timeout, a lost leader, a connection cut: a
	// transaction may still commit.
	OutcomeUnknown Outcome = "unknown"
)

// Input is what an operation was asked to do.
type Input struct {
	Kind Kind `json:"kind"`
	// From is a transaction's sender, or the account a KindRead reads.
	From ledger.Address `json:"from"`
	// To is a transfer's recipient; a settle or deposit goes to From's
	// account on the other chain.
	To     ledger.Address `json:"to,omitzero"`
	Amount uint64         `json:"amount,omitempty"`
	// TxID and Nonce are the signed transaction's: every retry resends it.
	TxID  ledger.Hash `json:"tx,omitzero"`
	Nonce uint64      `json:"nonce"`
	// Local marks a read served from a node's own state (consistency
	// local): a follower may lag, so it is checked for conservation and
	// bounds but not for linearizability.
	Local bool `json:"local,omitempty"`
}

// Result is what an operation returned.
type Result struct {
	// Height is the block of a committed transaction on its chain (the
	// cold height for deposits and cold transfers); 0 if not told.
	Height uint64 `json:"height,omitempty"`
	// Status is a committed transaction's receipt status: a committed
	// transaction may have failed (insufficient funds) and still used its
	// nonce.
	Status ledger.Status `json:"status"`
	// Snapshot is what a read saw.
	Snapshot *Snapshot `json:"snapshot,omitempty"`
	// Error says why an operation failed or is unknown.
	Error string `json:"error,omitempty"`
}

// Op is one logical operation of one client.
type Op struct {
	ID     int `json:"id"`     // its place in the history, from 0
	Client int `json:"client"` // who ran it: a client has one op in flight
	Input
	// Call and Return are times since the history started, from its
	// clock. Return is meaningless until the op ends.
	Call   time.Duration `json:"call"`
	Return time.Duration `json:"return"`
	// Outcome is "" while the op runs, and for one that never ended (a
	// crashed client): Check counts those as unknown.
	Outcome Outcome `json:"outcome,omitempty"`
	Result  Result  `json:"result"`

	h *History
}

// Clock returns the time since a history started. It must never go
// backwards.
type Clock func() time.Duration

// History records the operations of a run. It is safe for concurrent use.
type History struct {
	mu      sync.Mutex
	clock   Clock
	initial []Account
	ops     []*Op
}

// NewHistory starts a history of operations on the accounts in initial,
// which says what each held on both chains before the first operation
// (read with nothing in flight to them). A nil clock is the monotonic
// clock since now.
func NewHistory(initial []Account, clock Clock) *History {
	if clock == nil {
		start := time.Now() // carries a monotonic reading: time.Since uses it
		clock = func() time.Duration { return time.Since(start) }
	}
	return &History{clock: clock, initial: slices.Clone(initial)}
}

// Begin records the call of an operation and returns it, to End.
func (h *History) Begin(client int, in Input) *Op {
	h.mu.Lock()
	defer h.mu.Unlock()
	op := &Op{ID: len(h.ops), Client: client, Input: in, Call: h.clock(), h: h}
	h.ops = append(h.ops, op)
	return op
}

// End records the operation's return. An op ends once: a second End is a
// bug in the caller, and panics.
func (o *Op) End(outcome Outcome, res Result) {
	o.h.mu.Lock()
	defer o.h.mu.Unlock()
	if o.Outcome != "" {
		panic(fmt.Errorf("%w: op %d", ErrEndedTwice, o.ID))
	}
	o.Return, o.Outcome, o.Result = o.h.clock(), outcome, res
}

// Now is the history's clock.
func (h *History) Now() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.clock()
}

// Initial returns the accounts the history tracks, as they were before it.
func (h *History) Initial() []Account {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.initial)
}

// Ops returns a copy of every operation so far, in the order they began.
func (h *History) Ops() []Op {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Op, len(h.ops))
	for i, op := range h.ops {
		out[i] = *op
		out[i].h = nil
	}
	return out
}

// saved is a history as JSON.
type saved struct {
	Version int       `json:"version"`
	Initial []Account `json:"initial"`
	Ops     []Op      `json:"ops"`
}

const savedVersion = 1

// Save writes the history as JSON.
func (h *History) Save(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(saved{Version: savedVersion, Initial: h.Initial(), Ops: h.Ops()})
}

// SaveFile writes the history to a JSON file at path.
func (h *History) SaveFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := h.Save(f); err != nil {
		f.Close()
		return fmt.Errorf("save history %s: %w", path, err)
	}
	return f.Close()
}

// Load reads a history that Save wrote. Its clock goes on from the last
// time recorded, so ops begun on it come after those loaded.
func Load(r io.Reader) (*History, error) {
	var s saved
	if err := json.NewDecoder(r).Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadHistory, err)
	}
	if s.Version != savedVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrBadHistory, s.Version, savedVersion)
	}
	var last time.Duration
	h := &History{initial: s.Initial}
	for i := range s.Ops {
		op := &s.Ops[i]
		if op.ID != i {
			return nil, fmt.Errorf("%w: op %d has id %d", ErrBadHistory, i, op.ID)
		}
		op.h = h
		last = max(last, op.Call, op.Return)
		h.ops = append(h.ops, op)
	}
	start := time.Now()
	h.clock = func() time.Duration { return last + time.Since(start) }
	return h, nil
}

// LoadFile reads a history from a JSON file that SaveFile wrote.
func LoadFile(path string) (*History, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Load(f)
}
