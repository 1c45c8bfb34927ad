package consensus

import (
	"errors"
	"log/slog"
	"testing"

	"github.com/hashicorp/raft"
)

// memDisk is an in-memory log store; with broken set its appends fail.
type memDisk struct {
	*raft.InmemStore
	broken bool
}

var errDisk = errors.New("input/output error")

func (d memDisk) StoreLogs(logs []*raft.Log) error {
	if d.broken {
		return errDisk
	}
	return d.InmemStore.StoreLogs(logs)
}

func (memDisk) Close() error { return nil }

// TestFailStopStore: a failed append reaches the replica's owner (the node
// stops on it) instead of being only logged by raft; good appends report
// nothing.
func TestFailStopStore(t *testing.T) {
	for _, broken := range []bool{false, true} {
		s := newFailStopStore(memDisk{InmemStore: raft.NewInmemStore(), broken: broken})
		err := s.StoreLog(&raft.Log{Index: 7, Term: 1})
		if broken != (err != nil) || broken && (!errors.Is(err, ErrLogStore) || !errors.Is(err, errDisk)) {
			t.Errorf("broken %v: StoreLog = %v, want an error wrapping %v and %v: %v", broken, err, ErrLogStore, errDisk, broken)
		}
		select {
		case got := <-s.failed:
			if !broken || got.Error() != err.Error() {
				t.Errorf("broken %v: failure reported %v, want %v", broken, got, err)
			}
		default:
			if broken {
				t.Errorf("broken %v: no failure reported, want %v", broken, err)
			}
		}
		// Once broken, it refuses every write, even those the disk takes.
		if broken {
			s.logStore = memDisk{InmemStore: raft.NewInmemStore()}
			if err := s.StoreLog(&raft.Log{Index: 8, Term: 1}); !errors.Is(err, ErrLogStore) {
				t.Errorf("StoreLog after a failure = %v, want %v", err, ErrLogStore)
			}
			if err := s.DeleteRange(1, 8); !errors.Is(err, ErrLogStore) {
				t.Errorf("DeleteRange after a failure = %v, want %v", err, ErrLogStore)
			}
			if n, _ := s.LastIndex(); n != 0 {
				t.Errorf("LastIndex after a refused write = %d, want 0", n)
			}
		}
		r := &Replica{store: s}
		if r.StoreFailed() == nil {
			t.Errorf("StoreFailed() = nil over the fail-stop store")
		}
	}
}

// TestFailStopStoreMonotonic: the wrapper tells raft what the store it
// wraps tells: raft-wal is monotonic (raft must drop its log when it
// installs a snapshot), raft-boltdb is not. Hidden, a follower of the WAL
// kind failed its first append after a snapshot install.
func TestFailStopStoreMonotonic(t *testing.T) {
	for _, kind := range []StoreKind{StoreWAL, StoreBolt} {
		cfg := DefaultConfig()
		cfg.LogStore, cfg.DataDir = kind, t.TempDir()
		s, err := openLogStore(cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatalf("openLogStore(%s) = %v", kind, err)
		}
		want := kind == StoreWAL
		if got := s.(raft.MonotonicLogStore).IsMonotonic(); got != want {
			t.Errorf("openLogStore(%s).IsMonotonic() = %v, want %v", kind, got, want)
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
	}
}
