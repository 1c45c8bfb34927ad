package consensus_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/dualchain/dualchain/consensus"
	"github.com/dualchain/dualchain/consensus/consensustest"
	"github.com/hashicorp/raft"
)

var errRejected = errors.New("rejected")

// rejectFSM fails every entry that says "reject".
type rejectFSM struct{ *consensustest.MemoryFSM }

func (f rejectFSM) Apply(e consensus.Entry) error {
	if string(e.Data) == "reject" {
		return errRejected
	}
	return f.MemoryFSM.Apply(e)
}

func TestApplyErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	logger := consensustest.Logger(t, slog.LevelWarn)
	c := newCluster(t, 2, consensus.TestConfig(), func() consensus.FSM {
		return rejectFSM{consensustest.NewMemoryFSM()}
	}, logger)
	leader := c.waitLeader(ctx)
	follower := 1 - leader

	idx, err := c.reps[leader].Apply(ctx, []byte("ok"))
	if err != nil || idx == 0 {
		t.Fatalf("Apply(ok) = %d, %v, want an index, nil", idx, err)
	}
	if idx2, err := c.reps[leader].Apply(ctx, []byte("reject")); !errors.Is(err, errRejected) || idx2 <= idx {
		t.Errorf("Apply(reject) = %d, %v, want an index past %d, errRejected", idx2, err, idx)
	}
	if _, err := c.reps[follower].Apply(ctx, []byte("ok")); !errors.Is(err, raft.ErrNotLeader) {
		t.Errorf("Apply on follower = %v, want raft.ErrNotLeader", err)
	}
	if err := c.reps[leader].Barrier(ctx); err != nil {
		t.Errorf("Barrier() = %v, want nil", err)
	}
	done, stop := context.WithCancel(ctx)
	stop()
	if _, err := c.reps[leader].Apply(done, []byte("late")); !errors.Is(err, context.Canceled) {
		t.Errorf("Apply(cancelled ctx) = %v, want context.Canceled", err)
	}

	c.stop(follower)
	if err := c.reps[follower].Close(); !errors.Is(err, consensus.ErrClosed) {
		t.Errorf("second Close() = %v, want ErrClosed", err)
	}
	if _, err := c.reps[follower].Apply(ctx, []byte("ok")); !errors.Is(err, raft.ErrRaftShutdown) {
		t.Errorf("Apply after Close = %v, want raft.ErrRaftShutdown", err)
	}
}
