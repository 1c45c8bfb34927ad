package instrument

import (
	"fmt"
	"unicode/utf8"
)

// reader reads the WebAssembly binary format from a slice of the module. Its
// error is sticky: the first failure is kept, the reader jumps to its end and
// every later read returns zero, so a caller checks err once after a loop.
// Every count it returns is at most the bytes left, as each element of a
// vector takes at least a byte: no count read from the module can make
// anyone allocate more than the module's size.
type reader struct {
	buf  []byte
	pos  int
	base int // offset of buf[0] in the module
	fn   int // function being read, for errors; -1 outside the code section
	err  error
}

func newReader(buf []byte, base int) *reader {
	return &reader{buf: buf, base: base, fn: -1}
}

// offset is the module offset of the next byte.
func (r *reader) offset() int { return r.base + r.pos }

// more reports whether bytes are left and nothing failed.
func (r *reader) more() bool { return r.err == nil && r.pos < len(r.buf) }

// failAt records a failure found at module offset off, unless one is already
// recorded, and stops the reader.
func (r *reader) failAt(off int, format string, args ...any) {
	if r.err == nil {
		r.err = &Error{Reason: fmt.Sprintf(format, args...), Func: r.fn, Offset: off}
	}
	r.pos = len(r.buf)
}

// join takes over the failure of s, a reader made by sub.
func (r *reader) join(s *reader) {
	if r.err == nil && s.err != nil {
		r.err = s.err
		r.pos = len(r.buf)
	}
}

func (r *reader) byte() byte {
	if r.pos >= len(r.buf) {
		r.failAt(r.offset(), "invalid module: unexpected end")
		return 0
	}
	b := r.buf[r.pos]
	r.pos++
	return b
}

// bytes returns the next n bytes, sharing the module's memory.
func (r *reader) bytes(n int) []byte {
	if n < 0 || n > len(r.buf)-r.pos {
		r.failAt(r.offset(), "invalid module: unexpected end")
		return nil
	}
	b := r.buf[r.pos : r.pos+n]
	r.pos += n
	return b
}

// sub returns a reader over the next n bytes and skips them.
func (r *reader) sub(n int) *reader {
	base := r.offset()
	return &reader{buf: r.bytes(n), base: base, fn: r.fn, err: r.err}
}

// uleb reads an unsigned LEB128 integer of at most bits bits, as the spec
// bounds it: no more bytes than the bits need, no bits set past them.
func (r *reader) uleb(bits uint) uint64 {
	at := r.offset()
	var v uint64
	for shift := uint(0); ; shift += 7 {
		b := r.byte()
		if r.err != nil {
			return 0
		}
		v |= uint64(b&0x7f) << shift
		if b&0x80 != 0 {
			if shift+7 >= bits {
				r.failAt(at, "invalid module: integer too long")
				return 0
			}
			continue
		}
		if shift+7 > bits && b>>(bits-shift) != 0 {
			r.failAt(at, "invalid module: integer too large")
			return 0
		}
		return v
	}
}

// sleb reads a signed LEB128 integer of at most bits bits, as the spec bounds
// it: the unused bits of a last byte of full length repeat the sign.
func (r *reader) sleb(bits uint) int64 {
	at := r.offset()
	var v int64
	for shift := uint(0); ; shift += 7 {
		b := r.byte()
		if r.err != nil {
			return 0
		}
		v |= int64(b&0x7f) << shift
		if b&0x80 != 0 {
			if shift+7 >= bits {
				r.failAt(at, "invalid module: integer too long")
				return 0
			}
			continue
		}
		if shift+7 > bits {
			used := bits - shift // payload bits in this byte, the sign's included
			if hi := b >> (used - 1); hi != 0 && hi != 0x7f>>(used-1) {
				r.failAt(at, "invalid module: integer too large")
				return 0
			}
		}
		if shift+7 < 64 && b&0x40 != 0 {
			v |= -1 << (shift + 7)
		}
		return v
	}
}

func (r *reader) u32() uint32 { return uint32(r.uleb(32)) }

// count reads a vector's length, which must not pass the bytes left.
func (r *reader) count(what string) int {
	at := r.offset()
	n := r.u32()
	if int(n) > len(r.buf)-r.pos {
		r.failAt(at, "invalid module: %s count %d passes the end", what, n)
		return 0
	}
	return int(n)
}

// name reads a UTF-8 name.
func (r *reader) name() string {
	at := r.offset()
	b := r.bytes(r.count("name byte"))
	if !utf8.Valid(b) {
		r.failAt(at, "invalid module: name is not UTF-8")
	}
	return string(b)
}

// valueType reads a value type.
func (r *reader) valueType() ValueType {
	at := r.offset()
	switch t := ValueType(r.byte()); t {
	case I32, I64, F32, F64, V128, FuncRef, ExternRef:
		return t
	default:
		r.failAt(at, "invalid module: unknown value type %#x", byte(t))
		return 0
	}
}

// end fails unless every byte was read.
func (r *reader) end(what string) {
	if r.err == nil && r.pos != len(r.buf) {
		r.failAt(r.offset(), "invalid module: %s has %d bytes left over", what, len(r.buf)-r.pos)
	}
}
