package ledger

import "encoding/binary"

// A transaction has a fixed shape, so its canonical encoding is written
// here by hand: the generic encoder costs ~0.7 µs a transaction through
// reflection, and the signing bytes are needed for every transaction
// verified. txcodec_test.go checks that both encoders give the same bytes.

// CBOR major types, shifted into the initial byte, for AppendHead.
const (
	MajorUint  byte = 0 << 5
	MajorBytes byte = 2 << 5
	MajorText  byte = 3 << 5
	MajorArray byte = 4 << 5
	MajorMap   byte = 5 << 5
)

const (
	majorUint  = MajorUint
	majorBytes = MajorBytes
	majorText  = MajorText
	majorArray = MajorArray
)

// AppendHead appends a canonical (shortest) CBOR head for major type m
// and argument n. Hand-written encoders on hot paths (here and in the
// stores) build on it; their tests hold them to Marshal.
func AppendHead(b []byte, m byte, n uint64) []byte { return appendHead(b, m, n) }

// AppendBytes appends p as a canonical CBOR byte string (nil and empty
// encode alike, as in Marshal).
func AppendBytes(b []byte, p []byte) []byte { return appendBytes(b, p) }

func appendHead(b []byte, m byte, n uint64) []byte {
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n <= 0xff:
		return append(b, m|24, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, m|25), uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, m|26), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, m|27), n)
}

func appendText(b []byte, s string) []byte {
	return append(appendHead(b, majorText, uint64(len(s))), s...)
}

func appendBytes(b []byte, p []byte) []byte {
	return append(appendHead(b, majorBytes, uint64(len(p))), p...)
}

// appendBody appends the canonical encoding of the fields a signature
// covers, as an array of n elements (8 for the body alone, 9 when the
// signature follows).
func (tx *Tx) appendBody(b []byte, n uint64) []byte {
	b = appendHead(b, majorArray, n)
	b = appendText(b, tx.ChainID)
	b = appendHead(b, majorUint, uint64(tx.Chain))
	b = appendHead(b, majorUint, tx.Nonce)
	b = appendBytes(b, tx.From[:])
	b = appendBytes(b, tx.Contract[:])
	b = appendText(b, tx.Function)
	b = appendBytes(b, tx.Args)
	return appendHead(b, majorUint, tx.GasLimit)
}

// encodedBodySize bounds the body's encoding, to allocate once.
func (tx *Tx) encodedBodySize() int {
	return 1 + 9 + len(tx.ChainID) + 9 + 9 + 2*34 + 9 + len(tx.Function) + 9 + len(tx.Args) + 9
}
