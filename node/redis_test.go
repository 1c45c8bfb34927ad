package node

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dualchain/dualchain/internal/redistest"
	"github.com/dualchain/dualchain/ledger"
	"github.com/redis/go-redis/v9"
)

// submitUntilAccepted retries a submission the node answers with
// ErrRebuilding, as a client would, then waits for the receipts.
func submitUntilAccepted(t *testing.T, n *running, txs ...*ledger.Tx) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, errs := n.Backend().Submit(context.Background(), txs)
		if !errors.Is(errs[0], ErrRebuilding) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	submitWait(t, n.Backend(), txs...)
}

// A node on real Redis survives its Redis losing everything, by FLUSHALL
// and by a redis-server restarted empty: it notices, rebuilds from genesis
// and its block log, and goes on with the same state and commitment.
func TestNodeRebuildsLostRedis(t *testing.T) {
	srv := redistest.Start(t)
	cfg := TestConfig(t.TempDir())
	cfg.Store, cfg.RedisURL = "redis", srv.URL()
	n := startNode(t, cfg)
	f, bob := faucet(t, cfg), testKey(9)
	nonce := uint64(0)
	send := func(t *testing.T, k int) {
		var txs []*ledger.Tx
		for range k {
			txs = append(txs, transfer(f, nonce, bob.Address, 3))
			nonce++
		}
		submitUntilAccepted(t, n, txs...)
	}
	send(t, 40)

	losses := []struct {
		name string
		lose func()
	}{
		{"flushall", func() {
			rc := redis.NewClient(srv.Options())
			defer rc.Close()
			if err := rc.FlushAll(context.Background()).Err(); err != nil {
				t.Fatal(err)
			}
		}},
		{"restarted empty", func() {
			srv.Restart()
		}},
	}
	for _, loss := range losses {
		t.Run(loss.name, func(t *testing.T) {
			before, _ := n.Backend().Status(context.Background())
			loss.lose()
			send(t, 10)
			after, _ := n.Backend().Status(context.Background())
			if after.Height != before.Height+1 {
				t.Fatalf("height after loss and one block = %d, want %d", after.Height, before.Height+1)
			}
			acct := balance(t, n.Backend(), bob.Address)
			if acct.Balance != 3*nonce {
				t.Fatalf("bob's balance = %d, want %d (every transfer once)", acct.Balance, 3*nonce)
			}
			if got := balance(t, n.Backend(), f.Address); got.Nonce != nonce {
				t.Fatalf("faucet nonce = %d, want %d", got.Nonce, nonce)
			}
		})
	}
	// A fresh node on the same Redis and log agrees on the commitment.
	st, _ := n.Backend().Status(context.Background())
	n.stop()
	n2 := startNode(t, cfg)
	st2, _ := n2.Backend().Status(context.Background())
	if st2.Commitment != st.Commitment || st2.Height != st.Height {
		t.Fatalf("restarted node at %d/%s, want %d/%s", st2.Height, st2.Commitment, st.Height, st.Commitment)
	}
}
