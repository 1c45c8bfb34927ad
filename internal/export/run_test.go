package export

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dualchain/dualchain/internal/export/exporttest"
)

// TestResume interrupts exports after a few chunks (the context ends, as
// on Ctrl-C), runs them again, and checks that the files are byte for
// byte those of an export that was never interrupted.
func TestResume(t *testing.T) {
	n := newFakeNode(t, 90, 60, 40)
	tests := []struct {
		chain, format, compress string
		perTx                   bool
	}{
		{ChainHot, FormatCSV, CompressZstd, false},
		{ChainHot, FormatParquet, CompressGzip, true},
		{ChainCold, FormatCSV, CompressGzip, false},
		{ChainCold, FormatParquet, CompressZstd, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %s %s per-tx=%v", tt.chain, tt.format, tt.compress, tt.perTx), func(t *testing.T) {
			root := t.TempDir()
			cfg := TestConfig(n.url(), filepath.Join(root, "one"))
			cfg.Chain, cfg.Format, cfg.Compress, cfg.PerTx = tt.chain, tt.format, tt.compress, tt.perTx
			cfg.ChunkBlocks, cfg.PartTxs = 5, 30
			one, err := Run(t.Context(), cfg)
			if err != nil || !one.Complete {
				t.Fatalf("Run() = %+v, %v; want it complete", one, err)
			}
			cfg.Dir = filepath.Join(root, "resumed")
			next := cfg.From
			for _, stop := range []int{3, 1, 4} {
				s := interrupted(t, cfg, stop)
				if s.Start < next || s.Next < s.Start || s.Complete {
					t.Fatalf("interrupted run: start %d, next %d, complete %v; want from %d on, incomplete", s.Start, s.Next, s.Complete, next)
				}
				next = s.Next
			}
			if next <= 1 {
				t.Fatalf("after three interrupted runs the export resumes at %d: no part was finished", next)
			}
			s, err := Run(t.Context(), cfg)
			if err != nil || !s.Complete || s.Start != next || s.Blocks != int64(s.To-next+1) {
				t.Fatalf("Run() = %+v, %v; want it complete, from %d", s, err, next)
			}
			exporttest.SameFiles(t, one.Dir, s.Dir)
		})
	}
}

// interrupted runs cfg and ends its context once stop chunks are written.
func interrupted(t *testing.T, cfg Config, stop int) Summary {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	written := 0
	cfg.afterWrite = func(uint64) {
		if written++; written == stop {
			cancel()
		}
	}
	s, err := Run(ctx, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run() interrupted after %d chunks = %v, want context.Canceled", stop, err)
	}
	return s
}

// TestRunAgain: a run in a directory that holds an export takes its
// options where none are given, refuses other ones, and does nothing
// once the export is complete.
func TestRunAgain(t *testing.T) {
	n := newFakeNode(t, 60, 1, 100)
	cfg := TestConfig(n.url(), t.TempDir())
	cfg.Format, cfg.Compress, cfg.From, cfg.To, cfg.ChunkBlocks, cfg.PartTxs = FormatParquet, CompressGzip, 3, 50, 7, 10
	interrupted(t, cfg, 2)

	again := TestConfig(n.url(), cfg.Dir) // no options: the held export's
	again.PerTx = true                    // how it is fetched may change
	s, err := Run(t.Context(), again)
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	if !s.Complete || s.Format != FormatParquet || s.Compress != CompressGzip || s.From != 3 || s.To != 50 || s.Start <= 3 {
		t.Errorf("Run() = %+v, want the first run's options, complete, continued", s)
	}

	other := again
	other.Format = FormatCSV
	if _, err := Run(t.Context(), other); !errors.Is(err, ErrOptionsDiffer) || !strings.Contains(err.Error(), "--format") {
		t.Errorf("Run(--format csv) on a parquet export = %v, want %v naming --format", err, ErrOptionsDiffer)
	}

	before := n.requests.Load()
	s, err = Run(t.Context(), again)
	if err != nil || !s.Complete || s.Blocks != 0 || s.Start != 51 {
		t.Errorf("Run() on a complete export = %+v, %v; want nothing done", s, err)
	}
	if got := n.requests.Load() - before; got != 1 {
		t.Errorf("Run() on a complete export made %d requests, want 1 (the status)", got)
	}
}

// TestRunPastHead: a range past the head is refused before anything is
// written.
func TestRunPastHead(t *testing.T) {
	n := newFakeNode(t, 20, 10, 100)
	tests := []struct {
		chain    string
		from, to uint64
	}{{ChainHot, 1, 21}, {ChainHot, 21, 0}, {ChainCold, 5, 11}}
	for _, tt := range tests {
		cfg := testConfig(t, n)
		cfg.Chain, cfg.From, cfg.To = tt.chain, tt.from, tt.to
		if _, err := Run(t.Context(), cfg); !errors.Is(err, ErrPastHead) {
			t.Errorf("Run(%s %d..%d) = %v, want %v", tt.chain, tt.from, tt.to, err, ErrPastHead)
		}
		if m, err := ReadManifest(cfg.Dir); m != nil || err != nil {
			t.Errorf("after a refused run ReadManifest = %v, %v; want no export", m, err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	ok := TestConfig("http://127.0.0.1:1", "out")
	tests := []struct {
		name string
		edit func(*Config)
		want string // in the error; "" for none
	}{
		{"test config", func(*Config) {}, ""},
		{"default config", func(c *Config) { *c = DefaultConfig(c.Node, c.Dir) }, ""},
		{"10,000 workers", func(c *Config) { c.Workers = MaxWorkers }, ""},
		{"no node", func(c *Config) { c.Node = "" }, "no node"},
		{"no dir", func(c *Config) { c.Dir = "" }, "no output directory"},
		{"0 workers", func(c *Config) { c.Workers = 0 }, "0 workers"},
		{"10,001 workers", func(c *Config) { c.Workers = MaxWorkers + 1 }, "10001 workers"},
		{"chain", func(c *Config) { c.Chain = "warm" }, `chain "warm"`},
		{"format", func(c *Config) { c.Format = "json" }, `format "json"`},
		{"compress", func(c *Config) { c.Compress = "lz4" }, `compression "lz4"`},
		{"from past to", func(c *Config) { c.From, c.To = 10, 5 }, "from 10 is past to 5"},
		{"chunk blocks", func(c *Config) { c.ChunkBlocks = MaxChunkBlocks + 1 }, "blocks per chunk"},
		{"part txs", func(c *Config) { c.PartTxs = -1 }, "-1 transactions per part"},
		{"retries", func(c *Config) { c.Retries = -1 }, "-1 retries"},
		{"request timeout", func(c *Config) { c.RequestTimeout = 0 }, "request timeout 0s"},
		{"retry waits", func(c *Config) { c.MaxRetryWait = 0 }, "retry waits"},
	}
	for _, tt := range tests {
		c := ok
		tt.edit(&c)
		err := c.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: Validate() = %v, want nil", tt.name, err)
		case tt.want != "" && (!errors.Is(err, ErrBadConfig) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: Validate() = %v, want %v saying %q", tt.name, err, ErrBadConfig, tt.want)
		}
	}
}

func TestChunkEnd(t *testing.T) {
	tests := []struct {
		from, to, size, at, want uint64
	}{
		{1, 100, 10, 1, 10},
		{1, 100, 10, 11, 20},
		{1, 95, 10, 91, 95},
		{5, 100, 10, 15, 24}, // aligned on From
		{5, 100, 10, 17, 24}, // from the middle of a chunk
		{1, 1 << 63, 1 << 62, 1<<62 + 1, 1 << 63},
		{2, ^uint64(0), ^uint64(0) - 1, ^uint64(0), ^uint64(0)}, // past 2^64
	}
	for _, tt := range tests {
		o := Options{From: tt.from, To: tt.to, ChunkBlocks: tt.size}
		if got := chunkEnd(o, tt.at); got != tt.want {
			t.Errorf("chunkEnd(%d..%d by %d, %d) = %d, want %d", tt.from, tt.to, tt.size, tt.at, got, tt.want)
		}
	}
}

// TestSummaryFiles adds up a real export's files by kind.
func TestSummaryFiles(t *testing.T) {
	n := newFakeNode(t, 40, 1, 100)
	cfg := testConfig(t, n)
	cfg.ChunkBlocks, cfg.PartTxs = 10, 50
	s, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	m, err := ReadManifest(cfg.Dir)
	if err != nil || m == nil {
		t.Fatalf("ReadManifest = %v, %v", m, err)
	}
	var txs *KindSummary
	for i := range s.Files {
		if s.Files[i].Kind == KindTxs {
			txs = &s.Files[i]
		}
	}
	if txs == nil || txs.Rows != s.Txs || txs.Files != len(m.Parts) || uint64(s.Txs) != m.Txs {
		t.Fatalf("Summary.Files = %+v, want a txs kind of %d rows in %d files", s.Files, s.Txs, len(m.Parts))
	}
	if got, want := s.BytesPer1000Txs, m.BytesPer1000Txs(); got != want {
		t.Errorf("Summary.BytesPer1000Txs = %v, the manifest's = %v", got, want)
	}
	if got, want := txs.BytesPer1000Txs, float64(txs.Bytes)*1000/float64(s.Txs); got != want {
		t.Errorf("txs bytes per 1,000 txs = %v, want %v", got, want)
	}
	if s.Seconds <= 0 || s.TxsPerSecond <= 0 || s.RequestsPerSecond <= 0 || s.Requests < 5 {
		t.Errorf("Summary = %+v, want rates and at least 5 requests", s)
	}
}
