package ledger

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"
)

// codecTrace is a trace of frames whose fields take the values where
// canonical encodings change shape: integer widths, empty and long names.
func codecTrace(n uint64, frames int) *Trace {
	t := &Trace{Frames: []Frame{}, Dropped: n}
	for i := range frames {
		t.Frames = append(t.Frames, Frame{
			Depth: uint32(min(n, math.MaxUint32)) + uint32(i), Function: strings.Repeat("f", int(n%40)+i*9),
			MemBefore: n, MemAfter: n << uint(i%8), GrowPages: uint32(n >> 3), GrowGas: n * 7,
			Gas: n + uint64(i), Loads: n >> uint(i%64), Stores: math.MaxUint64 - uint64(i),
		})
	}
	return t
}

// TestTraceCodecMatchesGenericEncoder holds Trace.AppendCBOR to Marshal,
// and EncodedSize to the length it appends.
func TestTraceCodecMatchesGenericEncoder(t *testing.T) {
	for _, n := range []uint64{0, 1, 23, 24, 255, 256, 65535, 65536, 1<<32 - 1, 1 << 32, math.MaxUint64} {
		for _, frames := range []int{0, 1, 11, 30} {
			checkTraceCodec(t, codecTrace(n, frames))
		}
	}
	checkTraceCodec(t, &Trace{}) // nil frames encode as empty ones
	checkTraceCodec(t, &Trace{Frames: []Frame{{Function: "é\x00ü"}}})
}

func checkTraceCodec(t *testing.T, tr *Trace) {
	t.Helper()
	want, err := encMode.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	got := tr.AppendCBOR([]byte{0xaa})
	if !bytes.Equal(got[1:], want) || got[0] != 0xaa {
		t.Fatalf("AppendCBOR(%+v) = %x, want %x", tr, got[1:], want)
	}
	if len(want) > tr.EncodedSize() {
		t.Fatalf("EncodedSize() = %d, encoding of %d bytes", tr.EncodedSize(), len(want))
	}
	checkTraceDecode(t, want)
}

// checkTraceDecode is checkTxDecode for traces.
func checkTraceDecode(t *testing.T, data []byte) {
	t.Helper()
	var got, want Trace
	errGot := Unmarshal(data, &got)
	errWant := decMode.Unmarshal(data, (*traceFields)(&want))
	if (errGot == nil) != (errWant == nil) {
		t.Fatalf("Unmarshal(%x) = %v, generic decoder %v", data, errGot, errWant)
	}
	if errGot == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("Unmarshal(%x) = %+v, generic decoder %+v", data, got, want)
	}
}

func TestTraceDecodeMatchesGenericDecoder(t *testing.T) {
	canonical := codecTrace(300, 3).AppendCBOR(nil)
	d := canonicalReader{b: canonical, ok: true}
	if d.trace(); !d.ok || len(d.b) != 0 {
		t.Fatalf("the trace reader refused a canonical trace")
	}
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(canonical)) }
	one := codecTrace(5, 1).AppendCBOR(nil)
	tests := map[string][]byte{
		"canonical":        canonical,
		"no frames":        (&Trace{}).AppendCBOR(nil),
		"trailing byte":    append(bytes.Clone(canonical), 0),
		"short":            canonical[:len(canonical)-1],
		"array of 3":       edit(func(b []byte) []byte { b[0] = 0x83; return append(b, 0) }),
		"frame of 8":       edit(func(b []byte) []byte { b[2] = 0x88; return b }),
		"long-form length": append([]byte{0x82, 0x98, 3}, canonical[2:]...),
		"depth 2^32":       (&wideFrameTrace{Frames: []wideFrame{{Depth: 1 << 32, Function: "f"}}}).encode(t),
		"grow pages 2^32":  (&wideFrameTrace{Frames: []wideFrame{{GrowPages: 1 << 32, Function: "f"}}}).encode(t),
		"depth 2^32-1":     (&wideFrameTrace{Frames: []wideFrame{{Depth: 1<<32 - 1, Function: "f"}}}).encode(t),
		"invalid UTF-8":    (&Trace{Frames: []Frame{{Function: "\xff"}}}).AppendCBOR(nil),
		"indefinite array": append(append([]byte{0x82, 0x9f}, one[2:len(one)-1]...), 0xff, 5), // one's frame, dropped 5
		"empty":            {},
		"null":             {0xf6},
		"map":              {0xa0},
		"negative dropped": {0x82, 0x80, 0x20},
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) { checkTraceDecode(t, data) })
	}
}

// wideFrameTrace encodes a trace whose frames' uint32 fields do not fit
// one.
type wideFrameTrace struct {
	_       struct{} `cbor:",toarray"`
	Frames  []wideFrame
	Dropped uint64
}

type wideFrame struct {
	_                                                           struct{} `cbor:",toarray"`
	Depth                                                       uint64
	Function                                                    string
	MemBefore, MemAfter, GrowPages, GrowGas, Gas, Loads, Stores uint64
}

func (x *wideFrameTrace) encode(t *testing.T) []byte {
	b, err := encMode.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzTraceDecode(f *testing.F) {
	for _, frames := range []int{0, 1, 11} {
		f.Add(codecTrace(uint64(frames)*1000, frames).AppendCBOR(nil))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkTraceDecode(t, data)
		var tr Trace
		if Unmarshal(data, &tr) == nil {
			if enc := tr.AppendCBOR(nil); !bytes.Equal(enc, mustMarshal(&tr)) {
				t.Fatalf("AppendCBOR(%+v) = %x, Marshal %x", tr, enc, mustMarshal(&tr))
			}
		}
	})
}
