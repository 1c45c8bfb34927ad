package ledger

import "math"

// A VM trace is written and read here by hand, as a block is
// (blockcodec.go, txdecode.go): a range page of 3,000 traced transactions
// holds some 33,000 frames, and through reflection encoding and decoding
// them was most of what serving and reading such a page cost beside the
// blocks. trace_cbor_test.go holds the encoder to Marshal, byte for byte,
// and the decoder to the generic one.

// AppendCBOR appends the frame's canonical encoding (Marshal's).
func (f *Frame) AppendCBOR(b []byte) []byte {
	b = appendHead(b, majorArray, 9)
	b = appendHead(b, majorUint, uint64(f.Depth))
	b = appendText(b, f.Function)
	b = appendHead(b, majorUint, f.MemBefore)
	b = appendHead(b, majorUint, f.MemAfter)
	b = appendHead(b, majorUint, uint64(f.GrowPages))
	b = appendHead(b, majorUint, f.GrowGas)
	b = appendHead(b, majorUint, f.Gas)
	b = appendHead(b, majorUint, f.Loads)
	return appendHead(b, majorUint, f.Stores)
}

// AppendCBOR appends the trace's canonical encoding (Marshal's).
func (t *Trace) AppendCBOR(b []byte) []byte {
	b = appendHead(b, majorArray, 2)
	b = appendHead(b, majorArray, uint64(len(t.Frames)))
	for i := range t.Frames {
		b = t.Frames[i].AppendCBOR(b)
	}
	return appendHead(b, majorUint, t.Dropped)
}

// EncodedSize bounds the length of the trace's encoding, so a caller
// appending it to a buffer can allocate once.
func (t *Trace) EncodedSize() int {
	n := 1 + 9 + 9
	for i := range t.Frames {
		n += 1 + 8*9 + 9 + len(t.Frames[i].Function)
	}
	return n
}

// traceFields is Trace without its methods: the generic decoder's view.
type traceFields Trace

// UnmarshalCBOR decodes a trace: the canonical encoding by hand (a node
// reads every trace of a range from its archive, a client every trace of
// a page), anything else with the generic decoder.
func (t *Trace) UnmarshalCBOR(data []byte) error {
	d := canonicalReader{b: data, ok: true}
	if tr := d.trace(); d.ok && len(d.b) == 0 {
		*t = tr
		return nil
	}
	return decMode.Unmarshal(data, (*traceFields)(t))
}

// trace reads a trace item. Like the generic decoder, it makes an empty
// list of frames empty, not nil.
func (d *canonicalReader) trace() (t Trace) {
	d.ok = d.head(majorArray) == 2 && d.ok
	t.Frames = make([]Frame, d.list())
	for i := range t.Frames {
		d.frame(&t.Frames[i])
	}
	t.Dropped = d.head(majorUint)
	return t
}

// frame reads a frame item.
func (d *canonicalReader) frame(f *Frame) {
	d.ok = d.head(majorArray) == 9 && d.ok
	f.Depth = d.uint32()
	f.Function = d.text()
	f.MemBefore = d.head(majorUint)
	f.MemAfter = d.head(majorUint)
	f.GrowPages = d.uint32()
	f.GrowGas = d.head(majorUint)
	f.Gas = d.head(majorUint)
	f.Loads = d.head(majorUint)
	f.Stores = d.head(majorUint)
}

// uint32 reads an unsigned integer that fits a uint32.
func (d *canonicalReader) uint32() uint32 {
	n := d.head(majorUint)
	if n > math.MaxUint32 {
		d.fail()
	}
	return uint32(n)
}
