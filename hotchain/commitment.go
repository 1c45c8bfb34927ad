package hotchain

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"

	"github.com/dualchain/dualchain/ledger"
)

// LtHash16 parameters: 1024 lanes of 16 bits, packed four to a word so that
// lane arithmetic runs on uint64 words (SWAR).
const (
	commitmentLanes = 1024
	CommitmentSize  = commitmentLanes * 2 // bytes in MarshalBinary's output
	commitmentWords = CommitmentSize / 8
)

// Domain tags keep element hashes and digests apart from every other hash.
const (
	elementTag = "dualchain/lthash16/element/v1\x00"
	digestTag  = "dualchain/lthash16/digest/v1\x00"
)

// highBits has the top bit of each 16-bit lane set.
const highBits = 0x8000_8000_8000_8000

// parallelMin is the number of changes below which Apply stays on one
// goroutine: starting goroutines costs more than hashing a few elements.
const parallelMin = 256

// zeroBlock is the plaintext AES-CTR encrypts to expand a seed.
var zeroBlock [CommitmentSize]byte

// zeroIV is the CTR initial counter block.
var zeroIV [aes.BlockSize]byte

// Commitment is LtHash16, the lattice hash of Bellare and Micciancio as used
// in Facebook's "Securing update propagation with homomorphic hashing": the
// lane-wise sum modulo 2^16 of one 2048-byte element hash per (key, value)
// pair in the state. Adding and removing pairs commute, so the commitment of
// a state does not depend on the order its writes were made in, and an update
// costs one element hash per changed value, whatever the size of the state.
//
// A value with no pairs (the zero Commitment) is the commitment of the empty
// state. Commitment is comparable: two states are equal (with overwhelming
// probability) exactly when their commitments are ==.
type Commitment struct {
	w [commitmentWords]uint64 // lane j of word i is lane 4i+j, little-endian
}

// Change is one state key's change: Old is the value before, New the value
// after; an empty value means the key is absent.
type Change struct {
	Key, Old, New []byte
}

// Add adds the pair (key, value). An empty value is the absent state and
// adds nothing.
func (c *Commitment) Add(key, value []byte) { c.Update(key, nil, value) }

// Remove removes the pair (key, value), which the state must hold. An empty
// value removes nothing.
func (c *Commitment) Remove(key, value []byte) { c.Update(key, value, nil) }

// Update replaces key's value old by new: it removes (key, old) if old is not
// empty and adds (key, new) if new is not empty.
func (c *Commitment) Update(key, old, new []byte) {
	if bytes.Equal(old, new) {
		return
	}
	h := hashers.Get().(*elementHasher)
	h.update(c, key, old, new)
	hashers.Put(h)
}

// Digest is the 32-byte form of the commitment carried in block headers: the
// SHA-256 of a domain tag and the 2048-byte encoding.
func (c Commitment) Digest() ledger.Hash {
	h := sha256.New()
	h.Write([]byte(digestTag))
	b, _ := c.MarshalBinary()
	h.Write(b)
	var out ledger.Hash
	h.Sum(out[:0])
	return out
}

// String returns the digest in hex.
func (c Commitment) String() string { return c.Digest().String() }

// MarshalBinary returns the 1024 lanes as 2048 little-endian bytes.
func (c Commitment) MarshalBinary() ([]byte, error) {
	return c.AppendBinary(make([]byte, 0, CommitmentSize))
}

// AppendBinary appends MarshalBinary's bytes to b.
func (c *Commitment) AppendBinary(b []byte) ([]byte, error) {
	for _, w := range c.w {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	return b, nil
}

// UnmarshalBinary reads what MarshalBinary wrote; any other length is an
// error.
func (c *Commitment) UnmarshalBinary(b []byte) error {
	if len(b) != CommitmentSize {
		return fmt.Errorf("%w: commitment of %d bytes, want %d", ErrCorrupt, len(b), CommitmentSize)
	}
	for i := range c.w {
		c.w[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return nil
}

// Apply returns base with every change applied. Large slices are split over
// GOMAXPROCS goroutines; the result does not depend on the split. Apply
// returns when all its goroutines have ended.
func Apply(base Commitment, changes []Change) Commitment {
	workers := min(runtime.GOMAXPROCS(0), len(changes)/parallelMin)
	if workers <= 1 {
		applySerial(&base, changes)
		return base
	}
	deltas := make([]Commitment, workers)
	var wg sync.WaitGroup
	for i := range workers {
		lo, hi := i*len(changes)/workers, (i+1)*len(changes)/workers
		wg.Go(func() { applySerial(&deltas[i], changes[lo:hi]) })
	}
	wg.Wait()
	for i := range deltas {
		base.add(&deltas[i])
	}
	return base
}

// Recompute computes the commitment of s's state from scratch, from Scan.
// Audits and tests compare it with the commitment the store carries.
func Recompute(ctx context.Context, s Store) (Commitment, error) {
	var c Commitment
	err := s.Scan(ctx, func(key, value []byte) error {
		c.Add(key, value)
		return nil
	})
	if err != nil {
		return Commitment{}, fmt.Errorf("recompute commitment: %w", err)
	}
	return c, nil
}

func applySerial(c *Commitment, changes []Change) {
	h := hashers.Get().(*elementHasher)
	for _, ch := range changes {
		h.update(c, ch.Key, ch.Old, ch.New)
	}
	hashers.Put(h)
}

// hashers holds elementHashers between uses: each holds a 2 KiB buffer.
var hashers = sync.Pool{New: func() any { return new(elementHasher) }}

// elementHasher computes element hashes into buffers it reuses, so that a
// long run of updates does not allocate per element for them.
type elementHasher struct {
	seedInput []byte
	element   [CommitmentSize]byte
	removed   [CommitmentSize]byte // the element a replaced value removes
}

// update removes (key, old) and adds (key, new); empty values are absent.
// A value replaced by another (the common case) is one pass over c.
func (h *elementHasher) update(c *Commitment, key, old, new []byte) {
	switch {
	case bytes.Equal(old, new):
	case len(old) > 0 && len(new) > 0:
		h.hash(&h.removed, key, old)
		h.hash(&h.element, key, new)
		c.replaceBytes(&h.removed, &h.element)
	case len(old) > 0:
		h.hash(&h.element, key, old)
		c.subBytes(&h.element)
	default:
		h.hash(&h.element, key, new)
		c.addBytes(&h.element)
	}
}

// hash expands SHA-256(tag ‖ uvarint(len(key)) ‖ key ‖ value) to 2048 bytes
// with AES-256 in counter mode from a zero counter block, into out.
// The length prefix makes the split between key and value unambiguous.
func (h *elementHasher) hash(out *[CommitmentSize]byte, key, value []byte) {
	in := append(h.seedInput[:0], elementTag...)
	in = binary.AppendUvarint(in, uint64(len(key)))
	in = append(append(in, key...), value...)
	h.seedInput = in
	seed := sha256.Sum256(in)
	block, err := aes.NewCipher(seed[:])
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	cipher.NewCTR(block, zeroIV[:]).XORKeyStream(out[:], zeroBlock[:])
}

// addBytes adds an element hash lane-wise.
func (c *Commitment) addBytes(e *[CommitmentSize]byte) {
	for i := range c.w {
		c.w[i] = addLanes(c.w[i], binary.LittleEndian.Uint64(e[8*i:]))
	}
}

// subBytes subtracts an element hash lane-wise.
func (c *Commitment) subBytes(e *[CommitmentSize]byte) {
	for i := range c.w {
		c.w[i] = subLanes(c.w[i], binary.LittleEndian.Uint64(e[8*i:]))
	}
}

// replaceBytes subtracts the element hash old and adds new, lane-wise,
// in one pass.
func (c *Commitment) replaceBytes(old, new *[CommitmentSize]byte) {
	for i := range c.w {
		w := subLanes(c.w[i], binary.LittleEndian.Uint64(old[8*i:]))
		c.w[i] = addLanes(w, binary.LittleEndian.Uint64(new[8*i:]))
	}
}

// add adds another commitment lane-wise.
func (c *Commitment) add(d *Commitment) {
	for i := range c.w {
		c.w[i] = addLanes(c.w[i], d.w[i])
	}
}

// addLanes adds four 16-bit lanes modulo 2^16 each: the low 15 bits of each
// lane are added without carrying into the next lane, then the top bits are
// added modulo 2 (xor).
func addLanes(x, y uint64) uint64 {
	return ((x &^ highBits) + (y &^ highBits)) ^ ((x ^ y) & highBits)
}

// subLanes subtracts four 16-bit lanes modulo 2^16 each: setting each lane's
// top bit in x keeps a borrow from crossing into the next lane, and the xor
// puts back the top bit the true difference has.
func subLanes(x, y uint64) uint64 {
	return ((x | highBits) - (y &^ highBits)) ^ ((x ^ ^y) & highBits)
}
