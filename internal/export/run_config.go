package export

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/jonboulle/clockwork"
)

// ErrBadConfig is a Config that cannot work; Validate wraps it.
var ErrBadConfig = errors.New("export: bad config")

// Defaults and limits of a Config.
const (
	DefaultWorkers        = 16
	MaxWorkers            = 10_000
	DefaultRetries        = 10
	MaxRetries            = 1_000
	DefaultRequestTimeout = 30 * time.Second
	// DefaultChunkBlocks is the node's most blocks in one range request:
	// a chunk is one request unless its blocks are full.
	DefaultChunkBlocks = api.MaxRangeBlocks
	// MaxChunkBlocks bounds a chunk, which is held in memory whole.
	MaxChunkBlocks = 100_000
	// DefaultProgressEvery is how often the progress line is drawn.
	DefaultProgressEvery = time.Second
)

// Values of Config.Chain, Format and Compress; the first of each is the
// default.
var (
	Chains       = []string{ChainHot, ChainCold}
	Formats      = []string{FormatCSV, FormatParquet}
	Compressions = []string{CompressZstd, CompressGzip, CompressNone}
)

// Config configures Run.
//
// The export's options (Chain, Format, Compress, From, To, ChunkBlocks,
// PartTxs) left zero are those of the export Dir already holds, which Run
// then continues, or else the defaults: the hot chain, csv, zstd, from
// height 1 to the node's head when Run starts, DefaultChunkBlocks and
// DefaultPartTxs. Given ones must equal the held export's.
type Config struct {
	Node string // the node's API, e.g. http://127.0.0.1:8545
	Dir  string // where the files go

	Chain, Format, Compress string
	From, To                uint64 // inclusive
	ChunkBlocks             uint64 // heights fetched and written as one
	PartTxs                 int    // a part file is finished past this many txs

	// PerTx fetches every transaction with its own GET
	// /v1/transactions/{id}?trace=true, the range endpoints only listing
	// them.
	PerTx bool
	// Workers is the size of the worker pool that makes every request:
	// the most requests in flight and connections open.
	Workers int
	// Retries is how many times a failed request is tried again (backoff
	// with jitter from RetryWait up to MaxRetryWait, or the node's
	// Retry-After up to MaxRetryAfter), RequestTimeout the longest one
	// attempt may take, body included.
	Retries                 int
	RequestTimeout          time.Duration
	RetryWait, MaxRetryWait time.Duration
	MaxRetryAfter           time.Duration

	// Progress receives the progress line every ProgressEvery; nil shows
	// none.
	Progress      io.Writer
	ProgressEvery time.Duration
	Clock         clockwork.Clock // nil: the real clock

	// Tests only: the sink (nil: OpenSink), and a call after each chunk
	// is written with the sink's Next.
	open       func(Options) (chunkSink, error)
	afterWrite func(next uint64)
}

// DefaultConfig returns the defaults for an export of node into dir.
func DefaultConfig(node, dir string) Config {
	return Config{
		Node: node, Dir: dir,
		Workers: DefaultWorkers, Retries: DefaultRetries, RequestTimeout: DefaultRequestTimeout,
		RetryWait: 100 * time.Millisecond, MaxRetryWait: 10 * time.Second, MaxRetryAfter: time.Minute,
		ProgressEvery: DefaultProgressEvery,
	}
}

// TestConfig is DefaultConfig with short waits: retries after a
// millisecond or two, a Retry-After of at most a second, a 2 s request
// timeout.
func TestConfig(node, dir string) Config {
	c := DefaultConfig(node, dir)
	c.Workers, c.Retries = 4, 5
	c.RequestTimeout = 2 * time.Second
	c.RetryWait, c.MaxRetryWait, c.MaxRetryAfter = time.Millisecond, 10*time.Millisecond, time.Second
	return c
}

// Validate says what is wrong with c, wrapping ErrBadConfig.
func (c Config) Validate() error {
	if err := c.validateOptions(); err != nil {
		return err
	}
	switch {
	case c.Workers < 1 || c.Workers > MaxWorkers:
		return fmt.Errorf("%w: %d workers: want 1 to %d", ErrBadConfig, c.Workers, MaxWorkers)
	case c.Retries < 0 || c.Retries > MaxRetries:
		return fmt.Errorf("%w: %d retries: want 0 to %d", ErrBadConfig, c.Retries, MaxRetries)
	case c.RequestTimeout <= 0:
		return fmt.Errorf("%w: request timeout %v: want more than 0", ErrBadConfig, c.RequestTimeout)
	case c.RetryWait <= 0 || c.MaxRetryWait < c.RetryWait || c.MaxRetryAfter < 0:
		return fmt.Errorf("%w: retry waits %v to %v, Retry-After up to %v: want 0 < first <= longest",
			ErrBadConfig, c.RetryWait, c.MaxRetryWait, c.MaxRetryAfter)
	case c.Progress != nil && c.ProgressEvery <= 0:
		return fmt.Errorf("%w: progress every %v: want more than 0", ErrBadConfig, c.ProgressEvery)
	}
	return nil
}

// validateOptions checks the export's own options; zero is unset.
func (c Config) validateOptions() error {
	switch {
	case c.Node == "":
		return fmt.Errorf("%w: no node URL", ErrBadConfig)
	case c.Dir == "":
		return fmt.Errorf("%w: no output directory", ErrBadConfig)
	case c.Chain != "" && !slices.Contains(Chains, c.Chain):
		return fmt.Errorf("%w: chain %q: want one of %v", ErrBadConfig, c.Chain, Chains)
	case c.Format != "" && !slices.Contains(Formats, c.Format):
		return fmt.Errorf("%w: format %q: want one of %v", ErrBadConfig, c.Format, Formats)
	case c.Compress != "" && !slices.Contains(Compressions, c.Compress):
		return fmt.Errorf("%w: compression %q: want one of %v", ErrBadConfig, c.Compress, Compressions)
	case c.To != 0 && c.From > c.To:
		return fmt.Errorf("%w: from %d is past to %d", ErrBadConfig, c.From, c.To)
	case c.ChunkBlocks > MaxChunkBlocks:
		return fmt.Errorf("%w: %d blocks per chunk: want 1 to %d", ErrBadConfig, c.ChunkBlocks, MaxChunkBlocks)
	case c.PartTxs < 0:
		return fmt.Errorf("%w: %d transactions per part: want 1 or more", ErrBadConfig, c.PartTxs)
	}
	return nil
}

// options are c's export options, zero where c leaves them unset.
func (c Config) options() Options {
	return Options{Dir: c.Dir, Chain: c.Chain, Format: c.Format, Compress: c.Compress,
		From: c.From, To: c.To, ChunkBlocks: c.ChunkBlocks, PartTxs: c.PartTxs, Node: c.Node}
}

// inherit sets o's unset options to held's, those of the export being
// continued.
func inherit(o *Options, held Options) {
	setString(&o.Chain, held.Chain)
	setString(&o.Format, held.Format)
	setString(&o.Compress, held.Compress)
	setZero(&o.From, held.From)
	setZero(&o.To, held.To)
	setZero(&o.ChunkBlocks, held.ChunkBlocks)
	setZero(&o.PartTxs, held.PartTxs)
}

// defaults sets o's options still unset but To (the head) to the defaults.
func defaults(o *Options) {
	setString(&o.Chain, Chains[0])
	setString(&o.Format, Formats[0])
	setString(&o.Compress, Compressions[0])
	setZero(&o.From, 1)
	setZero(&o.ChunkBlocks, DefaultChunkBlocks)
	setZero(&o.PartTxs, DefaultPartTxs)
}

func setString(p *string, v string) {
	if *p == "" {
		*p = v
	}
}

func setZero[T uint64 | int](p *T, v T) {
	if *p == 0 {
		*p = v
	}
}
