package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/internal/export"
)

func TestExportHelp(t *testing.T) {
	n := &testNode{env: map[string]string{}}
	r := n.run(t, "export", "--help").ok(t)
	for _, want := range []string{"dualchain export --out", "--from", "--to", "--chain", "--per-tx", "--workers",
		"--compress", "--format", "--chunk-blocks", "--part-txs", "--retries", "--request-timeout", "--quiet",
		"Examples:", "continues where it stopped", "--debug-api-delay 200ms", "--workers 1000", "Exit status"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("export --help lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestExportUsageErrors(t *testing.T) {
	n := &testNode{env: map[string]string{}}
	out := t.TempDir()
	n.refusesUsage(t, []usageCase{
		{[]string{"export"}, "needs --out"},
		{[]string{"export", "--out", out, "--workers", "0"}, "0 workers: want 1 to 10000"},
		{[]string{"export", "--out", out, "--workers", "10001"}, "10001 workers"},
		{[]string{"export", "--out", out, "--chain", "warm"}, `chain "warm"`},
		{[]string{"export", "--out", out, "--format", "json"}, `format "json"`},
		{[]string{"export", "--out", out, "--compress", "lz4"}, `compression "lz4"`},
		{[]string{"export", "--out", out, "--from", "10", "--to", "5"}, "from 10 is past to 5"},
		{[]string{"export", "--out", out, "--from", "0"}, "--from 0"},
		{[]string{"export", "--out", out, "--chunk-blocks", "0"}, "--chunk-blocks 0"},
		{[]string{"export", "--out", out, "--part-txs", "0"}, "--part-txs 0"},
		{[]string{"export", "--out", out, "--part-txs", "-3"}, "-3 transactions per part"},
		{[]string{"export", "--out", out, "--retries", "-1"}, "-1 retries"},
		{[]string{"export", "--out", out, "--request-timeout", "0s"}, "request timeout 0s"},
		{[]string{"export", "--out", out, "--to", "-1"}, "invalid argument"},
		{[]string{"export", "--out", out, "extra"}, "takes no arguments"},
	})
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("refused exports left %d entries in --out, want none", len(entries))
	}
}

// TestExport exports both chains of an in-process node, in JSON and in
// words, runs an export again once it is complete, and refuses a re-run
// with other options and a range past the head.
func TestExport(t *testing.T) {
	n, b := newColdNode(t, true)
	for range 3 {
		n.run(t, "transfer", "--key", n.faucetKey, "--to", carol.Address.String(), "--amount", "7", "--wait").ok(t)
	}
	n.run(t, "settle", "--key", n.faucetKey, "--amount", "100", "--wait").ok(t)
	b.Checkpoint()
	n.run(t, "transfer", "--key", n.faucetKey, "--to", carol.Address.String(), "--amount", "30", "--chain", "cold", "--wait").ok(t)

	hot := filepath.Join(t.TempDir(), "hot")
	s := parseJSON[export.Summary](t, n.run(t, "export", "--out", hot, "--json", "--quiet").ok(t))
	if !s.Complete || s.Chain != export.ChainHot || s.From != 1 || s.To < 4 || s.Txs < 4 || s.Requests < 2 || len(s.Files) == 0 {
		t.Errorf("export --json = %+v, want the hot chain's %d+ blocks and 4+ txs", s, 4)
	}
	again := parseJSON[export.Summary](t, n.run(t, "export", "--out", hot, "--json", "--quiet").ok(t))
	if !again.Complete || again.Blocks != 0 || again.Start != s.To+1 || again.To != s.To {
		t.Errorf("export again = %+v, want nothing done", again)
	}

	cold := filepath.Join(t.TempDir(), "cold")
	r := n.run(t, "export", "--out", cold, "--chain", "cold", "--format", "parquet", "--per-tx", "--workers", "2", "--quiet").ok(t)
	for _, want := range []string{"cold chain apitest, heights 1 to ", "(parquet, zstd inside)", "\nkind ", "\ntxs ", "\ntransfers "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("export in words:\n%s\nwant it to say %q", r.stdout, want)
		}
	}

	n.run(t, "export", "--out", hot, "--format", "parquet").fails(t, exitFailure, "options_differ")
	n.run(t, "export", "--out", filepath.Join(t.TempDir(), "far"), "--to", "1000000").fails(t, exitFailure, "past_head")
}

// TestExportUnreachable: a node that does not answer fails the export
// after its retries, and nothing is written.
func TestExportUnreachable(t *testing.T) {
	n := &testNode{url: "http://127.0.0.1:1", env: map[string]string{}}
	out := filepath.Join(t.TempDir(), "x")
	r := n.run(t, "export", "--out", out, "--retries", "1", "--quiet")
	r.fails(t, exitFailure, "gave_up")
	if !strings.Contains(r.stderr, "GET /v1/status") {
		t.Errorf("stderr %q, want it to name the request", r.stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("--out after a failed start: %v, want it not created", err)
	}
}

// TestExportErrors: each way an export fails gets its code, and once the
// export had started, where the same command continues.
func TestExportErrors(t *testing.T) {
	started := export.Summary{Dir: "/data/x", Next: 1201}
	refused := fmt.Errorf("GET /v1/transactions/ab: %w: HTTP 404: %w", export.ErrRefused,
		&client.Error{Code: "not_found", Message: "transaction ab", HTTPStatus: 404})
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		ctx  context.Context
		s    export.Summary
		err  error
		code string
		says string
	}{
		{canceled, started, fmt.Errorf("blocks 1 to 2: %w", context.Canceled), "interrupted", "run the same command again to continue from height 1,201"},
		{context.Background(), started, refused, "not_found", "GET /v1/transactions/ab"},
		{context.Background(), started, fmt.Errorf("%w: GET /v1/status: 11 attempts", export.ErrGaveUp), "gave_up", "continue from height 1,201"},
		{context.Background(), export.Summary{}, fmt.Errorf("%w: --format: ...", export.ErrOptionsDiffer), "options_differ", "leave the options out"},
		{context.Background(), export.Summary{}, fmt.Errorf("%w: to 9", export.ErrPastHead), "past_head", "to 9"},
		{context.Background(), started, fmt.Errorf("%w: mismatch", export.ErrBadAnswer), "bad_answer", "mismatch"},
		{context.Background(), started, errors.New("disk full"), "export_failed", "disk full; the finished parts stay in /data/x"},
	}
	for _, tt := range tests {
		err := exportError(tt.ctx, tt.s, tt.err)
		var ce *cliError
		if !errors.As(err, &ce) || ce.code != tt.code || !strings.Contains(ce.msg, tt.says) {
			t.Errorf("exportError(%v) = %v, want code %s saying %q", tt.err, err, tt.code, tt.says)
		}
	}
	if err := exportError(context.Background(), export.Summary{}, errors.New("x")); strings.Contains(err.Error(), "again") {
		t.Errorf("exportError before anything was written = %q, want no re-run hint", err)
	}
}
