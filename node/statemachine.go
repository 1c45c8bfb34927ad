package node

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/dualchain/dualchain/bridge"
	"github.com/dualchain/dualchain/coldchain"
	"github.com/dualchain/dualchain/consensus"
	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/internal/failpoint"
	"github.com/dualchain/dualchain/ledger"
	"github.com/jonboulle/clockwork"
)

// stateMachine is the node's Raft state machine: the hot chain in the
// store, the cold chain on disk, and the directory of members' API URLs.
// Every node applies the same committed entries through it, the leader
// included. Raft calls Apply, Snapshot and Restore from one goroutine; mu
// also keeps a rebuild started elsewhere (a reader saw the store wiped)
// out of their way.
//
// Hot state is always the cold chain's mirror (as of the last cold block)
// plus dirty, the hot writes since: that is what a snapshot holds, and
// what a store that lost its state is rebuilt from.
type stateMachine struct {
	chain   *chain
	cold    *coldchain.Chain
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
	// coldApplied is told of each cold block once it is on disk.
	coldApplied func(b *ledger.ColdBlock)
	// crashAt, if set, is asked at each crash point of applying an entry
	// (crashPoints); true stops the node there, as a kill would (tests).
	crashAt  func(point string) bool
	restores atomic.Int64 // snapshots restored into the store
	rebuilds atomic.Int64 // rebuilds of a store that lost its state
	// archived is the height of the last block archived as it was applied
	// (or of a restored snapshot's head): a block is in the store a moment
	// before it is in the archive, and trace reads wait for it (trace.go).
	archived atomic.Uint64

	mu     sync.Mutex
	broken bool // an entry Raft counts as applied was not (see errBroken)
	// position is the index of the last entry applied (or skipped), and
	// logHead the hot head there. The store's head (chain.Head) can be
	// ahead of it while Raft replays the log after a restart with the
	// store kept; blocks, checkpoints and snapshots follow the log's.
	position uint64
	logHead  hotchain.Meta
	// dirty holds the hot writes made since the last cold block, by key
	// (an empty value is a delete); at genesis, the genesis state. It is
	// a function of the log alone, so every node holds the same.
	dirty     map[string][]byte
	dirtySize atomic.Int64 // len(dirty), for the checkpointer
}

// resetDirty starts dirty over from writes.
func (s *stateMachine) resetDirty(writes map[string][]byte) {
	s.dirty = writes
	s.dirtySize.Store(int64(len(writes)))
}

// fold records a hot block's writes in dirty.
func (s *stateMachine) fold(writes []ledger.Write) {
	if s.dirty == nil {
		s.dirty = make(map[string][]byte)
	}
	for _, w := range writes {
		s.dirty[string(w.Key)] = w.Value
	}
	s.dirtySize.Store(int64(len(s.dirty)))
}

// nextInterval starts dirty over after a cold block. The next interval
// writes about as many keys as the last: sized so, dirty does not grow
// (and rehash) its way there again.
func (s *stateMachine) nextInterval() {
	s.resetDirty(make(map[string][]byte, len(s.dirty)))
}

// changedSinceCheckpoint reports whether hot state changed since the last
// cold block.
func (s *stateMachine) changedSinceCheckpoint() bool { return s.dirtySize.Load() > 0 }

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
	if e.Index <= s.position {
		return nil // applied already (a snapshot restored past it)
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
	var err error
	switch {
	case d.member != nil:
		s.dir.set(*d.member)
	case d.cold != nil:
		err = s.applyCold(e.Index, d.cold)
	default:
		err = s.applyBlock(d.update, d.block, d.traces)
	}
	if err == nil || errors.Is(err, errStaleBlock) {
		s.position = e.Index
	}
	return err
}

// applyCold applies a cold block on disk: the checkpoint of the hot head
// here, the hot writes since the previous one, the settlements and
// credited deposits found in them, and the cold transactions. A block
// already on disk (a replay) changes nothing there, and dirty starts over
// either way.
func (s *stateMachine) applyCold(index uint64, e *coldEntry) error {
	head := s.logHead
	cp := bridge.Scan(s.dirty)
	in := coldchain.BlockInput{
		Index: index, Time: e.Time, Mirror: s.dirty,
		Checkpoint: ledger.Checkpoint{HotHeight: head.Height, HotHash: head.Head, Commitment: head.Commitment.Digest()},
		Cleaned:    cp.Cleaned,
	}
	for _, x := range cp.Escrows {
		in.Settlements = append(in.Settlements, coldchain.Settlement{Transfer: x.Transfer, HotKey: x.Key})
	}
	for _, c := range cp.Credits {
		in.Credits = append(in.Credits, coldchain.Credit{ID: c.ID, HotHeight: c.HotHeight, HotKey: c.Key})
	}
	for i := range e.Txs {
		tx := &e.Txs[i]
		ct, err := coldTx(tx, tx.ID())
		if err != nil {
			ct.Kind = 0 // the block records it as failed: the leader admits none such
		}
		in.Txs = append(in.Txs, ct)
	}
	if err := s.crash(crashColdBefore); err != nil {
		return err
	}
	if len(in.Settlements) > 0 {
		if err := s.crash(failpoint.SettleCredit); err != nil {
			return err
		}
	}
	b, err := s.cold.Apply(in)
	if err == nil {
		if err := s.crash(crashColdApplied); err != nil {
			return err
		}
	}
	if err != nil {
		// The disk failed or the cold state is corrupt: retrying will
		// not help, and skipping would fork this node's cold chain.
		err = fmt.Errorf("node: apply cold block at %d: %w", index, err)
		s.fail(err)
		return err
	}
	s.nextInterval()
	if b != nil {
		s.coldApplied(b)
	}
	return nil
}

// applyBlock applies u, whose block is encoded as block, and archives it
// with the VM traces of its transactions. A block that does not extend the
// hot head at this place in the log is skipped, by every node alike and on
// every replay.
func (s *stateMachine) applyBlock(u *hotchain.Update, block []byte, traces []hotchain.TxTrace) error {
	if h := u.Block.Header; h.Height != s.logHead.Height+1 || h.Parent != s.logHead.Head {
		s.logger.Warn("committed block does not extend the head; skipping it", "index", u.Index,
			"height", h.Height, "head", s.logHead.Height)
		return fmt.Errorf("%w: block %d at index %d, head %d", errStaleBlock, h.Height, u.Index, s.logHead.Height)
	}
	for attempt := 0; ; attempt++ {
		err := s.chain.applyOnce(s.ctx, u)
		if err == nil {
			if err := s.crashAfterHot(u); err != nil {
				return err
			}
		}
		if err == nil {
			err = s.archive.PutWithTraces(u.Block, block, traces)
		}
		if err == nil {
			s.fold(u.Block.Writes)
			s.logHead = hotchain.Meta{Genesis: s.logHead.Genesis, Index: u.Index, Height: u.Block.Header.Height,
				Head: u.Block.Header.Hash(), Commitment: u.Commitment}
			s.archived.Store(u.Block.Header.Height)
			s.applied(u)
			return nil
		}
		if errors.Is(err, hotchain.ErrNotNext) || errors.Is(err, hotchain.ErrWiped) {
			// u extends the head: the store is behind it (wiped or rolled
			// back). Rebuild it, then apply u on top.
			s.logger.Warn("store is not at the head (wiped or rolled back); rebuilding it from the cold mirror and the writes since",
				"index", u.Index, "cause", err)
			if err = s.rebuild(); err == nil {
				continue
			}
			if errors.Is(err, errBroken) {
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
	s.logger.Warn("store is not at the head (wiped or rolled back); rebuilding it from the cold mirror and the writes since", "index", s.position)
	return s.rebuild()
}

// rebuild brings a store that lost its state (or went back in time) to
// the state at the head: the cold chain's mirror plus the hot writes since
// the last cold block. It never writes a block onto an empty store. Reads
// are refused meanwhile.
func (s *stateMachine) rebuild() error {
	if s.cold.AppliedIndex() > s.position {
		// Replaying the log after a restart, behind the cold chain on
		// disk: its mirror is ahead of the head. A restart restores the
		// latest snapshot, which holds the mirror it needs.
		err := fmt.Errorf("%w: the store lost its state while the node replayed its log (at %d, cold chain at %d); restart the node",
			errBroken, s.position, s.cold.AppliedIndex())
		s.fail(err)
		return err
	}
	s.chain.rebuilding.Store(true)
	defer s.chain.rebuilding.Store(false)
	if _, err := s.chain.store.Open(s.ctx, s.chain.gen); err != nil {
		return err
	}
	meta, err := s.restoreHot(s.logHead)
	if err != nil {
		return err
	}
	s.chain.setHead(meta)
	s.rebuilds.Add(1)
	s.rebuilt()
	s.logger.Info("store rebuilt from the cold mirror and the writes since", "index", meta.Index, "height", meta.Height)
	return nil
}

// restoreHot writes the hot state at head into the store: the cold
// mirror plus dirty.
func (s *stateMachine) restoreHot(head hotchain.Meta) (hotchain.Meta, error) {
	state := make(map[string][]byte)
	err := s.cold.ScanMirror(func(k, v []byte) error {
		state[string(k)] = bytes.Clone(v)
		return nil
	})
	if err != nil {
		return hotchain.Meta{}, fmt.Errorf("node: read the cold mirror: %w", err)
	}
	for k, v := range s.dirty {
		if len(v) == 0 {
			delete(state, k)
		} else {
			state[k] = v
		}
	}
	snap := &hotchain.Snapshot{Meta: head, Writes: make([]ledger.Write, 0, len(state))}
	snap.Meta.Genesis = s.chain.gen.Hash
	for _, k := range slices.Sorted(maps.Keys(state)) {
		snap.Writes = append(snap.Writes, ledger.Write{Key: []byte(k), Value: state[k]})
	}
	meta, err := s.chain.store.Restore(s.ctx, snap)
	if err != nil {
		return meta, fmt.Errorf("node: restore hot state at index %d: %w", head.Index, err)
	}
	s.restores.Add(1)
	return meta, nil
}

// Crash points of applying an entry, for tests of what a kill there does
// (failpoint.Points describes them).
const (
	crashHotApplied  = failpoint.HotApplied
	crashColdBefore  = failpoint.ColdBefore
	crashColdApplied = failpoint.ColdApplied
)

// crashPoints lists them.
var crashPoints = []string{crashHotApplied, crashColdBefore, crashColdApplied}

// errCrashed is what applying an entry returns at a crash point.
var errCrashed = errors.New("node: stopped at a crash point (test)")

// crash evaluates point: its failpoint (a crash exits the process there,
// a sleep sleeps) and the tests' crashAt. It returns the error that stops
// the node there (errCrashed, or an injected one: a failed step is not
// skipped), or nil to go on.
func (s *stateMachine) crash(point string) error {
	err := failpoint.Inject(point)
	if err == nil && s.crashAt != nil && s.crashAt(point) {
		err = errCrashed
	}
	if err == nil {
		return nil
	}
	s.logger.Warn("crash point reached; stopping", "point", point, "err", err)
	s.fail(err)
	return err
}

// crashAfterHot evaluates the crash points of a hot block in the store:
// hot-applied, and deposit-credit if it writes a bridge record (looked
// for in failpoints builds only: it costs a pass over the block's writes).
func (s *stateMachine) crashAfterHot(u *hotchain.Update) error {
	if err := s.crash(crashHotApplied); err != nil || !failpoint.Enabled {
		return err
	}
	for _, w := range u.Block.Writes {
		if bridge.IsRecord(w.Key) && len(w.Value) > 0 {
			return s.crash(failpoint.DepositCredit)
		}
	}
	return nil
}

// fail stops the node on a failure retrying cannot fix.
func (s *stateMachine) fail(err error) {
	s.broken = true
	s.logger.Error("cannot apply a committed entry; stopping", "err", err)
	s.fatal(err)
}

// Snapshot copies the state as of the last applied entry: the directory,
// the hot head, the hot writes since the last cold block, and the cold
// chain (a Pebble snapshot, read later by Persist while applies go on).
// It reads nothing from the store: hot state is the cold mirror plus the
// writes since, so the snapshot's cost grows with the cold chain.
func (s *stateMachine) Snapshot() (consensus.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken {
		return nil, errBroken
	}
	if err := failpoint.Inject(failpoint.Snapshot); err != nil {
		return nil, err
	}
	// Raft compacts the log behind a snapshot: the blocks archived from
	// it must be on disk first.
	if err := s.archive.Sync(); err != nil {
		return nil, err
	}
	if at := s.cold.AppliedIndex(); at > s.position {
		return nil, fmt.Errorf("node: no snapshot while replaying the log behind the cold chain (at %d, cold chain at %d)", s.position, at)
	}
	cold, err := s.cold.Snapshot()
	if err != nil {
		return nil, err
	}
	head := s.logHead
	c, err := head.Commitment.MarshalBinary()
	if err != nil {
		cold.Release()
		return nil, err
	}
	hdr := snapshotHeader{
		Members: s.dir.list(), Index: s.position, ColdIndex: cold.Index(),
		Genesis: s.chain.gen.Hash, HotIndex: head.Index, HotHeight: head.Height, HotHead: head.Head, Commitment: c,
		Dirty: make([]ledger.Write, 0, len(s.dirty)),
	}
	for _, k := range slices.Sorted(maps.Keys(s.dirty)) {
		hdr.Dirty = append(hdr.Dirty, ledger.Write{Key: []byte(k), Value: s.dirty[k]})
	}
	return &stateSnapshot{hdr: hdr, cold: cold}, nil
}

// Restore replaces the state with a snapshot's. Each store is kept when it
// already holds the snapshot's state or a later one (a node restarting
// with its Redis and disk intact): Raft's replay of the log then skips
// what it has applied. Otherwise the cold chain is restored from the
// snapshot, and the hot store from the cold mirror plus the snapshot's
// writes since; a cold chain ahead of the snapshot is rolled back to it
// when the hot store needs its mirror (the log replays what follows).
func (s *stateMachine) Restore(r io.Reader) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := failpoint.Inject(failpoint.Restore); err != nil {
		return err
	}
	hdr, rest, err := readSnapshotHeader(r)
	if err != nil {
		return err
	}
	if hdr.Genesis != s.chain.gen.Hash {
		return fmt.Errorf("%w: snapshot of chain %s, this node is on %s", hotchain.ErrBadSnapshot, hdr.Genesis, s.chain.gen.Hash)
	}
	var commitment hotchain.Commitment
	if err := commitment.UnmarshalBinary(hdr.Commitment); err != nil {
		return fmt.Errorf("%w: commitment: %w", hotchain.ErrBadSnapshot, err)
	}
	head := hotchain.Meta{Genesis: hdr.Genesis, Index: hdr.HotIndex, Height: hdr.HotHeight, Head: hdr.HotHead, Commitment: commitment}
	if err := s.markBackfill(head); err != nil { // the history below head is fetched from peers
		return fmt.Errorf("node: record the archive's gap below the snapshot: %w", err)
	}
	s.dir.replace(hdr.Members)
	meta, err := s.chain.store.Meta(s.ctx)
	keepHot := err == nil && meta.Genesis == hdr.Genesis && meta.Index >= head.Index
	coldAt := s.cold.AppliedIndex()
	if coldAt < hdr.ColdIndex || !keepHot && coldAt != hdr.ColdIndex {
		if err := s.cold.Restore(rest); err != nil {
			return fmt.Errorf("node: restore cold chain: %w", err)
		}
		s.logger.Info("restored the cold chain from the snapshot", "cold_index", hdr.ColdIndex, "was", coldAt)
	}
	dirty := make(map[string][]byte, len(hdr.Dirty))
	for _, w := range hdr.Dirty {
		dirty[string(w.Key)] = w.Value
	}
	s.resetDirty(dirty)
	s.position, s.logHead = hdr.Index, head
	s.archived.Store(head.Height) // the blocks below are backfilled, if at all, without traces
	if keepHot {
		s.logger.Info("store already holds the snapshot's state; keeping it", "store_index", meta.Index, "snapshot_index", head.Index)
		s.chain.setHead(meta)
		return nil
	}
	s.chain.rebuilding.Store(true)
	defer s.chain.rebuilding.Store(false)
	if _, err := s.chain.store.Open(s.ctx, s.chain.gen); err != nil {
		return err
	}
	if meta, err = s.restoreHot(head); err != nil {
		return err
	}
	s.chain.setHead(meta)
	s.rebuilt()
	s.logger.Info("restored hot state from the cold mirror and the snapshot's writes", "index", meta.Index, "height", meta.Height, "writes", len(hdr.Dirty))
	return nil
}

// snapshotHeader is the first part of a state snapshot; the cold chain's
// snapshot stream follows it.
type snapshotHeader struct {
	_          struct{} `cbor:",toarray"`
	Members    []memberInfo
	Index      uint64 // the last entry applied
	ColdIndex  uint64 // the last cold block's entry
	Genesis    ledger.Hash
	HotIndex   uint64 // the hot head: its entry, height, hash and commitment
	HotHeight  uint64
	HotHead    ledger.Hash
	Commitment []byte
	Dirty      []ledger.Write // the hot writes since the last cold block, by key
}

// stateSnapshot is the state machine's snapshot.
type stateSnapshot struct {
	hdr  snapshotHeader
	cold *coldchain.Snapshot
}

// snapshotMagic starts a state snapshot; its last byte is the version.
var snapshotMagic = [4]byte{'d', 'c', 's', 2}

// maxSnapshotHeader bounds the header read from a snapshot: the hot
// writes of one checkpoint interval.
const maxSnapshotHeader = 1 << 30

func (s *stateSnapshot) Persist(w io.Writer) error {
	hdr, err := ledger.Marshal(s.hdr)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.Write(snapshotMagic[:])
	bw.Write(binary.AppendUvarint(nil, uint64(len(hdr))))
	bw.Write(hdr)
	if err := failpoint.Inject(failpoint.SnapshotPersist); err != nil {
		return err // Raft drops the half-written snapshot
	}
	if _, err := s.cold.WriteTo(bw); err != nil {
		return err
	}
	return bw.Flush()
}

func (s *stateSnapshot) Release() { s.cold.Release() }

// readSnapshotHeader reads the header Persist wrote, and returns the
// reader positioned at the cold chain's stream. Input it refuses wraps
// hotchain.ErrBadSnapshot.
func readSnapshotHeader(r io.Reader) (*snapshotHeader, io.Reader, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var magic [4]byte
	if _, err := io.ReadFull(br, magic[:]); err != nil || magic != snapshotMagic {
		return nil, nil, fmt.Errorf("%w: not a dualchain state snapshot of version %d", hotchain.ErrBadSnapshot, snapshotMagic[3])
	}
	n, err := binary.ReadUvarint(br)
	if err != nil || n > maxSnapshotHeader {
		return nil, nil, fmt.Errorf("%w: header length", hotchain.ErrBadSnapshot)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(br, buf); err != nil {
		return nil, nil, fmt.Errorf("%w: header: %w", hotchain.ErrBadSnapshot, err)
	}
	hdr := new(snapshotHeader)
	if err := ledger.Unmarshal(buf, hdr); err != nil {
		return nil, nil, fmt.Errorf("%w: header: %w", hotchain.ErrBadSnapshot, err)
	}
	return hdr, br, nil
}
