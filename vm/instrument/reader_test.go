package instrument

import (
	"math"
	"strings"
	"testing"
)

// TestLEB128 checks the decoders against the spec's bounds: no more bytes
// than the width needs, unused bits of a last byte zero (unsigned) or
// copies of the sign (signed).
func TestLEB128(t *testing.T) {
	tests := []struct {
		bits   uint
		signed bool
		in     []byte
		want   int64
		err    string
	}{
		{32, false, []byte{0x00}, 0, ""},
		{32, false, []byte{0x80, 0x01}, 128, ""},
		{32, false, []byte{0x80, 0x00}, 0, ""},
		{32, false, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, math.MaxUint32, ""},
		{32, false, []byte{0xff, 0xff, 0xff, 0xff, 0x1f}, 0, "too large"},
		{32, false, []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 0, "too long"},
		{32, false, []byte{0x80}, 0, "unexpected end"},
		{32, true, []byte{0x7f}, -1, ""},
		{32, true, []byte{0x40}, -64, ""},
		{32, true, []byte{0x3f}, 63, ""},
		{32, true, []byte{0xff, 0xff, 0xff, 0xff, 0x07}, math.MaxInt32, ""},
		{32, true, []byte{0x80, 0x80, 0x80, 0x80, 0x78}, math.MinInt32, ""},
		{32, true, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, 0, "too large"},
		{32, true, []byte{0x80, 0x80, 0x80, 0x80, 0x70}, 0, "too large"},
		{33, true, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, math.MaxUint32, ""},
		{33, true, []byte{0x80, 0x80, 0x80, 0x80, 0x70}, -1 << 32, ""},
		{33, true, []byte{0x80, 0x80, 0x80, 0x80, 0x50}, 0, "too large"},
		{64, true, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00}, math.MaxInt64, ""},
		{64, true, []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f}, math.MinInt64, ""},
		{64, true, []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, 0, "too large"},
		{64, true, []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 0, "too long"},
	}
	for _, tt := range tests {
		r := newReader(tt.in, 0)
		var got int64
		if tt.signed {
			got = r.sleb(tt.bits)
		} else {
			got = int64(r.uleb(tt.bits))
		}
		if tt.err == "" && (r.err != nil || got != tt.want || r.pos != len(tt.in)) {
			t.Errorf("leb(%d, %x) = %d, %v, want %d", tt.bits, tt.in, got, r.err, tt.want)
		}
		if tt.err != "" && (r.err == nil || !strings.Contains(r.err.Error(), tt.err)) {
			t.Errorf("leb(%d, %x) = %d, %v, want an error with %q", tt.bits, tt.in, got, r.err, tt.err)
		}
	}
}

// TestLEB128RoundTrip checks the encoders against the decoders.
func TestLEB128RoundTrip(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 63, 64, -64, -65, 1 << 20, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64} {
		if got := newReader(appendS64(nil, v), 0).sleb(64); got != v {
			t.Errorf("sleb(appendS64(%d)) = %d", v, got)
		}
		if u := uint32(v); uint64(newReader(appendU32(nil, u), 0).uleb(32)) != uint64(u) {
			t.Errorf("uleb(appendU32(%d)) != %d", u, u)
		}
	}
}

// FuzzLEB128 checks that a value the decoder accepts encodes back to an
// equal value and that decoding never reads past its input.
func FuzzLEB128(f *testing.F) {
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, bits := range []uint{32, 33, 64} {
			r := newReader(b, 0)
			v := r.sleb(bits)
			if r.err == nil && newReader(appendS64(nil, v), 0).sleb(bits) != v {
				t.Fatalf("sleb(%d, %x) = %d does not round-trip", bits, b, v)
			}
			if r.err == nil && (v < -1<<(bits-1) || bits < 64 && v >= 1<<(bits-1)) {
				t.Fatalf("sleb(%d, %x) = %d, out of range", bits, b, v)
			}
		}
	})
}
