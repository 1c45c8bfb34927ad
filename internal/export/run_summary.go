package export

import (
	"slices"
	"time"

	"github.com/dualchain/dualchain/internal/progress"
)

// Summary is what a Run did. The counts and rates are this run's; Files
// describes every finished file of the export, earlier runs' included.
type Summary struct {
	Dir      string `json:"dir"`
	Node     string `json:"node"`
	ChainID  string `json:"chain_id"`
	Chain    string `json:"chain"`
	Format   string `json:"format"`
	Compress string `json:"compress"`
	From     uint64 `json:"from"`
	To       uint64 `json:"to"`
	// Start is the height this run began at: From, or where an earlier
	// run stopped. Next is where a run of the same command would go on;
	// To+1 once Complete.
	Start    uint64 `json:"start"`
	Next     uint64 `json:"next"`
	Complete bool   `json:"complete"`
	PerTx    bool   `json:"per_tx"`
	Workers  int    `json:"workers"`

	Blocks            int64   `json:"blocks"`
	Txs               int64   `json:"txs"`
	Frames            int64   `json:"frames"`
	Requests          int64   `json:"requests"`
	Retries           int64   `json:"retries"`
	Seconds           float64 `json:"seconds"`
	TxsPerSecond      float64 `json:"txs_per_second"`
	RequestsPerSecond float64 `json:"requests_per_second"`

	// Files adds up the export's finished files by kind; BytesPer1000Txs
	// is the parts' files together (not the dictionaries and codes.csv)
	// per 1,000 transactions of the export, as the manifest counts it.
	Files           []KindSummary `json:"files"`
	BytesPer1000Txs float64       `json:"bytes_per_1000_txs"`
}

// KindSummary adds up the export's finished files of one kind.
type KindSummary struct {
	Kind  string `json:"kind"`
	Files int    `json:"files"`
	Rows  int64  `json:"rows"`
	Bytes int64  `json:"bytes"`
	// BytesPer1000Txs is Bytes per 1,000 transactions of the export's
	// finished files: what the kind costs for its format and compression.
	BytesPer1000Txs float64 `json:"bytes_per_1000_txs"`
}

func (r *runner) summary(o Options, start, next uint64, files []FileInfo, elapsed time.Duration) Summary {
	s := Summary{
		Dir: o.Dir, Node: o.Node, ChainID: o.ChainID, Chain: o.Chain, Format: o.Format, Compress: o.Compress,
		From: o.From, To: o.To, Start: start, Next: next, PerTx: r.cfg.PerTx, Workers: r.cfg.Workers,
		Blocks: r.st.blocks.Load(), Txs: r.st.txs.Load(), Frames: r.st.frames.Load(),
		Requests: r.st.requests.Load(), Retries: r.st.retries.Load(), Seconds: elapsed.Seconds(),
	}
	s.Complete = s.Next > s.To
	if elapsed > 0 {
		s.TxsPerSecond = float64(s.Txs) / elapsed.Seconds()
		s.RequestsPerSecond = float64(s.Requests) / elapsed.Seconds()
	}
	s.Files, s.BytesPer1000Txs = kinds(files, s.Txs)
	return s
}

// kinds adds up files by kind, in order of first appearance, and the
// parts' bytes per 1,000 transactions. The transactions are the rows of
// the txs files, or, if there are none yet, txs.
func kinds(files []FileInfo, txs int64) ([]KindSummary, float64) {
	var out []KindSummary
	var exported, parts int64
	for _, f := range files {
		i := slices.IndexFunc(out, func(k KindSummary) bool { return k.Kind == f.Kind })
		if i < 0 {
			out, i = append(out, KindSummary{Kind: f.Kind}), len(out)
		}
		out[i].Files++
		out[i].Rows += f.Rows
		out[i].Bytes += f.Bytes
		if f.Kind == KindTxs {
			exported += f.Rows
		}
		if f.Kind != KindDictionary && f.Kind != KindCodes {
			parts += f.Bytes
		}
	}
	if exported == 0 {
		exported = txs
	}
	if exported == 0 {
		return out, 0
	}
	for i := range out {
		out[i].BytesPer1000Txs = per1000(out[i].Bytes, exported)
	}
	return out, per1000(parts, exported)
}

func per1000(bytes, txs int64) float64 { return float64(bytes) * 1000 / float64(txs) }

// count writes n with thousands separators.
func count(n uint64) string { return progress.Count(int64(n)) }
