package robust

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/ledger"
)

// Account is one account on both chains, as a read saw it.
type Account struct {
	Address   ledger.Address `json:"address"`
	Hot       uint64         `json:"hot"`
	HotNonce  uint64         `json:"hot_nonce"` // next nonce, as committed
	Cold      uint64         `json:"cold"`
	ColdNonce uint64         `json:"cold_nonce"`
}

// Sums are one node's totals over every account at one applied index: the
// figures of GET /v1/audit (api.Audit).
type Sums struct {
	Supply uint64 `json:"supply"` // the genesis supply
	Hot    uint64 `json:"hot"`
	Cold   uint64 `json:"cold"`
	// InFlight is value between the chains (bridge/DESIGN.md): settles
	// escrowed and not yet credited on the cold chain, plus deposits
	// debited on the cold chain and not yet credited on the hot.
	InFlight uint64 `json:"in_flight"`
	// Bad counts balances that do not decode and sums that overflow.
	Bad int `json:"bad,omitempty"`
}

// SumsOf returns a node's audit as Sums.
func SumsOf(au api.Audit) Sums {
	return Sums{
		Supply: au.Supply, Hot: au.HotBalances, Cold: au.ColdBalances,
		InFlight: au.InFlightSettles + au.InFlightDeposits, Bad: au.BadBalances,
	}
}

// Snapshot is what a read returned.
type Snapshot struct {
	Node         string `json:"node,omitempty"`
	AppliedIndex uint64 `json:"applied_index,omitempty"`
	// Atomic says every value, the sums included, was read at
	// AppliedIndex on Node: the read took effect at one instant. Otherwise
	// each account's hot and cold values are taken as read at separate
	// instants within the op.
	Atomic   bool      `json:"atomic,omitempty"`
	Accounts []Account `json:"accounts"`
	// Sums, if the read has them, are checked for conservation. In an
	// atomic read, sums with nothing in flight also say every credit to
	// the accounts read had arrived.
	Sums *Sums `json:"sums,omitempty"`
}

// CommittedTx is a transaction in a committed block, as the ledger holds
// it.
type CommittedTx struct {
	ID     ledger.Hash    `json:"id"`
	From   ledger.Address `json:"from"`
	Chain  ledger.Chain   `json:"chain"`
	Nonce  uint64         `json:"nonce"`
	Height uint64         `json:"height"` // its block on its chain
	Status ledger.Status  `json:"status"` // its receipt's
}

// Point is one node's digest of its chain or log at one height or index.
type Point struct {
	At     uint64      `json:"at"`
	Digest ledger.Hash `json:"digest"`
}

// NodeReport is what one node reports at the end.
type NodeReport struct {
	Node string `json:"node"`
	// Err says what is wrong with the node's report: it gave none, or it
	// lacks blocks a member of a converged cluster must hold. A node that
	// does not answer at the end has not converged: either is a violation.
	Err string `json:"err,omitempty"`
	// Hot holds hot heights with the commitment of the block there; Cold
	// cold heights with the state root of the block there. At least each
	// node's head; nodes are compared at the heights they share.
	Hot  []Point `json:"hot,omitempty"`
	Cold []Point `json:"cold,omitempty"`
	// Skipped counts the heights the driver asked for that the node may
	// lack, and did: hot blocks below a snapshot it restored, which it
	// still fetches from its peers. They are not compared.
	Skipped int `json:"skipped,omitempty"`
	// Log holds Raft log indexes with a digest that identifies the log at
	// that index the same way on every node (the entry's term, type and
	// data; or a rolling hash from an index every node still holds).
	Log []Point `json:"log,omitempty"`
}

// FinalLedger is what Check reads of the cluster once the run is over and
// the faults healed. Check calls each method once.
type FinalLedger interface {
	// Txs returns every committed transaction sent from one of accounts,
	// on either chain, as often as the chain holds it (a transaction in
	// two blocks is returned twice), in any order.
	Txs(ctx context.Context, accounts []ledger.Address) ([]CommittedTx, error)
	// Snapshot returns accounts on both chains, and the Sums, once every
	// operation has ended: from one node, at one applied index if it can
	// (then Atomic). With Options.Drained, after the bridge drained.
	Snapshot(ctx context.Context, accounts []ledger.Address) (Snapshot, error)
	// Nodes returns each node's report; one that did not answer has Err.
	// With an error it may still return reports, lacking the part the
	// error names (the Raft log digests, say): Check compares what they
	// hold and reports the error.
	Nodes(ctx context.Context) ([]NodeReport, error)
}

// Frozen is a final ledger read once and kept: what a failing run saves
// beside its history, so it can be checked again offline, and what tests
// build by hand.
type Frozen struct {
	Committed []CommittedTx `json:"committed"`
	Final     Snapshot      `json:"final"`
	Reports   []NodeReport  `json:"reports"`
	// Why a part could not be read, if it could not: that part's method
	// returns it as its error.
	TxsErr      string `json:"txs_err,omitempty"`
	SnapshotErr string `json:"snapshot_err,omitempty"`
	NodesErr    string `json:"nodes_err,omitempty"`
}

var _ FinalLedger = (*Frozen)(nil)

// Freeze reads l once into a Frozen. It reads every part, and always
// returns the Frozen: a part that failed is kept as its error (and as
// much of it as l returned with the error), and the error returned joins
// those errors.
func Freeze(ctx context.Context, l FinalLedger, accounts []ledger.Address) (*Frozen, error) {
	f := &Frozen{}
	var errs []error
	fail := func(part string, err error) string {
		if err == nil {
			return ""
		}
		errs = append(errs, fmt.Errorf("freeze %s: %w", part, err))
		return err.Error()
	}
	var err error
	f.Committed, err = l.Txs(ctx, accounts)
	f.TxsErr = fail("txs", err)
	f.Final, err = l.Snapshot(ctx, accounts)
	f.SnapshotErr = fail("snapshot", err)
	f.Reports, err = l.Nodes(ctx)
	f.NodesErr = fail("node reports", err)
	return f, errors.Join(errs...)
}

// frozenErr is the error a part of a Frozen was read with, or nil.
func frozenErr(why string) error {
	if why == "" {
		return nil
	}
	return errors.New(why)
}

// Txs returns the committed transactions sent from one of accounts.
func (f *Frozen) Txs(_ context.Context, accounts []ledger.Address) ([]CommittedTx, error) {
	var out []CommittedTx
	for _, tx := range f.Committed {
		if slices.Contains(accounts, tx.From) {
			out = append(out, tx)
		}
	}
	return out, frozenErr(f.TxsErr)
}

// Snapshot returns the final snapshot, with only accounts in it.
func (f *Frozen) Snapshot(_ context.Context, accounts []ledger.Address) (Snapshot, error) {
	s := f.Final
	s.Accounts = slices.DeleteFunc(slices.Clone(s.Accounts), func(a Account) bool {
		return !slices.Contains(accounts, a.Address)
	})
	return s, frozenErr(f.SnapshotErr)
}

// Nodes returns the node reports.
func (f *Frozen) Nodes(context.Context) ([]NodeReport, error) {
	return f.Reports, frozenErr(f.NodesErr)
}
