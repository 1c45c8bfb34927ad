package node

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/dualchain/dualchain/consensus"
	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/ledger"
	"github.com/jonboulle/clockwork"
)

// stateMachine is the node's Raft state machine: the hot chain in the store
// and the directory of members' API URLs. Every node applies the same
// committed entries through it, the leader included. Raft calls Apply,
// Snapshot and Restore from one goroutine; mu also keeps a rebuild started
// elsewhere (a reader saw the store wiped) out of their way.
type stateMachine struct {
	chain   *chain
	archive *hotchain.Archive // every applied block, on disk
	dir     *directory
	logger  *slog.Logger
	clock   clockwork.Clock
	ctx     context.Context          // ends when the node closes: retries stop
	applied func(u *hotchain.Update) // told of each block once it is in the store
	// local finds an entry this node proposed (the leader's blocks in
	// flight), so the leader need not decode its own blocks; nil: none.
	local   func(index uint64, data []byte) (decodedEntry, bool)
	rebuilt func()      // told when the store was rebuilt: reads before it may be stale
	fatal   func(error) // a failure retrying cannot fix: the node stops
	// replica holds the latest snapshot and the log after it, which a
	// store that lost its state is rebuilt from; set once Raft is open.
	replica atomic.Pointer[consensus.Replica]

	restores atomic.Int64 // snapshots restored into the store
	rebuilds atomic.Int64 // rebuilds of a store that lost its state

	mu     sync.Mutex
	broken bool // an entry Raft counts as applied was not (see errBroken)
}

var _ consensus.FSM = (*stateMachine)(nil)

// Apply applies a committed entry. A block is retried until it is in the
// store (a Redis that is down holds up this node, never the log), rebuilt
// onto a store that lost its state, and skipped by every node alike if it
// does not extend the head.
func (s *stateMachine) Apply(e consensus.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken {
		return errBroken
	}
	d, ok := decodedEntry{}, false
	if s.local != nil {
		d, ok = s.local(e.Index, e.Data)
	}
	if !ok {
		var err error
		if d, err = decodeEntry(e.Index, e.Data); err != nil {
			err = fmt.Errorf("%w: %w", errBadEntry, err)
			s.fail(err)
			return err
		}
	}
	if d.member != nil {
		s.dir.set(*d.member)
		return nil
	}
	return s.applyBlock(d.update, d.block)
}

// applyBlock applies u, whose block is encoded as block, and archives it.
func (s *stateMachine) applyBlock(u *hotchain.Update, block []byte) error {
	for attempt := 0; ; attempt++ {
		err := s.chain.applyOnce(s.ctx, u)
		if err == nil {
			err = s.archive.Put(u.Block, block)
		}
		if err == nil {
			s.applied(u)
			return nil
		}
		if errors.Is(err, hotchain.ErrNotNext) || errors.Is(err, hotchain.ErrWiped) {
			err = s.recover(u, err)
			if err == nil {
				continue // rebuilt: apply u on top
			}
			if errors.Is(err, errStaleBlock) {
				return err
			}
		}
		switch {
		case permanent(err):
			s.fail(err)
			return fmt.Errorf("node: apply entry %d: %w", u.Index, err)
		case s.ctx.Err() != nil:
			s.broken = true
			return fmt.Errorf("node: apply entry %d: %w: %w", u.Index, errBroken, err)
		}
		s.logger.Error("apply failed; retrying", "index", u.Index, "attempt", attempt, "err", err)
		select {
		case <-s.ctx.Done():
		case <-s.clock.After(backoff(attempt)):
		}
	}
}

// recover handles a block the store refused as not next (cause ErrNotNext)
// or because it lost its state (ErrWiped). If the store is at the head, the
// block is stale (errStaleBlock); otherwise the store is rebuilt up to the
// entry before u.
func (s *stateMachine) recover(u *hotchain.Update, cause error) error {
	if errors.Is(cause, hotchain.ErrNotNext) {
		ok, err := s.chain.atHead(s.ctx)
		if err != nil {
			return err
		}
		if ok {
			s.logger.Warn("committed block does not extend the head; skipping it", "index", u.Index,
				"height", u.Block.Header.Height, "head", s.chain.Head().Height)
			return fmt.Errorf("%w: %w", errStaleBlock, cause)
		}
	}
	s.logger.Warn("store is not at the head (wiped or rolled back); rebuilding it from the latest snapshot and the Raft log",
		"index", u.Index, "cause", cause)
	return s.rebuild(u.Index - 1)
}

// check rebuilds the store if it is not at the head: a reader saw it wiped,
// or a periodic check found it rolled back.
func (s *stateMachine) check() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken {
		return nil
	}
	ok, err := s.chain.atHead(s.ctx)
	if err != nil || ok {
		return err
	}
	target := s.chain.Head().Index
	s.logger.Warn("store is not at the head (wiped or rolled back); rebuilding it from the latest snapshot and the Raft log", "index", target)
	return s.rebuild(target)
}

// rebuild brings a store that lost its state (or went back in time) to the
// state after entry upTo: genesis or the newest snapshot, then the log. It
// never writes a block onto an empty store. Reads are refused meanwhile.
func (s *stateMachine) rebuild(upTo uint64) error {
	src := s.replica.Load()
	if src == nil {
		return errors.New("node: cannot rebuild the store before Raft is open")
	}
	s.chain.rebuilding.Store(true)
	defer s.chain.rebuilding.Store(false)
	for attempt := 0; ; attempt++ {
		err := s.rebuildOnce(src, upTo)
		if !errors.Is(err, consensus.ErrCompacted) || attempt == 3 {
			if err == nil {
				s.rebuilds.Add(1)
				s.rebuilt()
				s.logger.Info("store rebuilt", "index", s.chain.Head().Index, "height", s.chain.Head().Height)
			}
			return err
		}
		// A snapshot taken meanwhile compacted the log: start from it.
	}
}

func (s *stateMachine) rebuildOnce(src *consensus.Replica, upTo uint64) error {
	meta, err := s.chain.store.Open(s.ctx, s.chain.gen)
	if err != nil {
		return err
	}
	from := meta.Index
	snapIndex, rc, err := src.LatestSnapshot()
	if err != nil {
		return err
	}
	if rc != nil {
		defer rc.Close()
		if snapIndex > meta.Index {
			snap, err := readStateSnapshot(rc)
			if err != nil {
				return fmt.Errorf("node: snapshot at %d: %w", snapIndex, err)
			}
			if meta, err = s.chain.store.Restore(s.ctx, snap.hot); err != nil {
				return fmt.Errorf("node: restore snapshot at %d: %w", snapIndex, err)
			}
			s.restores.Add(1)
			from = snapIndex
		}
	}
	s.chain.setHead(meta)
	return src.Entries(from+1, upTo, func(e consensus.Entry) error {
		d, err := decodeEntry(e.Index, e.Data)
		if err != nil || d.update == nil {
			return err // the directory is already current
		}
		err = s.chain.applyOnce(s.ctx, d.update)
		if errors.Is(err, hotchain.ErrNotNext) {
			if ok, merr := s.chain.atHead(s.ctx); merr == nil && ok {
				return nil // stale when it committed; skipped then too
			}
		}
		if err != nil {
			return err
		}
		return s.archive.Put(d.update.Block, d.block)
	})
}

// fail stops the node on a failure retrying cannot fix.
func (s *stateMachine) fail(err error) {
	s.broken = true
	s.logger.Error("cannot apply a committed entry; stopping", "err", err)
	s.fatal(err)
}

// Snapshot copies the state as of the last applied entry. It reads the
// whole store, holding up applies meanwhile, which is why snapshots are
// infrequent; Persist then writes the copy out while applies go on.
func (s *stateMachine) Snapshot() (consensus.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken {
		return nil, errBroken
	}
	// Raft compacts the log behind a snapshot: the blocks archived from
	// it must be on disk first.
	if err := s.archive.Sync(); err != nil {
		return nil, err
	}
	hot, err := s.chain.store.Snapshot(s.ctx)
	if err != nil {
		return nil, err
	}
	return &stateSnapshot{members: s.dir.list(), hot: hot}, nil
}

// Restore replaces the state with a snapshot's, unless the store already
// holds that state or a later one (a node restarting with its Redis
// intact): then the store stays, and Raft's replay of the log skips what
// the store has applied.
func (s *stateMachine) Restore(r io.Reader) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap, err := readStateSnapshot(r)
	if err != nil {
		return err
	}
	s.dir.replace(snap.members)
	if meta, err := s.chain.store.Meta(s.ctx); err == nil && meta.Genesis == snap.hot.Meta.Genesis &&
		meta.Index >= snap.hot.Meta.Index {
		s.logger.Info("store already holds the snapshot's state; keeping it", "store_index", meta.Index, "snapshot_index", snap.hot.Meta.Index)
		s.chain.setHead(meta)
		return nil
	}
	s.chain.rebuilding.Store(true)
	defer s.chain.rebuilding.Store(false)
	meta, err := s.chain.store.Restore(s.ctx, snap.hot)
	if err != nil {
		return fmt.Errorf("node: restore snapshot: %w", err)
	}
	s.chain.setHead(meta)
	s.restores.Add(1)
	s.logger.Info("restored snapshot", "index", meta.Index, "height", meta.Height, "keys", len(snap.hot.Writes))
	return nil
}

// stateSnapshot is the state machine's snapshot: the directory, then the
// hot state (hotchain's snapshot stream).
type stateSnapshot struct {
	members []memberInfo
	hot     *hotchain.Snapshot
}

// snapshotMagic starts a state snapshot; its last byte is the version.
var snapshotMagic = [4]byte{'d', 'c', 's', 1}

// maxDirectoryBytes bounds the directory read from a snapshot.
const maxDirectoryBytes = 1 << 20

func (s *stateSnapshot) Persist(w io.Writer) error {
	members, err := ledger.Marshal(s.members)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.Write(snapshotMagic[:])
	bw.Write(binary.AppendUvarint(nil, uint64(len(members))))
	bw.Write(members)
	if _, err := s.hot.WriteTo(bw); err != nil {
		return err
	}
	return bw.Flush()
}

func (s *stateSnapshot) Release() {}

// readStateSnapshot reads what Persist wrote; input it refuses wraps
// hotchain.ErrBadSnapshot.
func readStateSnapshot(r io.Reader) (*stateSnapshot, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var magic [4]byte
	if _, err := io.ReadFull(br, magic[:]); err != nil || magic != snapshotMagic {
		return nil, fmt.Errorf("%w: not a dualchain state snapshot (version %d)", hotchain.ErrBadSnapshot, magic[3])
	}
	n, err := binary.ReadUvarint(br)
	if err != nil || n > maxDirectoryBytes {
		return nil, fmt.Errorf("%w: directory length", hotchain.ErrBadSnapshot)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(br, buf); err != nil {
		return nil, fmt.Errorf("%w: directory: %w", hotchain.ErrBadSnapshot, err)
	}
	snap := &stateSnapshot{}
	if err := ledger.Unmarshal(buf, &snap.members); err != nil {
		return nil, fmt.Errorf("%w: directory: %w", hotchain.ErrBadSnapshot, err)
	}
	if snap.hot, err = hotchain.ReadSnapshot(br); err != nil {
		return nil, err
	}
	return snap, nil
}
