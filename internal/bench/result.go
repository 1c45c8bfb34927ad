package bench

import "time"

// Result is one load run's figures: the table a user reads and the JSON
// object --json prints.
type Result struct {
	Workload    string           `json:"workload"`             // native, vm, contract, cold or mixed
	Nodes       int              `json:"nodes"`                // voters in the cluster under load
	Store       string           `json:"store"`                // the nodes' hot store: redis, memory or pebble
	Exec        string           `json:"exec"`                 // the nodes' execution mode: native, vm or both
	Accounts    int              `json:"accounts"`             // funded senders
	StateSize   int              `json:"state_accounts"`       // accounts in the hot state when the clock started
	Concurrency int              `json:"concurrency"`          // requests in flight at most
	Batch       int              `json:"batch"`                // transactions per request
	Offered     float64          `json:"offered_per_sec"`      // the open loop's rate; 0 for a closed loop (as fast as it commits)
	Seconds     float64          `json:"duration_sec"`         // from the first submission to the last receipt
	RanOut      bool             `json:"ran_out,omitempty"`    // every presigned transaction was sent before the duration ended
	Submitted   int64            `json:"submitted"`            // transactions sent
	Committed   int64            `json:"committed"`            // transactions with a committed receipt
	PerSec      float64          `json:"committed_per_sec"`    // Committed / Seconds
	P50         float64          `json:"p50_ms"`               // submission to commit, per transaction
	P90         float64          `json:"p90_ms"`               //
	P99         float64          `json:"p99_ms"`               //
	Max         float64          `json:"max_ms"`               //
	Errors      int64            `json:"errors"`               // transactions not committed, all kinds
	ErrorKinds  map[string]int64 `json:"errors_by_kind"`       // error code (or "timeout", "http") → transactions
	Paths       map[string]int64 `json:"paths"`                // receipts by execution path: native, vm
	VerifyLimit float64          `json:"verify_limit_per_sec"` // signatures this machine verifies per second on all cores
	OfLimit     float64          `json:"fraction_of_limit"`    // PerSec / VerifyLimit
	CDF         []Quantile       `json:"latency_cdf"`          // latency at quantiles from 0 to 1, for plots
}

// Quantile is one point of a latency distribution.
type Quantile struct {
	Q  float64 `json:"q"`  // 0..1
	Ms float64 `json:"ms"` // latency at or under which a fraction Q of transactions committed
}

// StudyRow is one row of `bench --study`: a configuration of the scaling
// study this project started from, measured here.
type StudyRow struct {
	Name   string  `json:"name"`          // "VM + disk state", ...
	Study  float64 `json:"study_per_sec"` // the study's figure; 0 where it had none
	Ratio  float64 `json:"ratio"`         // Result.PerSec / Study; 0 where it had none
	Result Result  `json:"result"`
}

// Study is a `bench --study` run.
type Study struct {
	Rows        []StudyRow    `json:"rows"`
	VerifyLimit float64       `json:"verify_limit_per_sec"`
	Took        time.Duration `json:"took_ns"`
}
