package hotchain

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"

	"github.com/dualchain/dualchain/ledger"
)

// The snapshot stream (DESIGN.md, "Snapshots"):
//
//	magic     "dualchain/hot-snapshot\n"
//	header    uint32 length, canonical CBOR snapshotHeader
//	records   Count times: uint32 key length, key, uint32 value length, value
//	checksum  SHA-256 of everything above
//
// Lengths are big-endian. Keys are strictly ascending; keys and values are
// never empty.
const (
	snapshotMagic   = "dualchain/hot-snapshot\n"
	snapshotVersion = 1

	maxSnapshotHeader = 4 << 10             // the header is about 2.2 KiB
	maxSnapshotKey    = 64 << 10            // one state key
	maxSnapshotValue  = ledger.MaxBlockSize // one state value (a wasm module is the largest)

	// readChunk bounds what ReadSnapshot allocates ahead of the bytes it has
	// read: a length in the stream is trusted only this far.
	readChunk = 1 << 20
	// maxPrealloc bounds the writes ReadSnapshot allocates room for from the
	// header's count before reading them.
	maxPrealloc = 4096
)

// snapshotHeader is the snapshot's meta as encoded: canonical CBOR.
type snapshotHeader struct {
	_          struct{} `cbor:",toarray"`
	Version    uint64
	Genesis    ledger.Hash
	Index      uint64
	Height     uint64
	Head       ledger.Hash
	Commitment []byte
	Count      uint64
}

// WriteTo writes the snapshot in the stream format ReadSnapshot reads and
// returns the number of bytes written. It refuses (ErrBadSnapshot), before
// writing anything, a snapshot ReadSnapshot would refuse: keys not strictly
// ascending, empty keys or values, or oversized ones. The incarnation is
// not written.
func (snap *Snapshot) WriteTo(w io.Writer) (int64, error) {
	if err := checkSnapshotSizes(snap); err != nil {
		return 0, err
	}
	cw := &countingWriter{w: w}
	bw := bufio.NewWriterSize(cw, 64<<10)
	h := sha256.New()
	mw := io.MultiWriter(bw, h)
	if err := writeSnapshotBody(mw, snap); err != nil {
		return cw.n, fmt.Errorf("hotchain: write snapshot: %w", err)
	}
	if _, err := bw.Write(h.Sum(nil)); err != nil {
		return cw.n, fmt.Errorf("hotchain: write snapshot: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return cw.n, fmt.Errorf("hotchain: write snapshot: %w", err)
	}
	return cw.n, nil
}

// checkSnapshotSizes is checkSnapshot plus the stream's size limits.
func checkSnapshotSizes(snap *Snapshot) error {
	if err := checkSnapshot(snap); err != nil {
		return err
	}
	for i, w := range snap.Writes {
		if len(w.Key) > maxSnapshotKey || len(w.Value) > maxSnapshotValue {
			return fmt.Errorf("%w: write %d has a key of %d bytes and a value of %d (limits %d and %d)",
				ErrBadSnapshot, i, len(w.Key), len(w.Value), maxSnapshotKey, maxSnapshotValue)
		}
	}
	return nil
}

// writeSnapshotBody writes everything but the checksum.
func writeSnapshotBody(w io.Writer, snap *Snapshot) error {
	head := mustMarshal(headerOf(snap))
	buf := append([]byte(snapshotMagic), 0, 0, 0, 0)
	binary.BigEndian.PutUint32(buf[len(snapshotMagic):], uint32(len(head)))
	if _, err := w.Write(append(buf, head...)); err != nil {
		return err
	}
	var lens [4]byte
	for _, wr := range snap.Writes {
		for _, field := range [][]byte{wr.Key, wr.Value} {
			binary.BigEndian.PutUint32(lens[:], uint32(len(field)))
			if _, err := w.Write(lens[:]); err != nil {
				return err
			}
			if _, err := w.Write(field); err != nil {
				return err
			}
		}
	}
	return nil
}

func headerOf(snap *Snapshot) *snapshotHeader {
	m := snap.Meta
	c, _ := m.Commitment.MarshalBinary()
	return &snapshotHeader{
		Version: snapshotVersion, Genesis: m.Genesis, Index: m.Index, Height: m.Height,
		Head: m.Head, Commitment: c, Count: uint64(len(snap.Writes)),
	}
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// ReadSnapshot reads a snapshot WriteTo wrote. It reads exactly the bytes
// WriteTo wrote and no more, so a snapshot may be followed by other data in
// the same stream. A truncated, corrupted (checksum mismatch), non-canonical
// or other-version stream is refused with an error wrapping ErrBadSnapshot;
// an error of r itself is returned wrapped as it is. It allocates no more
// than about what it has read (plus readChunk), whatever the lengths and
// count in the stream say. It does not check the commitment: Restore does.
func ReadSnapshot(r io.Reader) (*Snapshot, error) {
	d := &snapshotReader{r: r, h: sha256.New()}
	snap, err := d.body()
	if err != nil {
		return nil, err
	}
	var sum [sha256.Size]byte
	if _, err := io.ReadFull(r, sum[:]); err != nil {
		return nil, d.fail("checksum", err)
	}
	if !bytes.Equal(sum[:], d.h.Sum(nil)) {
		return nil, fmt.Errorf("%w: checksum mismatch over %d bytes", ErrBadSnapshot, d.n)
	}
	return snap, nil
}

// snapshotReader reads the hashed part of a snapshot stream.
type snapshotReader struct {
	r io.Reader
	h hash.Hash
	n int64 // bytes read so far
}

func (d *snapshotReader) body() (*Snapshot, error) {
	magic, err := d.read(len(snapshotMagic))
	if err != nil {
		return nil, d.fail("magic", err)
	}
	if string(magic) != snapshotMagic {
		return nil, fmt.Errorf("%w: not a hot-chain snapshot (starts with %q)", ErrBadSnapshot, magic)
	}
	h, err := d.header()
	if err != nil {
		return nil, err
	}
	snap := &Snapshot{Meta: Meta{Genesis: h.Genesis, Index: h.Index, Height: h.Height, Head: h.Head}}
	if err := snap.Meta.Commitment.UnmarshalBinary(h.Commitment); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrBadSnapshot, err)
	}
	snap.Writes = make([]ledger.Write, 0, min(h.Count, maxPrealloc))
	for i := uint64(0); i < h.Count; i++ {
		if snap.Writes, err = d.record(snap.Writes); err != nil {
			return nil, err
		}
	}
	return snap, nil
}

// header reads and decodes the header, and refuses any encoding but the
// one WriteTo makes.
func (d *snapshotReader) header() (*snapshotHeader, error) {
	data, err := d.field("header", maxSnapshotHeader)
	if err != nil {
		return nil, err
	}
	h := new(snapshotHeader)
	if err := ledger.Unmarshal(data, h); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrBadSnapshot, err)
	}
	if h.Version != snapshotVersion {
		return nil, fmt.Errorf("%w: version %d, this build reads %d", ErrBadSnapshot, h.Version, snapshotVersion)
	}
	if !bytes.Equal(mustMarshal(h), data) {
		return nil, fmt.Errorf("%w: header is not canonical CBOR", ErrBadSnapshot)
	}
	return h, nil
}

// record reads one key/value record, checks it against the previous one,
// and appends it to writes.
func (d *snapshotReader) record(writes []ledger.Write) ([]ledger.Write, error) {
	i := len(writes)
	key, err := d.field(fmt.Sprintf("record %d key", i), maxSnapshotKey)
	if err != nil {
		return nil, err
	}
	value, err := d.field(fmt.Sprintf("record %d value", i), maxSnapshotValue)
	if err != nil {
		return nil, err
	}
	writes = append(writes, ledger.Write{Key: key, Value: value})
	return writes, checkSnapshotWrite(writes, i)
}

// field reads a uint32 length of at most limit, then that many bytes.
func (d *snapshotReader) field(what string, limit int) ([]byte, error) {
	lb, err := d.read(4)
	if err != nil {
		return nil, d.fail(what+" length", err)
	}
	n := binary.BigEndian.Uint32(lb)
	if uint64(n) > uint64(limit) {
		return nil, fmt.Errorf("%w: %s of %d bytes at byte %d, limit %d", ErrBadSnapshot, what, n, d.n-4, limit)
	}
	b, err := d.read(int(n))
	if err != nil {
		return nil, d.fail(what, err)
	}
	return b, nil
}

// read reads n bytes into a new slice, growing it by at most readChunk
// beyond what it has read, and hashes them.
func (d *snapshotReader) read(n int) ([]byte, error) {
	buf := make([]byte, 0, min(n, readChunk))
	for len(buf) < n {
		k := min(readChunk, n-len(buf))
		buf = slices.Grow(buf, k)
		m, err := io.ReadFull(d.r, buf[len(buf):len(buf)+k])
		d.n += int64(m)
		d.h.Write(buf[len(buf) : len(buf)+m])
		buf = buf[:len(buf)+m]
		if err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// fail converts an error reading what: the stream ending early is a bad
// snapshot; any other error is the reader's own.
func (d *snapshotReader) fail(what string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: truncated: %s at byte %d: %w", ErrBadSnapshot, what, d.n, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("hotchain: read snapshot: %s at byte %d: %w", what, d.n, err)
}
