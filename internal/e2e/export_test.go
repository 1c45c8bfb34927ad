package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/internal/export"
	"github.com/dualchain/dualchain/internal/export/exporttest"
	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/node"
	"golang.org/x/sync/errgroup"
)

// The export node's shape: a few hundred transfers, in batches small
// enough to make a few dozen blocks, each request held apiDelay.
const (
	exportTransfers = 300
	exportBatch     = 10
	exportDelay     = 50 * time.Millisecond
	exportWorkers   = 8
)

// exportEnv is a dev node whose every transfer runs in the VM with a
// trace, slowed down by --debug-api-delay, and the exports taken of it.
type exportEnv struct {
	t    *testing.T
	n    *nodeProc
	c    *client.Client // no keep-alive: it holds no connection between requests
	cli  *cli
	to   uint64 // the head once the transfers are in: every export's --to
	root string

	faucet *ledger.Key
}

// TestExport runs `dualchain export` as a user would against a real node
// (issue 9): the node's own counts show the worker pool's bound; the
// files hold every field of every block, transaction and trace frame the
// API serves; range and --per-tx exports are the same files; and an
// export killed with SIGKILL mid-way and run again gives the same files
// as one that never stopped.
func TestExport(t *testing.T) {
	e := startExport(t)
	perTx := e.path("per-tx")
	e.workerBound(perTx) // first: the node's peaks count from its start
	ref := e.path("range")
	s := e.export(t, ref)
	if !s.Complete || s.Txs < exportTransfers || s.Frames == 0 {
		t.Fatalf("range export = %+v, want complete with %d+ txs and their frames", s, exportTransfers)
	}
	t.Run("every field", func(t *testing.T) { e.everyField(t, ref) })
	t.Run("per-tx and range", func(t *testing.T) { exporttest.SameFiles(t, ref, perTx) })
	t.Run("killed and resumed", func(t *testing.T) { e.killed(t, ref) })
	t.Run("cold per-tx and range", e.cold)
}

func startExport(t *testing.T) *exportEnv {
	t.Helper()
	dataDir := t.TempDir()
	n := launchWith(t, dataDir, "--exec", "vm", "--vm-trace", "--debug-api-delay", exportDelay.String())
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{DisableKeepAlives: true}}
	e := &exportEnv{t: t, n: n, c: client.New(n.url, client.WithHTTPClient(hc)), root: t.TempDir(),
		cli: &cli{t: t, bin: binary(t), tmp: t.TempDir()}}
	faucet, err := ledger.LoadKeyFile(filepath.Join(dataDir, node.FaucetFile))
	if err != nil {
		t.Fatalf("LoadKeyFile(faucet) = %v", err)
	}
	e.transfers(faucet)
	e.faucet = faucet
	st, err := e.c.Status(t.Context())
	if err != nil {
		t.Fatalf("Status() = %v", err)
	}
	e.to = st.Height
	t.Logf("the node's head after %d transfers: %d", exportTransfers, e.to)
	return e
}

// transfers commits exportTransfers VM transfers from the faucet, a batch
// at a time.
func (e *exportEnv) transfers(faucet *ledger.Key) {
	ctx := e.t.Context()
	st, err := e.c.Status(ctx)
	if err != nil {
		e.t.Fatalf("Status() = %v", err)
	}
	for i := 0; i < exportTransfers; i += exportBatch {
		var txs []*ledger.Tx
		for j := i; j < i+exportBatch; j++ {
			to := ledger.Address{byte(j), byte(j >> 8), 0xe0}
			tx := &ledger.Tx{ChainID: st.ChainID, Chain: ledger.Hot, Nonce: uint64(j), From: faucet.Address,
				Contract: token.Address, Function: token.FuncTransfer, Args: token.EncodeTransfer(to, uint64(1+j)),
				GasLimit: token.TransferGas}
			tx.Sign(faucet.Private)
			txs = append(txs, tx)
		}
		res, err := e.c.SubmitWait(ctx, txs...)
		if err != nil {
			e.t.Fatalf("SubmitWait(transfers %d..) = %v", i, err)
		}
		for _, r := range res {
			if r.Status != api.StatusCommitted || r.Receipt == nil || r.Receipt.Status != ledger.StatusOK || r.Receipt.Path != ledger.PathVM {
				e.t.Fatalf("transfer %s = %+v, want committed ok in the VM", r.ID, r)
			}
		}
	}
}

func (e *exportEnv) path(name string) string { return filepath.Join(e.root, name) }

// exportArgs is the command line of an export of 1..to into dir: small
// chunks and parts, so that an export has many.
func (e *exportEnv) exportArgs(dir string, more ...string) []string {
	return append([]string{"export", "--node", e.n.url, "--out", dir, "--to", strconv.FormatUint(e.to, 10),
		"--chunk-blocks", "2", "--part-txs", "20", "--quiet"}, more...)
}

// export runs an export into dir to the end, failing t if it fails.
func (e *exportEnv) export(t *testing.T, dir string, more ...string) export.Summary {
	t.Helper()
	c := *e.cli
	c.t = t
	var s export.Summary
	c.okJSON(&s, e.exportArgs(dir, more...)...)
	return s
}

// workerBound exports with --per-tx --workers 8 into dir, then reads the
// node's peaks: requests in flight and connections open never past the
// workers. The connections the test itself held open (the node's
// readiness check) are allowed for; the metrics are counted from the
// node's start, before which no export ran.
func (e *exportEnv) workerBound(dir string) {
	t := e.t
	before := e.metrics()
	held := before["dualchain_api_connections_open"] - 1 // not the scrape's own
	s := e.export(t, dir, "--per-tx", "--workers", strconv.Itoa(exportWorkers))
	if !s.Complete || s.Requests < int64(s.Txs) {
		t.Fatalf("per-tx export = %+v, want it complete with a request per tx", s)
	}
	time.Sleep(200 * time.Millisecond) // for the node to see the export's connections close
	after := e.metrics()
	inFlight, conns := after["dualchain_api_requests_in_flight_peak"], after["dualchain_api_connections_peak"]
	t.Logf("export of %d txs, %d requests with %d workers: the node's peaks: %d requests in flight, %d connections (%d held by the test)",
		s.Txs, s.Requests, exportWorkers, inFlight, conns, held)
	if inFlight > exportWorkers || inFlight < 2 {
		t.Errorf("dualchain_api_requests_in_flight_peak = %d, want 2 to %d (--workers)", inFlight, exportWorkers)
	}
	if conns > exportWorkers+held {
		t.Errorf("dualchain_api_connections_peak = %d, want at most %d (--workers) + %d held by the test", conns, exportWorkers, held)
	}
}

// metrics scrapes the node's /metrics for the gauges without labels.
func (e *exportEnv) metrics() map[string]int64 {
	e.t.Helper()
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get(e.n.url + "/metrics")
	if err != nil {
		e.t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if v, err := strconv.ParseFloat(value, 64); ok && err == nil && !strings.HasPrefix(name, "#") {
			out[name] = int64(v)
		}
	}
	for _, name := range []string{"dualchain_api_connections_open", "dualchain_api_connections_peak", "dualchain_api_requests_in_flight_peak"} {
		if _, ok := out[name]; !ok {
			e.t.Fatalf("/metrics has no %s", name)
		}
	}
	return out
}

// everyField reads the export in dir back and checks every block,
// transaction and trace against what the API serves.
func (e *exportEnv) everyField(t *testing.T, dir string) {
	ds, err := export.ReadDataset(dir)
	if err != nil {
		t.Fatalf("ReadDataset(%s) = %v", dir, err)
	}
	c, err := ds.Chunk()
	if err != nil {
		t.Fatalf("Dataset.Chunk() = %v", err)
	}
	blocks := e.apiBlocks(t)
	if len(c.Hot) != len(blocks) {
		t.Fatalf("the export has %d blocks, the API %d", len(c.Hot), len(blocks))
	}
	frames := 0
	for i := range blocks {
		if got, want := jsonOf(t, c.Hot[i]), jsonOf(t, blocks[i]); !bytes.Equal(got, want) {
			t.Fatalf("block %d:\n export %s\n    API %s", blocks[i].Height, got, want)
		}
		for _, v := range blocks[i].Txs {
			if v.Trace != nil {
				frames += len(v.Trace.Frames)
			}
		}
	}
	if frames == 0 || len(ds.Frames) != frames {
		t.Errorf("the export has %d frame rows, the API's traces %d frames; want them equal, and some", len(ds.Frames), frames)
	}
	e.sameTxs(t, c.Hot)
}

// apiBlocks reads blocks 1..to with their traces, page by page.
func (e *exportEnv) apiBlocks(t *testing.T) []api.BlockView {
	var out []api.BlockView
	for from := uint64(1); from <= e.to; {
		end := min(from+api.MaxRangeBlocks-1, e.to)
		p, err := e.c.BlockPage(t.Context(), from, end, true)
		if err != nil {
			t.Fatalf("BlockPage(%d, %d) = %v", from, end, err)
		}
		out = append(out, p.Blocks...)
		from = end + 1
		if p.Next != 0 {
			from = p.Next
		}
	}
	return out
}

// sameTxs asks for every transaction of blocks on its own, as --per-tx
// does, and compares it with the export's.
func (e *exportEnv) sameTxs(t *testing.T, blocks []api.BlockView) {
	g, ctx := errgroup.WithContext(t.Context())
	g.SetLimit(exportWorkers)
	for i := range blocks {
		for _, v := range blocks[i].Txs {
			g.Go(func() error {
				got, err := e.c.TxWithTrace(ctx, v.ID)
				if err != nil {
					return fmt.Errorf("TxWithTrace(%s) = %w", v.ID, err)
				}
				a, err1 := json.Marshal(v)
				b, err2 := json.Marshal(got)
				if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
					return fmt.Errorf("tx %s:\n export %s\n    API %s", v.ID, a, b)
				}
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		t.Error(err)
	}
}

// killed starts an export, kills it with SIGKILL once it has finished a
// part, runs the same command again, and compares the files with ref's.
// --per-tx with 2 workers makes it slow enough to kill mid-way.
func (e *exportEnv) killed(t *testing.T, ref string) {
	dir := e.path("killed")
	args := e.exportArgs(dir, "--per-tx", "--workers", "2")
	cmd := exec.Command(e.cli.bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dualchain %s: %v", strings.Join(args, " "), err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	parts := waitForPart(t, dir, exited)
	if err := syscall.Kill(cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill the export: %v", err)
	}
	<-exited
	m, err := export.ReadManifest(dir)
	if err != nil || m == nil || m.Complete {
		t.Fatalf("after the kill ReadManifest = %+v, %v; want an unfinished export (stderr %q)", m, err, stderr.String())
	}
	t.Logf("killed after %d part(s) of heights 1 to %d", parts, m.Next()-1)
	s := e.export(t, dir, "--per-tx", "--workers", "2")
	if !s.Complete || s.Start != m.Next() {
		t.Errorf("the export run again = %+v, want it complete, continued from %d", s, m.Next())
	}
	exporttest.SameFiles(t, ref, dir)
}

// cold moves funds to the cold chain, makes a few cold transfers, and
// exports the cold chain with range requests and with --per-tx: the same
// files.
func (e *exportEnv) cold(t *testing.T) {
	ctx := t.Context()
	r, err := e.c.Settle(ctx, e.faucet, 1000, true)
	if err == nil {
		_, err = e.c.WaitBridge(ctx, r.ID, 0)
	}
	if err != nil {
		t.Fatalf("settle to the cold chain: %v", err)
	}
	const transfers = 5
	for i := range transfers {
		res, err := e.c.TransferCold(ctx, e.faucet, ledger.Address{0xc0, byte(i)}, uint64(10+i), true)
		if err != nil || res.Status != api.StatusCommitted {
			t.Fatalf("cold transfer %d = %+v, %v; want committed", i, res, err)
		}
	}
	head, err := e.c.ColdBlock(ctx, 0)
	if err != nil {
		t.Fatalf("ColdBlock(latest) = %v", err)
	}
	to := strconv.FormatUint(head.Header.Height, 10)
	args := func(dir string, more ...string) []string {
		return append([]string{"export", "--node", e.n.url, "--out", dir, "--chain", "cold", "--to", to,
			"--chunk-blocks", "2", "--part-txs", "2", "--format", "parquet", "--quiet"}, more...)
	}
	c := *e.cli
	c.t = t
	var ranged, perTx export.Summary
	c.okJSON(&ranged, args(e.path("cold-range"))...)
	c.okJSON(&perTx, args(e.path("cold-per-tx"), "--per-tx")...)
	if !ranged.Complete || ranged.Txs < transfers || perTx.Txs != ranged.Txs {
		t.Errorf("cold exports: range %+v, per-tx %+v; want both complete with %d+ txs", ranged, perTx, transfers)
	}
	exporttest.SameFiles(t, e.path("cold-range"), e.path("cold-per-tx"))
}

// waitForPart waits until the export in dir has finished a part, and
// says how many; it fails the test if the export ends first.
func waitForPart(t *testing.T, dir string, exited <-chan error) int {
	deadline := time.After(time.Minute)
	for {
		if m, err := export.ReadManifest(dir); err == nil && m != nil && len(m.Parts) > 0 {
			return len(m.Parts)
		}
		select {
		case err := <-exited:
			t.Fatalf("the export ended (%v) before it finished a part, or was too fast to kill mid-way", err)
		case <-deadline:
			t.Fatal("the export finished no part within a minute")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func jsonOf(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
