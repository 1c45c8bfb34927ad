package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/internal/loadgen"
	"github.com/dualchain/dualchain/ledger"
)

// running is a node started by a test, stopped at cleanup.
type running struct {
	*Node
	stop func()
}

func startNode(t testing.TB, cfg Config) *running {
	t.Helper()
	r := startNodeNoWait(t, cfg)
	if cfg.Join == "" {
		waitCaughtUp(t, r.Node)
	}
	return r
}

// startNodeNoWait starts a node and returns at once: a node of a cluster
// cannot catch up before a quorum is up.
func startNodeNoWait(t testing.TB, cfg Config) *running {
	t.Helper()
	cfg.Logger = testLogger(t)
	ctx, cancel := context.WithCancel(context.Background())
	n, err := New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("New = %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	r := &running{Node: n}
	r.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}
	t.Cleanup(func() {
		if ctx.Err() == nil {
			r.stop()
		}
		if m := n.dispatch.mismatches.Load(); m != 0 {
			t.Errorf("%d calls had different native and VM results", m)
		}
	})
	return r
}

// waitCaughtUp waits until n knows a leader and has applied every entry
// committed when it learned of it.
func waitCaughtUp(t testing.TB, n *Node) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if n.replica.CaughtUp() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("node %s did not catch up: %+v", n.cfg.NodeID, n.replica.State())
}

// testLogger logs to t.Log in tests; benchmarks log nothing (their output
// is parsed).
func testLogger(t testing.TB) *slog.Logger {
	if _, bench := t.(*testing.B); bench {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// tWriter writes each log line to t.Log.
type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func faucet(t *testing.T, cfg Config) *ledger.Key {
	t.Helper()
	k, err := ledger.LoadKeyFile(filepath.Join(cfg.DataDir, FaucetFile))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// transfer signs a transfer on the dev chain.
func transfer(from *ledger.Key, nonce uint64, to ledger.Address, amount uint64) *ledger.Tx {
	return loadgen.Transfer(DefaultConfig().ChainID, from, nonce, to, amount)
}

// submitWait submits txs and waits for all of them, failing on any error.
func submitWait(t *testing.T, b api.Backend, txs ...*ledger.Tx) []*ledger.TxRecord {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ids, errs := b.Submit(ctx, txs)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Submit tx %d = %v", i, err)
		}
	}
	var recs []*ledger.TxRecord
	for i, r := range b.Wait(ctx, ids) {
		if r.Err != nil || r.Record == nil {
			t.Fatalf("Wait tx %d = %+v, want a record", i, r)
		}
		recs = append(recs, r.Record)
	}
	return recs
}

func balance(t *testing.T, b api.Backend, a ledger.Address) ledger.Account {
	t.Helper()
	acct, err := b.Account(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	return acct
}

func TestNodeTransfersAndRestart(t *testing.T) {
	cfg := TestConfig(t.TempDir())
	n := startNode(t, cfg)
	f := faucet(t, cfg)
	bob := testKey(7)

	var txs []*ledger.Tx
	for i := range 50 {
		txs = append(txs, transfer(f, uint64(i), bob.Address, 10))
	}
	recs := submitWait(t, n.Backend(), txs...)
	for i, r := range recs {
		if r.Receipt.Status != ledger.StatusOK || r.Receipt.Path != ledger.PathNative {
			t.Fatalf("receipt %d = %+v, want ok on the native path", i, r.Receipt)
		}
	}
	if got := balance(t, n.Backend(), bob.Address); got.Balance != 500 {
		t.Fatalf("bob's balance = %d, want 500", got.Balance)
	}
	before, _ := n.Backend().Status(context.Background())
	n.stop()

	// The memory store starts empty: the node must rebuild it from the log.
	n2 := startNode(t, cfg)
	after, _ := n2.Backend().Status(context.Background())
	if after.Height != before.Height || after.Commitment != before.Commitment || after.AppliedIndex != before.AppliedIndex {
		t.Fatalf("after restart status = %+v, want height/commitment/index of %+v", after, before)
	}
	if got := balance(t, n2.Backend(), f.Address); got.Nonce != 50 || got.Balance != DevSupply-500 {
		t.Fatalf("faucet after restart = %+v, want nonce 50, balance %d", got, DevSupply-500)
	}
	rec, err := n2.Backend().Tx(context.Background(), recs[7].Receipt.TxID)
	if err != nil || rec.Tx.Nonce != 7 {
		t.Fatalf("Tx(%s) after restart = %+v, %v", recs[7].Receipt.TxID, rec, err)
	}
}

func TestNodeRejectsBadInput(t *testing.T) {
	cfg := TestConfig(t.TempDir())
	n := startNode(t, cfg)
	f := faucet(t, cfg)
	bob := testKey(7)
	first := submitWait(t, n.Backend(), transfer(f, 0, bob.Address, 5))[0]

	badSig := transfer(f, 1, bob.Address, 5)
	badSig.Sig[0] ^= 1
	wrongChain := transfer(f, 1, bob.Address, 5)
	wrongChain.ChainID = "other"
	wrongChain.Sign(f.Private)
	lowGas := transfer(f, 1, bob.Address, 5)
	lowGas.GasLimit = 1
	lowGas.Sign(f.Private)
	badArgs := transfer(f, 1, bob.Address, 5)
	badArgs.Args = []byte{0xff}
	badArgs.Sign(f.Private)
	tests := []struct {
		name string
		tx   *ledger.Tx
		want error
	}{
		{"another tx with a used nonce", transfer(f, 0, bob.Address, 6), ErrNonceTooLow},
		{"bad signature", badSig, ledger.ErrBadSignature},
		{"wrong chain id", wrongChain, ErrWrongChainID},
		{"gas limit too low", lowGas, ErrGasLimit},
		{"malformed args", badArgs, ErrBadArgs},
		{"overdraft", transfer(bob, 0, f.Address, 6), ErrInsufficientFunds},
		{"nonce far ahead", transfer(f, 1+cfg.NonceWindow, bob.Address, 5), ErrNonceTooHigh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := n.Backend().Submit(context.Background(), []*ledger.Tx{tt.tx})
			if !errors.Is(errs[0], tt.want) {
				t.Fatalf("Submit = %v, want %v", errs[0], tt.want)
			}
		})
	}
	// Retrying the committed transaction itself is no error: its record.
	again := submitWait(t, n.Backend(), transfer(f, 0, bob.Address, 5))[0]
	if again.Height != first.Height || again.Receipt.TxID != first.Receipt.TxID {
		t.Fatalf("resubmitted committed tx = %+v, want its record %+v", again, first)
	}
	st, _ := n.Backend().Status(context.Background())
	if st.Height != 1 || st.Mempool != 0 {
		t.Fatalf("after bad input: height %d mempool %d, want 1 and 0", st.Height, st.Mempool)
	}
}

// TestDataDirLocked: a second node on a data dir in use is refused with
// the holder's pid, and the dir is free again once the first stops.
func TestDataDirLocked(t *testing.T) {
	cfg := TestConfig(t.TempDir())
	n := startNode(t, cfg)
	_, err := New(context.Background(), cfg)
	if !errors.Is(err, ErrDataDirInUse) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("New on a data dir in use = %v, want ErrDataDirInUse naming pid %d", err, os.Getpid())
	}
	n.stop()
	again := startNode(t, cfg)
	if h := again.chain.Head().Height; h != 0 {
		t.Fatalf("restarted node at height %d, want 0", h)
	}
}
