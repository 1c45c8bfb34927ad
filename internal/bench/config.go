package bench

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Workloads a run can offer.
const (
	Native   = "native"   // hot transfers of the base token, run natively
	VM       = "vm"       // the same transfers on nodes that run every call in the VM (--exec vm)
	Contract = "contract" // calls of the example name registry (Rust, in the VM)
	Cold     = "cold"     // cold-chain transfers, committed in cold blocks
	Mixed    = "mixed"    // hot transfers with a settle and a deposit in every 20 transactions
)

// Workloads lists every workload, in the order --help shows them.
var Workloads = []string{Native, VM, Contract, Cold, Mixed}

// ErrBadConfig reports a Config that cannot be run.
var ErrBadConfig = errors.New("bench: bad configuration")

// Config is what one run offers the cluster.
type Config struct {
	Workload    string        // one of Workloads
	Duration    time.Duration // how long batches are submitted
	Accounts    int           // fresh senders funded from the faucet
	Concurrency int           // requests in flight at most (the worker pool)
	Batch       int           // transactions per request
	Rate        float64       // transactions/s offered (an open loop); 0 for a closed loop
	// StateAccounts grows the hot state to at least this many accounts
	// (by transfers to fresh addresses) before the clock starts: how cost
	// grows with the state's size.
	StateAccounts int
	// Presign is how many transactions are signed before the clock
	// starts; 0 sizes it for Duration at Rate, or at MaxRate for a closed
	// loop. A run that uses them all up ends early and says so.
	Presign int
}

// MaxRate is the rate a closed loop's transactions are presigned for: a
// cluster that commits faster runs out before Duration and the run says
// so (raise Config.Presign).
const MaxRate = 60_000

// DefaultConfig is a closed-loop native run of 10 seconds.
func DefaultConfig() Config {
	return Config{Workload: Native, Duration: 10 * time.Second, Accounts: 4096, Concurrency: 8, Batch: 1000}
}

// MaxPresign bounds Presign: a presigned transfer holds about 400 bytes.
const MaxPresign = 5_000_000

// Validate says what is wrong with c, wrapping ErrBadConfig.
func (c Config) Validate() error {
	switch {
	case !slices.Contains(Workloads, c.Workload):
		return fmt.Errorf("%w: workload %q: want one of %v", ErrBadConfig, c.Workload, Workloads)
	case c.Duration <= 0:
		return fmt.Errorf("%w: duration %s: want more than 0", ErrBadConfig, c.Duration)
	case c.Accounts < 1:
		return fmt.Errorf("%w: %d accounts: want at least 1", ErrBadConfig, c.Accounts)
	case c.Concurrency < 1:
		return fmt.Errorf("%w: concurrency %d: want at least 1", ErrBadConfig, c.Concurrency)
	case c.Batch < 1 || c.Batch > MaxBatch:
		return fmt.Errorf("%w: batch %d: want 1 to %d", ErrBadConfig, c.Batch, MaxBatch)
	case c.Rate < 0:
		return fmt.Errorf("%w: rate %g: want 0 (closed loop) or more", ErrBadConfig, c.Rate)
	case c.StateAccounts < 0:
		return fmt.Errorf("%w: %d state accounts: want 0 or more", ErrBadConfig, c.StateAccounts)
	case c.Presign < 0 || c.Presign > MaxPresign:
		return fmt.Errorf("%w: presign %d: want 0 (sized for the duration) to %d", ErrBadConfig, c.Presign, MaxPresign)
	case c.presign() > MaxPresign:
		return fmt.Errorf("%w: %s at %g tx/s needs %d presigned transactions, more than %d: shorten --duration",
			ErrBadConfig, c.Duration, c.rate(), c.presign(), MaxPresign)
	}
	return nil
}

// MaxBatch is the most transactions a request may carry: the node's own
// limit on a submitted batch.
const MaxBatch = 10_000

// rate is the rate presigning is sized for.
func (c Config) rate() float64 {
	if c.Rate > 0 {
		return c.Rate
	}
	return MaxRate
}

// presign is how many transactions to sign: Presign, or enough for
// Duration at rate, in whole batches.
func (c Config) presign() int {
	if c.Presign > 0 {
		return c.Presign
	}
	n := int(c.Duration.Seconds() * c.rate() * 1.05)
	return (n + c.Batch - 1) / c.Batch * c.Batch
}
