package export

import (
	"fmt"
	"path/filepath"
)

// Chains.
const (
	ChainHot  = "hot"
	ChainCold = "cold"
)

// DefaultPartTxs is the transactions after which a part is finished,
// unless Options say otherwise.
const DefaultPartTxs = 100_000

// Options say what an export writes. A resumed export must give the same:
// every field but Dir and Node is recorded in the manifest and checked.
type Options struct {
	Dir      string `json:"-"`
	Chain    string `json:"chain"`    // "hot" (default) or "cold"
	Format   string `json:"format"`   // "csv" (default) or "parquet"
	Compress string `json:"compress"` // "none", "gzip" or "zstd" (default)
	From     uint64 `json:"from"`     // first height, inclusive
	To       uint64 `json:"to"`       // last height, inclusive; resolved by the caller (never 0)
	// ChunkBlocks is the blocks of a Chunk, the fetcher's unit: a part
	// ends only after a height From + k×ChunkBlocks − 1 (or at To), so
	// the parts do not depend on how a run was interrupted.
	ChunkBlocks uint64 `json:"chunk_blocks"`
	// PartTxs finishes a part at the first chunk end where it has at
	// least this many transactions (default DefaultPartTxs).
	PartTxs int    `json:"part_txs"`
	ChainID string `json:"chain_id"` // every block and transaction must have it
	Node    string `json:"node"`     // informational: the node of the latest run
}

// withDefaults fills in the defaults of the fields left zero.
func (o Options) withDefaults() Options {
	if o.Chain == "" {
		o.Chain = ChainHot
	}
	if o.Format == "" {
		o.Format = FormatCSV
	}
	if o.Compress == "" {
		o.Compress = CompressZstd
	}
	if o.PartTxs == 0 {
		o.PartTxs = DefaultPartTxs
	}
	return o
}

// Validate reports options an export cannot be written with; fields left
// zero that have a default are taken to have it.
func (o Options) Validate() error {
	o = o.withDefaults()
	switch {
	case o.Dir == "":
		return fmt.Errorf("%w: no directory", ErrOptions)
	case o.Chain != ChainHot && o.Chain != ChainCold:
		return fmt.Errorf("%w: chain %q: want hot or cold", ErrOptions, o.Chain)
	case o.Format != FormatCSV && o.Format != FormatParquet:
		return fmt.Errorf("%w: format %q: want csv or parquet", ErrOptions, o.Format)
	case o.Compress != CompressNone && o.Compress != CompressGzip && o.Compress != CompressZstd:
		return fmt.Errorf("%w: compression %q: want none, gzip or zstd", ErrOptions, o.Compress)
	case o.To == 0 || o.From > o.To:
		return fmt.Errorf("%w: heights %d to %d", ErrOptions, o.From, o.To)
	case o.ChunkBlocks == 0:
		return fmt.Errorf("%w: chunk blocks must be positive", ErrOptions)
	case o.PartTxs < 0:
		return fmt.Errorf("%w: part txs %d", ErrOptions, o.PartTxs)
	}
	return nil
}

// differs names the first option, other than Dir and Node, in which o and
// p differ, with both values; "" when they agree.
func (o Options) differs(p Options) string {
	type field struct {
		name string
		a, b any
	}
	for _, f := range []field{
		{"--chain", o.Chain, p.Chain},
		{"--format", o.Format, p.Format},
		{"--compress", o.Compress, p.Compress},
		{"--from", o.From, p.From},
		{"--to", o.To, p.To},
		{"chunk blocks", o.ChunkBlocks, p.ChunkBlocks},
		{"part txs", o.PartTxs, p.PartTxs},
		{"chain id", o.ChainID, p.ChainID},
	} {
		if f.a != f.b {
			return fmt.Sprintf("%s: the export in the directory has %v, this run asks for %v", f.name, f.a, f.b)
		}
	}
	return ""
}

// partName is the file name of kind's file of part n.
func (o *Options) partName(kind string, n int) string {
	return fmt.Sprintf("%s-%06d.%s", kind, n, Ext(o.Format, o.Compress))
}

// path is name's path in the export's directory.
func (o *Options) path(name string) string { return filepath.Join(o.Dir, name) }
