package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dualchain/dualchain/internal/redistest"
	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/node"
)

const (
	senders    = 8
	sinks      = 4
	fundAmount = 1_000_000_000 // per sender; transfers are 1..5
	loadTime   = 800 * time.Millisecond
	// applyTimeout bounds the wait for the node to block in applying a
	// block while Redis holds writes.
	applyTimeout = 5 * time.Second
)

// crash is one way the node process dies under load.
type crash struct {
	name string
	// wantUnacked says the crash must leave some committed transaction
	// unacknowledged, so that the restart has log entries to replay.
	wantUnacked bool
	kill        func(t *testing.T, n *nodeProc, rs *redistest.Server)
}

var crashes = []crash{
	{name: "SIGKILL under load", kill: func(_ *testing.T, n *nodeProc, _ *redistest.Server) { n.kill() }},
	{name: "SIGKILL between log append and Redis apply", wantUnacked: true, kill: killWithWritesPaused},
}

// killWithWritesPaused makes Redis hold every write (CLIENT PAUSE WRITE)
// while reads go on, waits until the node is blocked applying a block it
// has appended to its log (its EXEC is the one write Redis holds), and
// kills it there.
func killWithWritesPaused(t *testing.T, n *nodeProc, rs *redistest.Server) {
	t.Helper()
	ctx := context.Background()
	rdb := redis.NewClient(rs.Options())
	defer rdb.Close()
	// The pause ends by itself, too, if the test stops before UNPAUSE.
	pauseMillis := strconv.Itoa(int(2 * applyTimeout / time.Millisecond))
	if err := rdb.Do(ctx, "CLIENT", "PAUSE", pauseMillis, "WRITE").Err(); err != nil {
		t.Fatalf("CLIENT PAUSE %s WRITE = %v", pauseMillis, err)
	}
	defer func() {
		if err := rdb.Do(ctx, "CLIENT", "UNPAUSE").Err(); err != nil {
			t.Errorf("CLIENT UNPAUSE = %v", err)
		}
	}()
	if err := waitBlockedClient(ctx, rdb); err != nil {
		t.Errorf("waiting for the node to block in applying a block: %v", err)
	}
	n.kill()
}

// waitBlockedClient waits until Redis holds a client's command, as INFO
// clients' blocked_clients counts it.
func waitBlockedClient(ctx context.Context, rdb *redis.Client) error {
	deadline := time.Now().Add(applyTimeout)
	for {
		info, err := rdb.Info(ctx, "clients").Result()
		if err != nil {
			return fmt.Errorf("INFO clients: %w", err)
		}
		if blockedClients(info) > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no client blocked within %v; INFO clients:\n%s", applyTimeout, info)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// blockedClients reads blocked_clients from INFO clients, 0 if absent.
func blockedClients(info string) int {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "blocked_clients:"); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// TestKillNodeLosesNothing crashes a node on real Redis while senders
// stream transfers at it, restarts it on the same data dir and Redis, and
// checks that nothing acknowledged was lost and nothing was applied twice,
// also after the senders resubmit what they were not told about. Last, it
// cuts the power: Redis restarts empty and the node rebuilds the same chain
// from its log alone.
func TestKillNodeLosesNothing(t *testing.T) {
	rs := redistest.Start(t)
	dataDir := t.TempDir()
	n := startNode(t, dataDir, rs.URL())
	st, err := n.client.Status(context.Background())
	if err != nil {
		t.Fatalf("Status() = %v", err)
	}
	faucet, err := ledger.LoadKeyFile(filepath.Join(dataDir, node.FaucetFile))
	if err != nil {
		t.Fatalf("LoadKeyFile(faucet) = %v", err)
	}
	w := newWorld(t, st.ChainID, faucet, senders, sinks)
	w.fund(t, n.client, fundAmount)

	var v *chainView
	for _, cr := range crashes {
		var ok bool
		if n, v, ok = crashAndRecover(t, cr, n, rs, dataDir, w); !ok {
			return // the chain is wrong: what follows would only add noise
		}
	}

	// Power cut: the node stops, Redis comes back empty (it keeps nothing
	// on disk) and the node must rebuild the chain from its log.
	n.stop()
	rs.Restart()
	n = startNode(t, dataDir, rs.URL())
	after, _ := check(t, n.client, w, true)
	if b, a := v.status, after.status; a.Height != b.Height || a.Head != b.Head || a.Commitment != b.Commitment {
		t.Errorf("rebuilt from the log: height %d head %s commitment %s, want %d %s %s",
			a.Height, a.Head, a.Commitment, b.Height, b.Head, b.Commitment)
	}
}

// crashAndRecover runs load against n, crashes it mid-stream, restarts it
// and checks the chain before and after the senders resubmit. It returns
// the restarted node, what the last check saw, and whether the chain
// passed the checks.
func crashAndRecover(t *testing.T, cr crash, n *nodeProc, rs *redistest.Server, dataDir string, w *world) (*nodeProc, *chainView, bool) {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{batch: 16, pause: 10 * time.Millisecond}
	l.start(ctx, n.client, w)
	time.Sleep(loadTime)
	inFlight := l.waitInFlight(senders / 2)
	early := l.stoppedSoFar()
	cr.kill(t, n, rs)
	cancel()
	l.wait()
	if len(early) > 0 {
		t.Logf("%s: %d senders stopped before the crash: %v", cr.name, len(early), early)
	}

	n = startNode(t, dataDir, rs.URL())
	v, ok := check(t, n.client, w, false)
	acked, sent := w.count()
	unacked := committedUnacked(w, v)
	t.Logf("%s: %d submissions in flight at the crash; %d txs sent, %d acknowledged (or settled earlier), %d more committed unacknowledged; height %d",
		cr.name, inFlight, sent, acked, unacked, v.status.Height)
	if inFlight == 0 {
		t.Errorf("%s: no submission was in flight at the crash; want the crash mid-stream", cr.name)
	}
	if cr.wantUnacked && unacked == 0 {
		t.Errorf("%s: no committed tx was left unacknowledged; want the crash to leave log entries to replay", cr.name)
	}
	got := w.resubmit(t, n.client, v)
	t.Logf("%s: resubmitted the unacknowledged txs: %d committed now, %d had been committed (nonce_too_low or their receipt)",
		cr.name, got.now, got.already)
	v, ok2 := check(t, n.client, w, true)
	w.settle(v)
	return n, v, ok && ok2
}

// count returns how many transactions the test was told were committed,
// and how many it signed.
func (w *world) count() (acked, sent int) {
	for _, a := range w.accounts() {
		acked += len(a.acked)
		sent += len(a.txs)
	}
	return acked, sent
}
