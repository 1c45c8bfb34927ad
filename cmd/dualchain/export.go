package main

import (
	"context"
	"errors"
	"fmt"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/internal/export"
	"github.com/dualchain/dualchain/internal/progress"
	"github.com/spf13/cobra"
)

const exportLong = `Export a chain's history from the node into files in --out: blocks, transactions with their
receipts, events and the VM's per-call memory trace frames (nodes run with --vm-trace), and for the
cold chain the bridge transfers. One file of each kind per part, CSV (compressed with zstd or gzip,
or not) or Parquet, with a manifest.json; docs/export.md describes the files.

Fetching: the heights are cut into chunks of --chunk-blocks, fetched several at once by a pool of
--workers that makes every request over keep-alive connections (never more connections or requests
in flight than workers), and written strictly in height order. By default a chunk is one range
request, GET /v1/blocks?from=&to=&traces=true (GET /v1/cold/blocks for the cold chain), following
the node's next page when it cuts one short; with --per-tx the ranges only list the transactions,
and each is fetched with its own GET /v1/transactions/{id}?trace=true. A failed request (a network
error, a 5xx, a 429, a body cut short) is tried again up to --retries times, after a backoff with
jitter from 100 ms up to 10 s or the node's Retry-After; --request-timeout bounds each attempt. A
4xx the node will answer again (404 not_found, 400) fails the export at once, naming the request.

Resuming: the export is written in parts of about --part-txs transactions; manifest.json lists the
finished ones. If the export stops (Ctrl-C, a crash, a node that stays down), run the same command
again: it continues after the last finished part, and the files are byte for byte those of an
export that never stopped. Options left out are taken from the export in --out (--to included, so
a re-run does not chase the head); options given must be the same. A run on a finished export
does nothing.

Progress, every second on stderr (--quiet for none): transactions written out of the estimated
total, txs/s, requests/s, blocks done, ETA and retries. At the end, a summary: blocks, txs, frames,
requests, retries, elapsed, rates, and per kind of file the files, rows, bytes and bytes per 1,000
transactions; with --json the summary is one JSON object on stdout.

Exit status: 0 when the export is complete, 1 when it failed or was interrupted (the finished parts
stay; the error says where a re-run continues), 2 for a mistake in the command line.

Workers: range requests carry up to 100 blocks each, so a few workers (the default 16) keep a node
busy; --per-tx makes one request per transaction and needs many more in flight to hide the latency:
throughput is about workers / latency (1,000 workers at 200 ms: about 5,000 txs/s). The global
--timeout does not apply: each request has --request-timeout instead.`

const exportExample = `  dualchain export --out ./export
  dualchain export --node http://127.0.0.1:8545 --from 1 --to 50000 --out ./export --format parquet
  dualchain export --chain cold --compress gzip --out ./cold
  dualchain export --out ./export      # again after Ctrl-C or a crash: continues where it stopped
  dualchain export --out ./export --json --quiet | jq .bytes_per_1000_txs
  # one request per transaction, against a node started with --debug-api-delay 200ms:
  dualchain export --per-tx --workers 1000 --out ./per-tx`

// exportFlags are export's flags beside export.Config.
type exportFlags struct {
	quiet bool
}

func (a *app) exportCmd() *cobra.Command {
	cfg := export.DefaultConfig("", "")
	var o exportFlags
	cmd := &cobra.Command{
		Use:     "export --out DIR [--from H] [--to H] [--chain hot|cold] [--format csv|parquet] [--per-tx]",
		Short:   "Export a chain's blocks, transactions and VM traces to CSV or Parquet files, resumably",
		Long:    exportLong,
		Example: exportExample,
		Args:    noArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return a.export(cmd, cfg, o) },
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Dir, "out", "", "directory of the export, created if need be; a re-run continues the export it holds (required)")
	f.Uint64Var(&cfg.From, "from", 0, "first height (default 1, or the export's in --out)")
	f.Uint64Var(&cfg.To, "to", 0, "last height (default: the chain's head when the export starts, or the export's in --out)")
	f.StringVar(&cfg.Chain, "chain", "", "hot or cold (default hot)")
	f.StringVar(&cfg.Format, "format", "", "csv or parquet (default csv)")
	f.StringVar(&cfg.Compress, "compress", "", "zstd, gzip or none (default zstd); Parquet compresses inside the file")
	f.BoolVar(&cfg.PerTx, "per-tx", false, "fetch each transaction with its own GET /v1/transactions/{id}?trace=true")
	f.IntVar(&cfg.Workers, "workers", cfg.Workers, fmt.Sprintf("requests in flight and connections at most: the worker pool's size, 1 to %s", progress.Count(export.MaxWorkers)))
	f.Uint64Var(&cfg.ChunkBlocks, "chunk-blocks", 0, fmt.Sprintf("heights fetched and written as one (default %d, the node's most blocks per range request)", export.DefaultChunkBlocks))
	f.IntVar(&cfg.PartTxs, "part-txs", 0, fmt.Sprintf("finish a part at the first chunk end past this many transactions (default %s)", progress.Count(export.DefaultPartTxs)))
	f.IntVar(&cfg.Retries, "retries", cfg.Retries, "times a failed request is tried again")
	f.DurationVar(&cfg.RequestTimeout, "request-timeout", cfg.RequestTimeout, "give up on one attempt of a request after this long, its body included")
	f.BoolVar(&o.quiet, "quiet", false, "no progress line")
	return cmd
}

func (a *app) export(cmd *cobra.Command, cfg export.Config, o exportFlags) error {
	if err := checkExportFlags(cmd, cfg); err != nil {
		return err
	}
	cfg.Node = a.nodeURL
	if err := cfg.Validate(); err != nil {
		return usageErrorf("%v", err)
	}
	if !o.quiet {
		cfg.Progress = a.stderr
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	s, err := export.Run(ctx, cfg)
	if err != nil {
		return exportError(ctx, s, err)
	}
	return a.printExport(s)
}

// checkExportFlags refuses what the flags' types let through: no --out,
// and a 0 given for a height or a size (0 means "unset" to the Config).
func checkExportFlags(cmd *cobra.Command, cfg export.Config) error {
	if cfg.Dir == "" {
		return usageErrorf("export needs --out DIR (see 'dualchain export --help')")
	}
	for _, name := range []string{"from", "to", "chunk-blocks", "part-txs"} {
		if fl := cmd.Flags().Lookup(name); fl.Changed && fl.Value.String() == "0" {
			return usageErrorf("--%s 0: want 1 or more", name)
		}
	}
	return nil
}

// exportError is the error line for a failed export, with where a re-run
// continues once it had started writing.
func exportError(ctx context.Context, s export.Summary, err error) error {
	again := ""
	if s.Dir != "" {
		again = fmt.Sprintf("; the finished parts stay in %s: run the same command again to continue from height %s",
			s.Dir, progress.Count(int64(s.Next)))
	}
	var ce *client.Error
	switch {
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return failf("interrupted", "export interrupted%s", again)
	case errors.Is(err, export.ErrBadConfig):
		return usageErrorf("%v", err)
	case errors.Is(err, export.ErrOptionsDiffer):
		return failf("options_differ", "%v (leave the options out to take the export's own, or choose another --out)", err)
	case errors.Is(err, export.ErrPastHead):
		return failf("past_head", "%v", err)
	case errors.Is(err, export.ErrCorrupt), errors.Is(err, export.ErrVersion):
		return failf("bad_export", "%v", err)
	case errors.Is(err, export.ErrRefused) && errors.As(err, &ce):
		return failf(ce.Code, "%v%s", err, again)
	case errors.Is(err, export.ErrGaveUp):
		return failf("gave_up", "%v%s", err, again)
	case errors.Is(err, export.ErrBadAnswer):
		return failf("bad_answer", "%v%s", err, again)
	}
	return failf("export_failed", "%v%s", err, again)
}

// printExport writes the summary: JSON with --json, else fields and a
// table of the files by kind.
func (a *app) printExport(s export.Summary) error {
	if a.json {
		return a.print(s)
	}
	what := fmt.Sprintf("%s chain %s, heights %s to %s, into %s (%s)", s.Chain, s.ChainID,
		progress.Count(int64(s.From)), progress.Count(int64(s.To)), s.Dir, formatName(s))
	fields := []field{{"exported", what}}
	if s.Start > s.From {
		fields = append(fields, field{"continued", "from height " + progress.Count(int64(s.Start))})
	}
	elapsed := time.Duration(s.Seconds * float64(time.Second))
	fields = append(fields,
		field{"blocks", progress.Count(s.Blocks)}, field{"txs", progress.Count(s.Txs)},
		field{"frames", progress.Count(s.Frames)},
		field{"requests", fmt.Sprintf("%s (%s retried)", progress.Count(s.Requests), progress.Count(s.Retries))},
		field{"elapsed", progress.Seconds(elapsed)},
		field{"txs/s", progress.Count(int64(s.TxsPerSecond + 0.5))},
		field{"requests/s", progress.Count(int64(s.RequestsPerSecond + 0.5))},
		field{"bytes/1,000 txs", progress.Count(int64(s.BytesPer1000Txs + 0.5))})
	if err := a.print(s, fields...); err != nil {
		return err
	}
	return a.printFiles(s.Files)
}

func formatName(s export.Summary) string {
	if s.Format == export.FormatParquet {
		return "parquet, " + s.Compress + " inside"
	}
	return strings.TrimSuffix("csv, "+s.Compress, ", none")
}

// printFiles writes the files by kind, with their size per 1,000 txs.
func (a *app) printFiles(kinds []export.KindSummary) error {
	fmt.Fprintln(a.stdout)
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "kind\tfiles\trows\tbytes\tbytes/1,000 txs")
	for _, k := range kinds {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", k.Kind, k.Files, progress.Count(k.Rows),
			progress.Count(k.Bytes), progress.Count(int64(k.BytesPer1000Txs+0.5)))
	}
	return tw.Flush()
}
