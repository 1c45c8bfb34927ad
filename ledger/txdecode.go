package ledger

import (
	"bytes"
	"encoding/binary"
	"math"
	"unicode/utf8"
)

// A transaction in its canonical encoding (what Encode writes, and all a
// node or the SDK sends) is read here by hand: through reflection it cost
// ~1.4 µs and a dozen allocations, paid for every transaction a node
// admits and, on a follower, for every transaction of every block it
// applies. Anything else goes to the generic decoder, which accepts or
// refuses it as it always has, so the hand-written path changes no
// outcome; txdecode_test.go checks the two agree.

// txFields is Tx without its methods: the generic decoder's view of it.
type txFields Tx

// UnmarshalCBOR decodes a transaction: the canonical encoding by hand,
// anything else with the generic decoder.
func (tx *Tx) UnmarshalCBOR(data []byte) error {
	if t, ok := decodeCanonicalTx(data); ok {
		*tx = t
		return nil
	}
	return decMode.Unmarshal(data, (*txFields)(tx))
}

// decodeCanonicalTx reads data if it is exactly a transaction's canonical
// encoding with valid UTF-8 names; ok is false for anything else.
func decodeCanonicalTx(data []byte) (tx Tx, ok bool) {
	d := canonicalReader{b: data, ok: true}
	tx = d.tx()
	return tx, d.ok && len(d.b) == 0
}

// tx reads a transaction item.
func (d *canonicalReader) tx() (tx Tx) {
	d.ok = d.head(majorArray) == 9 && d.ok
	tx.ChainID = d.text()
	chain := d.head(majorUint)
	tx.Chain = Chain(chain)
	tx.Nonce = d.head(majorUint)
	d.fixed(tx.From[:])
	d.fixed(tx.Contract[:])
	tx.Function = d.text()
	tx.Args = d.value()
	tx.GasLimit = d.head(majorUint)
	d.fixed(tx.Sig[:])
	if chain > 0xff {
		d.fail()
	}
	return tx
}

// canonicalReader reads canonical CBOR items from b; the first item that
// is not canonical, or not of the type asked for, clears ok.
type canonicalReader struct {
	b     []byte
	ok    bool
	names [2]string // the last text strings read, shared by equal ones
	next  int
}

// head reads a head of major type m and returns its argument. It clears
// ok unless the argument is in its shortest form.
func (d *canonicalReader) head(m byte) uint64 {
	if len(d.b) == 0 || d.b[0]&0xe0 != m {
		d.fail()
		return 0
	}
	info := d.b[0] & 0x1f
	var n uint64
	var size int
	switch {
	case info < 24:
		n, size = uint64(info), 1
	case info == 24 && len(d.b) >= 2:
		n, size = uint64(d.b[1]), 2
	case info == 25 && len(d.b) >= 3:
		n, size = uint64(binary.BigEndian.Uint16(d.b[1:])), 3
	case info == 26 && len(d.b) >= 5:
		n, size = uint64(binary.BigEndian.Uint32(d.b[1:])), 5
	case info == 27 && len(d.b) >= 9:
		n, size = binary.BigEndian.Uint64(d.b[1:]), 9
	default:
		d.fail()
		return 0
	}
	if headSize(n) != size {
		d.fail() // not the shortest form
		return 0
	}
	d.b = d.b[size:]
	return n
}

// headSize is the length of the shortest head for argument n, the one
// appendHead writes.
func headSize(n uint64) int {
	switch {
	case n < 24:
		return 1
	case n <= 0xff:
		return 2
	case n <= 0xffff:
		return 3
	case n <= 0xffffffff:
		return 5
	}
	return 9
}

// bytes reads a byte string; the result aliases the input.
func (d *canonicalReader) bytes() []byte {
	n := d.head(majorBytes)
	if !d.ok || n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

// text reads a text string, which must be valid UTF-8. The names of a
// block's transactions repeat (chain id, function): a string equal to one
// of the last two read is shared, not allocated again.
func (d *canonicalReader) text() string {
	n := d.head(majorText)
	if !d.ok || n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	p := d.b[:n]
	d.b = d.b[n:]
	for _, s := range d.names {
		if s == string(p) {
			return s
		}
	}
	if !utf8.Valid(p) {
		d.fail()
		return ""
	}
	s := string(p)
	d.names[d.next%len(d.names)] = s
	d.next++
	return s
}

// fixed reads a byte string of exactly len(dst) bytes into dst.
func (d *canonicalReader) fixed(dst []byte) {
	if p := d.bytes(); d.ok && len(p) == len(dst) {
		copy(dst, p)
		return
	}
	d.fail()
}

func (d *canonicalReader) fail() { d.ok, d.b = false, nil }

// blockFields is Block without its methods: the generic decoder's view.
type blockFields Block

// UnmarshalCBOR decodes a block: the canonical encoding by hand (a
// follower decodes every block it applies), anything else with the
// generic decoder.
func (b *Block) UnmarshalCBOR(data []byte) error {
	if blk, ok := decodeCanonicalBlock(data); ok {
		*b = blk
		return nil
	}
	return decMode.Unmarshal(data, (*blockFields)(b))
}

// decodeCanonicalBlock reads data if it is exactly a block's canonical
// encoding; ok is false for anything else. Like the generic decoder, it
// makes empty lists empty, not nil, and empty byte strings nil.
func decodeCanonicalBlock(data []byte) (b Block, ok bool) {
	d := canonicalReader{b: data, ok: true}
	b = d.block()
	return b, d.ok && len(d.b) == 0
}

// DecodeBlockPrefix reads a block's canonical encoding at the start of
// data, and returns the block and the length of its encoding. ok is false
// if data does not start with one; a caller then decodes data as it would
// have without this shortcut. A block it returns is the one
// Block.UnmarshalCBOR makes of data[:n].
func DecodeBlockPrefix(data []byte) (b Block, n int, ok bool) {
	d := canonicalReader{b: data, ok: true}
	b = d.block()
	if !d.ok {
		return Block{}, 0, false
	}
	return b, len(data) - len(d.b), true
}

// block reads a block item.
func (d *canonicalReader) block() (b Block) {
	d.ok = d.head(majorArray) == 4 && d.ok
	d.header(&b.Header)
	b.Txs = make([]Tx, d.list())
	for i := range b.Txs {
		b.Txs[i] = d.tx()
	}
	b.Receipts = make([]Receipt, d.list())
	for i := range b.Receipts {
		d.receipt(&b.Receipts[i])
	}
	b.Writes = make([]Write, d.list())
	for i := range b.Writes {
		d.ok = d.head(majorArray) == 2 && d.ok
		b.Writes[i] = Write{Key: d.value(), Value: d.value()}
	}
	return b
}

// list reads an array's head; its length is bounded by the bytes left (an
// item takes at least one), so a lying head allocates nothing large.
func (d *canonicalReader) list() int {
	n := d.head(majorArray)
	if !d.ok || n > uint64(len(d.b)) || n > MaxBlockItems { // the generic decoder's limit
		d.fail()
		return 0
	}
	return int(n)
}

func (d *canonicalReader) header(h *Header) {
	d.ok = d.head(majorArray) == 7 && d.ok
	h.ChainID = d.text()
	h.Height = d.head(majorUint)
	d.fixed(h.Parent[:])
	h.Time = d.int()
	d.fixed(h.TxRoot[:])
	d.fixed(h.ResultRoot[:])
	d.fixed(h.Commitment[:])
}

func (d *canonicalReader) receipt(r *Receipt) {
	d.ok = d.head(majorArray) == 7 && d.ok
	d.fixed(r.TxID[:])
	status := d.head(majorUint)
	r.Status = Status(status)
	r.GasUsed = d.head(majorUint)
	path := d.head(majorUint)
	r.Path = Path(path)
	r.Error = d.text()
	r.Events = make([]Event, d.list())
	for i := range r.Events {
		d.ok = d.head(majorArray) == 2 && d.ok
		r.Events[i] = Event{Name: d.text(), Data: d.value()}
	}
	r.Result = d.value()
	if status > 0xffff || path > 0xff {
		d.fail()
	}
}

// value reads a byte string into a copy of its own; empty is nil.
func (d *canonicalReader) value() Bytes {
	if p := d.bytes(); len(p) > 0 {
		return Bytes(bytes.Clone(p))
	}
	return nil
}

// int reads a signed integer that fits an int64.
func (d *canonicalReader) int() int64 {
	if len(d.b) > 0 && d.b[0]&0xe0 == majorNeg {
		n := d.head(majorNeg)
		if n > math.MaxInt64 {
			d.fail()
		}
		return -1 - int64(n)
	}
	n := d.head(majorUint)
	if n > math.MaxInt64 {
		d.fail()
	}
	return int64(n)
}
