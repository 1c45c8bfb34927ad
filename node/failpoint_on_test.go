//go:build failpoints

package node

import (
	"context"
	"errors"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dualchain/dualchain/consensus"
	"github.com/dualchain/dualchain/internal/failpoint"
	"github.com/dualchain/dualchain/ledger"
)

// fpRequest sends a request to the process's failpoints API through the
// handler (the node's listener may be closed).
func fpRequest(t *testing.T, method, name, body string) int {
	t.Helper()
	rec := httptest.NewRecorder()
	failpoint.DebugHandler().ServeHTTP(rec, httptest.NewRequest(method, "/debug/failpoints/"+name, strings.NewReader(body)))
	return rec.Code
}

// TestFailStopOnLogStoreError: a node whose Raft log store fails a write
// stops (Run returns the store's error) instead of going on as
// hashicorp/raft would; restarted on the same data dir, it has its log
// and state. Before the fix the failure was only logged by raft, the
// leader stepped down and the node went on with a store it could not
// trust.
func TestFailStopOnLogStoreError(t *testing.T) {
	cfg := TestConfig(t.TempDir())
	cfg.Logger = testLogger(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := New(ctx, cfg)
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	waitCaughtUp(t, n)
	f := faucet(t, cfg)
	bob := testKey(7)
	submitWait(t, n.Backend(), transfer(f, 0, bob.Address, 10))
	before := balance(t, n.Backend(), bob.Address)

	// Armed through the node's own API: the failpoints build serves it.
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, n.URL()+"/debug/failpoints/"+failpoint.RaftLogStore, strings.NewReader("error"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PUT /debug/failpoints/%s = %v, %v; want 204", failpoint.RaftLogStore, resp, err)
	}
	resp.Body.Close()
	t.Cleanup(func() { fpRequest(t, http.MethodDelete, failpoint.RaftLogStore, "") })

	n.Backend().Submit(ctx, []*ledger.Tx{transfer(f, 1, bob.Address, 10)})
	select {
	case err := <-done:
		if !errors.Is(err, consensus.ErrLogStore) || !errors.Is(err, failpoint.ErrInjected) {
			t.Fatalf("Run = %v, want an error wrapping %v and %v", err, consensus.ErrLogStore, failpoint.ErrInjected)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the node still runs 30s after its log store failed a write")
	}
	if code := fpRequest(t, http.MethodDelete, failpoint.RaftLogStore, ""); code != http.StatusNoContent {
		t.Fatalf("DELETE = %d", code)
	}
	n2 := startNode(t, cfg)
	if got := balance(t, n2.Backend(), bob.Address); got.Balance != before.Balance {
		t.Errorf("bob's balance after the restart = %d, want %d", got.Balance, before.Balance)
	}
	submitWait(t, n2.Backend(), transfer(f, 1, bob.Address, 10))
}

// TestClockSkewStampsBlocks: the clock-skew failpoint moves the time the
// leader stamps its blocks with, forward and back.
func TestClockSkewStampsBlocks(t *testing.T) {
	cfg := TestConfig(t.TempDir())
	n := startNode(t, cfg)
	f := faucet(t, cfg)
	bob := testKey(7)
	t.Cleanup(func() { fpRequest(t, http.MethodDelete, failpoint.ClockSkew, "") })
	for i, skew := range []time.Duration{5 * time.Second, -5 * time.Second} {
		if code := fpRequest(t, http.MethodPut, failpoint.ClockSkew, "skew("+skew.String()+")"); code != http.StatusNoContent {
			t.Fatalf("PUT %s skew(%v) = %d", failpoint.ClockSkew, skew, code)
		}
		start := time.Now()
		rec := submitWait(t, n.Backend(), transfer(f, uint64(i), bob.Address, 10))[0]
		b, err := n.Backend().Block(context.Background(), rec.Height)
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		if off := time.Unix(0, b.Header.Time).Sub(start); (off - skew).Abs() > took+time.Second {
			t.Errorf("skew %v: block %d stamped %v from the submit, want about %v", skew, rec.Height, off, skew)
		}
		t.Logf("skew %v: block %d stamped %v from the submit, committed after %v", skew, rec.Height, time.Unix(0, b.Header.Time).Sub(start), took)
	}
}

// TestPebbleInjector: Pebble's file writes and syncs reach the
// pebble-write and pebble-sync failpoints; reads reach none.
func TestPebbleInjector(t *testing.T) {
	var seen []string
	inj := pebbleInjector{eval: func(name string) error {
		seen = append(seen, name)
		return failpoint.ErrInjected
	}}
	tests := []struct {
		op   errorfs.OpKind
		want string
	}{
		{errorfs.OpFileWrite, failpoint.PebbleWrite},
		{errorfs.OpFileWriteAt, failpoint.PebbleWrite},
		{errorfs.OpFileSync, failpoint.PebbleSync},
		{errorfs.OpFileSyncData, failpoint.PebbleSync},
		{errorfs.OpFileSyncTo, failpoint.PebbleSync},
		{errorfs.OpFileRead, ""},
		{errorfs.OpCreate, ""},
	}
	for _, tt := range tests {
		seen = nil
		err := inj.MaybeError(errorfs.Op{Kind: tt.op, Path: "cold/000001.log"})
		switch {
		case tt.want == "" && (err != nil || seen != nil):
			t.Errorf("MaybeError(%v) = %v, evaluated %v; want nothing", tt.op, err, seen)
		case tt.want != "" && (!errors.Is(err, failpoint.ErrInjected) || len(seen) != 1 || seen[0] != tt.want):
			t.Errorf("MaybeError(%v) = %v, evaluated %v; want %s's error", tt.op, err, seen, tt.want)
		}
	}
}
