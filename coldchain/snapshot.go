package coldchain

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// A snapshot of the cold chain is every record of its database, from one
// point in time:
//
//	magic "dcc" 1
//	records: uvarint(len(key)) key uvarint(len(value)) value, in key order
//	uvarint(0)                    (no key is empty)
//	SHA-256 of everything before it
var coldSnapshotMagic = [4]byte{'d', 'c', 'c', 1}

// ErrBadSnapshot: a snapshot stream is malformed or its checksum fails.
var ErrBadSnapshot = errors.New("coldchain: bad snapshot")

// ErrSnapshotOpen: Restore cannot replace the database while a snapshot
// of it is open (Raft may be persisting it); it can once that is released.
var ErrSnapshotOpen = errors.New("coldchain: a snapshot of the chain is open")

// maxSnapshotRecord bounds one key or value read from a snapshot.
const maxSnapshotRecord = 64 << 20

// Snapshot is a point-in-time copy of the chain, read while applies go on.
type Snapshot struct {
	snap  *pebble.Snapshot
	index uint64
	open  *atomic.Int64 // the chain's count of open snapshots
}

// Snapshot captures the chain as it is now: cheap, it reads nothing.
// Release it when done.
func (c *Chain) Snapshot() (*Snapshot, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return nil, ErrClosed
	}
	c.snapshots.Add(1)
	return &Snapshot{snap: c.st.db.NewSnapshot(), index: c.st.AppliedIndex(), open: &c.snapshots}, nil
}

// Index is the log index of the last cold block in the snapshot.
func (s *Snapshot) Index() uint64 { return s.index }

// Release frees the snapshot.
func (s *Snapshot) Release() {
	_ = s.snap.Close() // panics if released twice
	s.open.Add(-1)
}

// WriteTo writes the snapshot's records to w.
func (s *Snapshot) WriteTo(w io.Writer) (int64, error) {
	h := sha256.New()
	cw := &countingWriter{w: io.MultiWriter(w, h)}
	bw := bufio.NewWriterSize(cw, 1<<20)
	bw.Write(coldSnapshotMagic[:])
	it, err := s.snap.NewIter(nil)
	if err != nil {
		return cw.n, err
	}
	var buf []byte
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return cw.n, err
		}
		buf = binary.AppendUvarint(buf[:0], uint64(len(it.Key())))
		buf = append(buf, it.Key()...)
		buf = binary.AppendUvarint(buf, uint64(len(v)))
		bw.Write(buf)
		bw.Write(v)
	}
	if err := it.Close(); err != nil {
		return cw.n, err
	}
	bw.Write([]byte{0})
	if err := bw.Flush(); err != nil {
		return cw.n, err
	}
	n, err := w.Write(h.Sum(nil))
	return cw.n + int64(n), err
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Restore replaces the chain's database with a snapshot's records. It
// writes them into a new database beside the old one, synced, and only
// then swaps the two: a crash at any point leaves the old database or the
// new one whole (OpenChain finishes a swap a crash interrupted). It
// refuses, changing nothing, while a Snapshot of the chain is open
// (ErrSnapshotOpen). If the swap fails the chain is closed; OpenChain
// opens whichever database is whole.
func (c *Chain) Restore(r io.Reader) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	// Closing the database under an open snapshot would fail the Close
	// and the snapshot's reads. No snapshot opens while c.mu is held.
	if n := c.snapshots.Load(); n > 0 {
		return fmt.Errorf("%w: %d open", ErrSnapshotOpen, n)
	}
	fs := c.fs()
	tmp, old := c.cfg.Dir+".restore", c.cfg.Dir+".old"
	if err := fs.RemoveAll(tmp); err != nil {
		return err
	}
	if err := writeRestore(c.cfg, tmp, r); err != nil {
		_ = fs.RemoveAll(tmp)
		return err
	}
	if err := c.swap(fs, tmp, old); err != nil {
		c.closed = true // the old database is closed: answer ErrClosed, not a nil pointer
		return err
	}
	return nil
}

// swap closes the chain's database, puts the restored one at tmp in its
// place, and opens that.
func (c *Chain) swap(fs vfs.FS, tmp, old string) error {
	if err := c.st.Close(); err != nil && !errors.Is(err, ErrClosed) {
		return err
	}
	if err := fs.Rename(c.cfg.Dir, old); err != nil {
		return err
	}
	if err := fs.Rename(tmp, c.cfg.Dir); err != nil {
		return err
	}
	if err := syncParent(fs, c.cfg.Dir); err != nil {
		return err
	}
	if err := fs.RemoveAll(old); err != nil {
		return err
	}
	st, err := Open(c.cfg)
	if err != nil {
		return err
	}
	c.st = st
	if err := c.loadHead(); err != nil {
		_ = st.Close()
		return err
	}
	return nil
}

func (c *Chain) fs() vfs.FS {
	if c.cfg.FS != nil {
		return c.cfg.FS
	}
	return vfs.Default
}

// writeRestore reads a snapshot from r into a new database at dir, and
// syncs it.
func writeRestore(cfg Config, dir string, r io.Reader) error {
	cfg.Dir = dir
	st, err := Open(cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	br := bufio.NewReaderSize(r, 1<<20)
	hr := &hashingReader{r: br, h: sha256.New()}
	var magic [4]byte
	if _, err := io.ReadFull(hr, magic[:]); err != nil || magic != coldSnapshotMagic {
		return fmt.Errorf("%w: not a cold chain snapshot", ErrBadSnapshot)
	}
	b := st.db.NewBatch()
	for {
		key, err := readField(hr)
		if err != nil {
			return err
		}
		if len(key) == 0 {
			break
		}
		value, err := readField(hr)
		if err != nil {
			return err
		}
		if err := b.Set(key, value, nil); err != nil {
			return err
		}
		if b.Len() > 4<<20 {
			if err := b.Commit(pebble.NoSync); err != nil {
				return err
			}
			b = st.db.NewBatch()
		}
	}
	var got [sha256.Size]byte
	if _, err := io.ReadFull(br, got[:]); err != nil || [sha256.Size]byte(hr.h.Sum(nil)) != got {
		return fmt.Errorf("%w: checksum", ErrBadSnapshot)
	}
	// A synced commit syncs the log with every commit before it.
	return b.Commit(pebble.Sync)
}

// hashingReader hashes the bytes read through it.
type hashingReader struct {
	r *bufio.Reader
	h hash.Hash
}

func (r *hashingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.h.Write(p[:n])
	return n, err
}

func (r *hashingReader) ReadByte() (byte, error) {
	c, err := r.r.ReadByte()
	if err == nil {
		r.h.Write([]byte{c})
	}
	return c, err
}

func readField(br *hashingReader) ([]byte, error) {
	n, err := binary.ReadUvarint(br)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	if n > maxSnapshotRecord {
		return nil, fmt.Errorf("%w: record of %d bytes", ErrBadSnapshot, n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(br, b); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	return b, nil
}

// recoverRestore finishes a Restore a crash interrupted: a database
// renamed away and the restored one not yet in its place.
func recoverRestore(cfg Config) error {
	fs := cfg.FS
	if fs == nil {
		fs = vfs.Default
	}
	tmp, old := cfg.Dir+".restore", cfg.Dir+".old"
	if _, err := fs.Stat(cfg.Dir); errors.Is(err, os.ErrNotExist) {
		if _, err := fs.Stat(tmp); err == nil {
			if err := fs.Rename(tmp, cfg.Dir); err != nil {
				return err
			}
			if err := syncParent(fs, cfg.Dir); err != nil {
				return err
			}
		}
	}
	if err := fs.RemoveAll(tmp); err != nil {
		return err
	}
	return fs.RemoveAll(old)
}

func syncParent(fs vfs.FS, dir string) error {
	d, err := fs.OpenDir(fs.PathDir(dir))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
