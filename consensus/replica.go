package consensus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// ErrClosed reports a call on a closed Replica.
var ErrClosed = errors.New("consensus: replica closed")

// Server is one voting member of the group, for Bootstrap.
type Server struct {
	ID   string
	Addr string // host:port of its Raft transport
}

// Replica is one member of the Raft group, with its transport and stores
// open. Its methods are safe for concurrent use. Close ends every goroutine
// it started.
type Replica struct {
	id    string
	raft  *raft.Raft
	trans raft.Transport
	store logStore
	snaps *raft.FileSnapshotStore
	// applied is the index of the last entry the FSM applied, or of the
	// snapshot it restored.
	applied *atomic.Uint64
	floor   *atomic.Uint64 // index of the snapshot last restored (digest.go)
	logger  *slog.Logger
	closed  atomic.Bool
}

// Open starts a replica: it opens the stores under cfg.DataDir, listens on
// cfg.BindAddr and starts Raft, which restores the latest snapshot into fsm
// and then replays the log as entries commit. A replica with no state on
// disk stays a follower without peers until Bootstrap, or until a leader
// adds it to the group. A nil logger discards Raft's logs.
func Open(cfg Config, fsm FSM, logger *slog.Logger) (*Replica, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "consensus", "node_id", cfg.NodeID)
	hl := newRaftLogger(logger)
	store, err := openLogStore(cfg, logger)
	if err != nil {
		return nil, err
	}
	r, err := start(cfg, fsm, store, hl)
	if err != nil {
		return nil, errors.Join(err, store.Close())
	}
	r.logger = logger
	return r, nil
}

// start opens the snapshot store and transport over an open log store and
// starts Raft. On error the caller closes store.
func start(cfg Config, fsm FSM, store logStore, hl *raftLogger) (*Replica, error) {
	if err := removePartialSnapshots(filepath.Join(cfg.DataDir, "snapshots")); err != nil {
		return nil, err
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.DataDir, cfg.SnapshotRetain, hl.Named("snapshot"))
	if err != nil {
		return nil, fmt.Errorf("consensus: snapshot store: %w", err)
	}
	trans, err := newTransport(cfg, hl.Named("net"))
	if err != nil {
		return nil, err
	}
	var logs raft.LogStore = store
	if cfg.LogCacheEntries > 0 {
		if logs, err = raft.NewLogCache(cfg.LogCacheEntries, store); err != nil {
			return nil, errors.Join(fmt.Errorf("consensus: log cache: %w", err), closeTransport(trans))
		}
	}
	rc := cfg.raftConfig()
	rc.Logger = hl.Named("raft")
	applied, floor := new(atomic.Uint64), new(atomic.Uint64)
	rfsm := floorFSM{raftFSM: raftFSM{fsm: fsm, applied: applied, snaps: snaps}, floor: floor}
	ra, err := raft.NewRaft(rc, rfsm, logs, store, snaps, trans)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("consensus: start raft: %w", err), closeTransport(trans))
	}
	return &Replica{id: cfg.NodeID, raft: ra, trans: trans, store: store, snaps: snaps, applied: applied, floor: floor}, nil
}

// closeTransport closes trans if it can be closed.
func closeTransport(trans raft.Transport) error {
	if c, ok := trans.(raft.WithClose); ok {
		return c.Close()
	}
	return nil
}

// newTransport is cfg.Transport if set, else a TCP transport listening on
// cfg.BindAddr; either way without Raft's heartbeat fast path (serialize).
func newTransport(cfg Config, hl hclog.Logger) (raft.Transport, error) {
	if cfg.Transport != nil {
		return serialize(cfg.Transport), nil
	}
	var advertise net.Addr // a nil *net.TCPAddr here would not be a nil net.Addr
	if cfg.AdvertiseAddr != "" {
		a, err := net.ResolveTCPAddr("tcp", cfg.AdvertiseAddr)
		if err != nil {
			return nil, fmt.Errorf("consensus: advertise address: %w", err)
		}
		advertise = a
	}
	tc := &raft.NetworkTransportConfig{MaxPool: cfg.TransportMaxPool, Timeout: cfg.TransportTimeout, Logger: hl}
	trans, err := raft.NewTCPTransportWithConfig(cfg.BindAddr, advertise, tc)
	if err != nil {
		return nil, fmt.Errorf("consensus: listen on %s: %w", cfg.BindAddr, err)
	}
	return serialize(trans), nil
}

// ID is the replica's node id.
func (r *Replica) ID() string { return r.id }

// Addr is the address other replicas reach this one at.
func (r *Replica) Addr() string { return string(r.trans.LocalAddr()) }

// Raft is the underlying hashicorp/raft instance, for what this type does
// not wrap (LeaderCh, VerifyLeader, membership, stats).
func (r *Replica) Raft() *raft.Raft { return r.raft }

// Bootstrap makes servers, which must include this replica, the group's
// first configuration. Call it on one replica of a new group; on a replica
// that already has state it returns an error wrapping raft.ErrCantBootstrap.
func (r *Replica) Bootstrap(servers []Server) error {
	conf := raft.Configuration{}
	for _, s := range servers {
		conf.Servers = append(conf.Servers, raft.Server{
			Suffrage: raft.Voter, ID: raft.ServerID(s.ID), Address: raft.ServerAddress(s.Addr),
		})
	}
	if err := r.raft.BootstrapCluster(conf).Error(); err != nil {
		return fmt.Errorf("consensus: bootstrap: %w", err)
	}
	r.logger.Info("bootstrapped", "servers", len(servers))
	return nil
}

// IsLeader reports whether this replica believes it is the leader. Only
// VerifyLeader (through Raft) proves it.
func (r *Replica) IsLeader() bool { return r.raft.State() == raft.Leader }

// Leader returns the id and address of the leader this replica knows of,
// or empty strings.
func (r *Replica) Leader() (id, addr string) {
	a, i := r.raft.LeaderWithID()
	return string(i), string(a)
}

// Apply proposes data as a log entry and waits until it is committed and
// applied on this replica, which must be the leader: Propose, then Wait.
func (r *Replica) Apply(ctx context.Context, data []byte) (uint64, error) {
	p, err := r.Propose(ctx, data)
	if err != nil {
		return 0, err
	}
	return p.Wait(ctx)
}

// Proposal is a log entry handed to Raft by Propose.
type Proposal struct{ f raft.ApplyFuture }

// Propose hands data to Raft as a log entry and returns without waiting for
// it to commit, so a leader can have several entries in flight. Entries
// proposed one after another (by one goroutine) are committed in that order.
// If ctx has ended, Propose proposes nothing. This replica must be the
// leader; if it is not, or loses leadership, Wait reports it.
func (r *Replica) Propose(ctx context.Context, data []byte) (Proposal, error) {
	if err := ctx.Err(); err != nil {
		return Proposal{}, fmt.Errorf("consensus: propose: %w", err)
	}
	return Proposal{r.raft.Apply(data, enqueueTimeout(ctx))}, nil
}

// Wait waits until the entry is committed and applied on the proposing
// replica, and returns its index and the error of FSM.Apply for it. If ctx
// ends first, Wait returns ctx's error, and the entry may still commit.
func (p Proposal) Wait(ctx context.Context) (uint64, error) {
	if err := wait(ctx, p.f); err != nil {
		return 0, fmt.Errorf("consensus: apply: %w", err)
	}
	if err, ok := p.f.Response().(error); ok && err != nil {
		return p.f.Index(), fmt.Errorf("consensus: apply entry %d: %w", p.f.Index(), err)
	}
	return p.f.Index(), nil
}

// Barrier waits until every entry committed before it has been applied on
// this replica, which must be the leader. A new leader calls it before
// producing blocks, so it never builds on a stale head.
func (r *Replica) Barrier(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("consensus: barrier: %w", err)
	}
	if err := wait(ctx, r.raft.Barrier(enqueueTimeout(ctx))); err != nil {
		return fmt.Errorf("consensus: barrier: %w", err)
	}
	return nil
}

// enqueueTimeout is how long Raft may wait to accept a command: until
// ctx's deadline, or forever (0).
func enqueueTimeout(ctx context.Context) time.Duration {
	d, ok := ctx.Deadline()
	if !ok {
		return 0
	}
	return max(time.Until(d), time.Nanosecond)
}

// wait waits for f or for ctx. The goroutine it starts ends when f
// resolves, which Raft guarantees: on commit, lost leadership or shutdown.
func wait(ctx context.Context, f raft.Future) error {
	if ctx.Done() == nil {
		return f.Error()
	}
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close shuts Raft down (which closes the transport), then the log store.
// The replica leaves the group's configuration unchanged: to others it is
// just down.
func (r *Replica) Close() error {
	if r.closed.Swap(true) {
		return ErrClosed
	}
	err := r.raft.Shutdown().Error()
	if err != nil {
		err = fmt.Errorf("consensus: shutdown: %w", err)
	}
	return errors.Join(err, r.store.Close())
}

// removePartialSnapshots deletes the snapshots a crash left half written
// in dir: hashicorp/raft writes each into NAME.tmp and renames it when
// complete; it ignores a .tmp left behind but never removes it, so each
// crash during a snapshot would leave a copy of the state on disk.
func removePartialSnapshots(dir string) error {
	tmps, err := filepath.Glob(filepath.Join(dir, "*.tmp"))
	if err != nil {
		return fmt.Errorf("consensus: snapshots: %w", err)
	}
	for _, tmp := range tmps {
		if err := os.RemoveAll(tmp); err != nil {
			return fmt.Errorf("consensus: remove a partial snapshot: %w", err)
		}
	}
	return nil
}
