package instrumenttest

// Opcodes the tests use, by name.
const (
	Unreachable byte = 0x00
	Nop         byte = 0x01
	Block       byte = 0x02
	Loop        byte = 0x03
	If          byte = 0x04
	Else        byte = 0x05
	End         byte = 0x0b
	Br          byte = 0x0c
	BrIf        byte = 0x0d
	Return      byte = 0x0f
	Call        byte = 0x10
	Drop        byte = 0x1a
	LocalGet    byte = 0x20
	LocalSet    byte = 0x21
	LocalTee    byte = 0x22
	GlobalGet   byte = 0x23
	GlobalSet   byte = 0x24
	I32Load     byte = 0x28
	I32Store    byte = 0x36
	MemorySize  byte = 0x3f
	MemoryGrow  byte = 0x40
	I32Eqz      byte = 0x45
	I32LtU      byte = 0x49
	I32Add      byte = 0x6a
	I32Sub      byte = 0x6b
	I64Add      byte = 0x7c
	Prefix      byte = 0xfc // bulk memory, saturating truncation, tables

	BlockEmpty byte = 0x40 // the empty block type
)

// Op returns its bytes: an instruction written out by hand.
func Op(b ...byte) []byte { return b }

// I32Const returns i32.const v.
func I32Const(v int32) []byte { return cat([]byte{0x41}, S64(int64(v))) }

// I64Const returns i64.const v.
func I64Const(v int64) []byte { return cat([]byte{0x42}, S64(v)) }

// With returns op followed by the unsigned LEB128 immediates, such as
// With(Call, 3) or With(LocalGet, 0).
func With(op byte, imms ...uint32) []byte {
	b := []byte{op}
	for _, v := range imms {
		b = cat(b, U32(v))
	}
	return b
}

// U32 returns v in unsigned LEB128.
func U32(v uint32) []byte {
	var b []byte
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// S64 returns v in signed LEB128.
func S64(v int64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// Name returns s as a binary-format name.
func Name(s string) []byte { return cat(U32(uint32(len(s))), []byte(s)) }

// Vec returns the encoded items of a vector of n items, prefixed by n.
func Vec(n int, items []byte) []byte { return cat(U32(uint32(n)), items) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}
