package api

import (
	"context"
	"encoding/json"

	"github.com/dualchain/dualchain/ledger"
)

// ColdBackend is what a backend with a cold chain and a bridge adds to
// Backend. A server whose backend does not implement it answers the cold
// and bridge endpoints with unsupported.
type ColdBackend interface {
	// ColdAccount returns addr's cold account (zero if it has none), with
	// the next nonce after the node's pending cold transactions.
	ColdAccount(ctx context.Context, addr ledger.Address) (ledger.Account, error)

	// ColdBlock returns the cold block at height; height 0 is the latest.
	// No cold block yet, or none at height, is a not_found error.
	ColdBlock(ctx context.Context, height uint64) (*ledger.ColdBlock, error)

	// ColdProof returns the inclusion (or non-inclusion) proof of addr's
	// cold account against the state root of the cold block at height
	// (0: the latest), in the proof's JSON form (coldchain/DESIGN.md). A
	// height older than the node keeps proofs for is a not_found error.
	ColdProof(ctx context.Context, addr ledger.Address, height uint64) (ColdProof, error)

	// BridgeTransfer returns a settle's or deposit's status by the id of
	// the transaction that started it; an unknown id is not_found.
	BridgeTransfer(ctx context.Context, id ledger.Hash) (BridgeTransfer, error)

	// Audit sums this node's state at one point of its log: the figures
	// `dualchain audit` checks across nodes.
	Audit(ctx context.Context) (Audit, error)
}

// ColdProof is a proof with the cold block it was made against.
type ColdProof struct {
	Height uint64          `json:"height"` // the cold block whose state root the proof is against
	Root   ledger.Hash     `json:"root"`   // that block's state root
	Proof  json.RawMessage `json:"proof"`  // coldchain.Proof's JSON, verifiable offline
}

// Bridge transfer statuses.
const (
	BridgePending      = "pending"      // committed on its source chain, not yet on the other
	BridgeCheckpointed = "checkpointed" // a settle credited to the cold account by a checkpoint
	BridgeCredited     = "credited"     // a deposit credited to the hot account
)

// BridgeTransfer is a settle's or deposit's status.
type BridgeTransfer struct {
	ID     ledger.Hash       `json:"id"`
	Kind   ledger.BridgeKind `json:"kind"`
	Owner  ledger.Address    `json:"owner"`
	Amount uint64            `json:"amount"`
	Status string            `json:"status"` // BridgePending, BridgeCheckpointed or BridgeCredited
	// HotHeight is the hot block of the settle transaction, or the hot
	// block that credited a deposit (0 while pending).
	HotHeight uint64 `json:"hot_height,omitempty"`
	// ColdHeight is the cold block that credited a settle (0 while
	// pending), or the one whose transaction debited a deposit.
	ColdHeight uint64 `json:"cold_height,omitempty"`
	// Proof is, once the transfer is done, the owner's cold account
	// proved against the state root of the block at ColdHeight (or a
	// later one, if the node no longer keeps proofs that old).
	Proof *ColdProof `json:"proof,omitempty"`
}

// Done reports whether the transfer reached the other chain.
func (t BridgeTransfer) Done() bool { return t.Status != BridgePending }

// Audit is one node's state summed at one applied log index, for
// `dualchain audit`. Σ HotBalances + ColdBalances + InFlightSettles +
// InFlightDeposits must equal Supply.
type Audit struct {
	NodeID        string      `json:"node_id"`
	AppliedIndex  uint64      `json:"applied_index"`
	HotHeight     uint64      `json:"hot_height"`
	HotCommitment ledger.Hash `json:"hot_commitment"`
	ColdHeight    uint64      `json:"cold_height"`
	ColdRoot      ledger.Hash `json:"cold_root"`

	Supply           uint64 `json:"supply"` // the genesis supply
	HotBalances      uint64 `json:"hot_balances"`
	ColdBalances     uint64 `json:"cold_balances"`
	InFlightSettles  uint64 `json:"in_flight_settles"`  // escrowed on the hot chain, not yet credited on the cold
	InFlightDeposits uint64 `json:"in_flight_deposits"` // debited on the cold chain, not yet credited on the hot
	HotAccounts      int    `json:"hot_accounts"`
	ColdAccounts     int    `json:"cold_accounts"`
	// BadBalances counts balances that do not decode, and sums that
	// overflow: a corrupt state.
	BadBalances int `json:"bad_balances"`
	// MirrorMismatches counts hot keys whose value in the store differs
	// from the cold mirror plus the writes since the checkpoint.
	MirrorMismatches int `json:"mirror_mismatches"`
}

// Conserved reports whether the audit's sums add up to the supply.
func (a Audit) Conserved() bool {
	var sum uint64
	for _, v := range []uint64{a.HotBalances, a.ColdBalances, a.InFlightSettles, a.InFlightDeposits} {
		if sum+v < sum {
			return false
		}
		sum += v
	}
	return sum == a.Supply && a.BadBalances == 0
}
