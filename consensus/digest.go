package consensus

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync/atomic"

	"github.com/hashicorp/raft"
)

// ErrBadDigestRange reports a LogDigests call whose range or step cannot be
// digested.
var ErrBadDigestRange = errors.New("consensus: bad log digest range")

// MaxDigestPoints bounds the points one LogDigests call returns.
const MaxDigestPoints = 1 << 14

// LogDigest is a replica's Raft log summed up so that two replicas' logs
// can be compared without shipping them: a SHA-256 digest per segment of
// entries, each entry taken as (index, term, type, data).
type LogDigest struct {
	First  uint64 // the first index in the log store (0: empty)
	Last   uint64 // the last index in the log store
	Commit uint64 // Raft's commit index when the digests were taken
	// Floor is the index of the snapshot this replica last restored (at
	// start, or installed from a leader), 0 if none. Entries at or below it
	// are never digested: after a snapshot is installed over a log that
	// had diverged, raft-boltdb keeps the old, uncommitted entries below the
	// snapshot (Raft compacts only up to the trailing logs), and they need
	// not match any other replica's.
	Floor uint64
	// From and To are the range the points cover: the range asked for,
	// clipped to (Floor, Commit] and to the log store's.
	From, To uint64
	Points   []LogPoint
}

// LogPoint is the digest of one segment of the log, ending at Index.
type LogPoint struct {
	Index  uint64
	Digest [sha256.Size]byte
}

// LogDigests digests the committed entries of this replica's log from
// index from to index to (0: the commit index), in segments cut after
// every multiple of every: the entries (k·every, (k+1)·every] that lie in
// the range make one point, at the segment's last index in the range. A
// segment with an entry the replica does not hold (compacted, at or below
// Floor, or beyond Commit) is left out. With every 0 it returns the bounds
// (First, Last, Commit, Floor) and no points.
//
// So two replicas asked with the same from and every report, at the same
// index, digests of the same entries, whatever each compacted: the
// entries must be equal where both have a point. Entries past the commit
// index are never read: an uncommitted tail may differ between replicas.
func (r *Replica) LogDigests(ctx context.Context, from, to, every uint64) (LogDigest, error) {
	d, err := r.logRange()
	if err != nil {
		return LogDigest{}, err
	}
	if from > to && to != 0 {
		return LogDigest{}, fmt.Errorf("%w: from %d is past to %d", ErrBadDigestRange, from, to)
	}
	if every == 0 {
		return d, nil
	}
	if to == 0 || to > d.Commit {
		to = d.Commit
	}
	d.From, d.To = max(from, 1), to
	if d.To >= d.From && (d.To-d.From)/every >= MaxDigestPoints {
		return LogDigest{}, fmt.Errorf("%w: %d..%d in steps of %d is more than %d points", ErrBadDigestRange, d.From, d.To, every, MaxDigestPoints)
	}
	if d.Points, err = r.digestSegments(ctx, d, every); err != nil {
		return LogDigest{}, err
	}
	return d, nil
}

// logRange reads the log store's bounds, the commit index and the floor.
// The commit index is read first: the log holds every entry up to it
// (but what compaction removes).
func (r *Replica) logRange() (LogDigest, error) {
	d := LogDigest{Commit: r.raft.CommitIndex(), Floor: r.floor.Load()}
	var err error
	if d.First, err = r.store.FirstIndex(); err != nil {
		return LogDigest{}, fmt.Errorf("consensus: log first index: %w", err)
	}
	if d.Last, err = r.store.LastIndex(); err != nil {
		return LogDigest{}, fmt.Errorf("consensus: log last index: %w", err)
	}
	return d, nil
}

// digestSegments walks d.From..d.To and returns a point per segment of
// every entries held entirely.
func (r *Replica) digestSegments(ctx context.Context, d LogDigest, every uint64) ([]LogPoint, error) {
	var out []LogPoint
	h := sha256.New()
	whole := true // every entry of the current segment so far was digested
	var l raft.Log
	for i := d.From; i <= d.To && i != 0; i++ {
		if i%1024 == 0 && ctx.Err() != nil {
			return nil, fmt.Errorf("consensus: log digests: %w", ctx.Err())
		}
		switch err := r.store.GetLog(i, &l); {
		case err == nil && i > d.Floor:
			hashEntry(h, &l)
		case err == nil || errors.Is(err, raft.ErrLogNotFound):
			whole = false
		default:
			return nil, fmt.Errorf("consensus: log digests: entry %d: %w", i, err)
		}
		if i%every == 0 || i == d.To {
			if whole {
				p := LogPoint{Index: i}
				h.Sum(p.Digest[:0])
				out = append(out, p)
			}
			h.Reset()
			whole = true
		}
	}
	return out, nil
}

// hashEntry writes one entry into h: index, term, type and data, the data
// length-prefixed so that entries cannot run into each other.
func hashEntry(h hash.Hash, l *raft.Log) {
	var hdr [8 + 8 + 1 + 8]byte
	binary.BigEndian.PutUint64(hdr[0:], l.Index)
	binary.BigEndian.PutUint64(hdr[8:], l.Term)
	hdr[16] = byte(l.Type)
	binary.BigEndian.PutUint64(hdr[17:], uint64(len(l.Data)))
	h.Write(hdr[:])
	h.Write(l.Data)
}

// floorFSM is a raftFSM that records, in floor, the index of every
// snapshot Raft restores: at start, and when a leader installs one.
type floorFSM struct {
	raftFSM
	floor *atomic.Uint64
}

func (f floorFSM) Restore(rc io.ReadCloser) error {
	if err := f.raftFSM.Restore(rc); err != nil {
		return err
	}
	f.floor.Store(f.applied.Load())
	return nil
}
