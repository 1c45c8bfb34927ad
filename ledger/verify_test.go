package ledger_test

import (
	stded25519 "crypto/ed25519"
	"crypto/sha512"
	"errors"
	"fmt"
	"math/big"
	"runtime"
	"sync"
	"testing"

	"github.com/hdevalence/ed25519consensus"
	"github.com/oasisprotocol/curve25519-voi/curve"
	"github.com/oasisprotocol/curve25519-voi/curve/scalar"

	"github.com/dualchain/dualchain/ledger"
)

// The tests in this file check ARCHITECTURE §3: signatures follow ZIP-215,
// and the single verifier (VerifySignature, Tx.Verify) and the batch
// verifier (VerifyBatch) accept exactly the same signatures.

// smallOrderEncodings are the 14 encodings of points of order 1, 2, 4 and 8
// (the 8 canonical ones and 6 non-canonical ones: y ≥ p, or x = 0 with the
// sign bit set). The ZIP-215 test vectors are every (A, R) pair of them with
// S = 0, and ZIP-215 accepts all 196. Hand-copied from the ZIP-215
// specification; TestSmallOrderEncodings checks them.
var smallOrderEncodings = []string{
	"0100000000000000000000000000000000000000000000000000000000000000", // identity
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 2
	"0000000000000000000000000000000000000000000000000000000000000000", // order 4
	"0000000000000000000000000000000000000000000000000000000000000080", // order 4
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85", // order 8
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", // order 8
	"0100000000000000000000000000000000000000000000000000000000000080", // identity, x = -0
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", // order 2, x = -0
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // identity, y = p+1
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", // identity, y = p+1, x = -0
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 4, y = p
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", // order 4, y = p
}

// order8Point is a point of order exactly 8, used to give a key or an R a
// small-order component.
const order8Point = "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"

// groupOrder is L, the order of the base point.
var groupOrder, _ = new(big.Int).SetString("1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed", 16)

func TestSmallOrderEncodings(t *testing.T) {
	seen := make(map[string]bool)
	for _, s := range smallOrderEncodings {
		p, err := decompress(mustHex32(s))
		if err != nil || !p.IsSmallOrder() {
			t.Errorf("point %s: decompress error %v, small order %v; want a small-order point", s, err, err == nil && p.IsSmallOrder())
		}
		if seen[s] {
			t.Errorf("point %s listed twice", s)
		}
		seen[s] = true
	}
	p, err := decompress(mustHex32(order8Point))
	if err != nil || order(p) != 8 {
		t.Errorf("order8Point: error %v, order %d, want 8", err, order(p))
	}
}

// sigCase is one signature check: a transaction with From and Sig set, and
// whether ZIP-215 accepts it. stdlib says what crypto/ed25519 (cofactorless,
// RFC 8032 strictness) answers, for the cases where that differs: those
// are the cases where a verifier with the wrong rules would disagree.
type sigCase struct {
	name   string
	tx     *ledger.Tx
	want   bool
	stdlib *bool
}

var sigCases = sync.OnceValue(buildSigCases)

func buildSigCases() []sigCase {
	k := testKey(1)
	valid := signedTx(k, 1)
	no := false
	cases := []sigCase{
		{name: "valid", tx: valid, want: true},
		{name: "valid other key", tx: signedTx(testKey(2), 1), want: true},
		{name: "wrong key", tx: withFrom(valid, testKey(2).Address), want: false},
		{name: "wrong message", tx: withNonce(valid, 2), want: false},
		{name: "zero signature", tx: withSig(valid, ledger.Signature{}), want: false},
		{name: "non-canonical S (S+L)", tx: withSig(valid, addToS(valid.Sig, groupOrder)), want: false, stdlib: &no},
		{name: "non-canonical S (S+2L)", tx: withSig(valid, addToS(valid.Sig, new(big.Int).Lsh(groupOrder, 1))), want: false},
		{name: "key not on the curve", tx: withFrom(valid, notOnCurve()), want: false},
		{name: "R not on the curve", tx: withSig(valid, withR(valid.Sig, notOnCurve())), want: false},
	}
	for _, bit := range []int{0, 7, 100, 254, 255} {
		cases = append(cases, sigCase{name: fmt.Sprintf("R bit %d flipped", bit), tx: withSig(valid, flipBit(valid.Sig, bit)), want: false})
	}
	for _, bit := range []int{0, 9, 200, 252, 255} {
		cases = append(cases, sigCase{name: fmt.Sprintf("S bit %d flipped", bit), tx: withSig(valid, flipBit(valid.Sig, 256+bit)), want: false})
	}
	cases = append(cases, mixedOrderCases()...)
	// The ZIP-215 vectors: small-order A and R, S = 0. Cofactored
	// verification accepts them all, whatever the message.
	for i, a := range smallOrderEncodings {
		for j, r := range smallOrderEncodings {
			tx := withFrom(valid, mustHex32(a))
			tx.Sig = withR(ledger.Signature{}, mustHex32(r))
			cases = append(cases, sigCase{name: fmt.Sprintf("ZIP-215 A%d R%d", i, j), tx: tx, want: true})
		}
	}
	// The same with S = L: S must be canonical even when it is zero mod L.
	tx := withFrom(valid, mustHex32(smallOrderEncodings[0]))
	tx.Sig = addToS(withR(ledger.Signature{}, mustHex32(smallOrderEncodings[0])), groupOrder)
	return append(cases, sigCase{name: "ZIP-215 A0 R0 with S = L", tx: tx, want: false})
}

// mixedOrderCases are signatures whose R or public key has a component of
// order 8. The cofactored equation ZIP-215 uses accepts them; the
// cofactorless one (crypto/ed25519) does not. A verifier that used one
// equation for single checks and the other for batches would disagree here.
func mixedOrderCases() []sigCase {
	a, r := testScalar("a"), testScalar("r")
	torsion, _ := decompress(mustHex32(order8Point))
	prime := mulBase(a)
	mixed := curve.NewEdwardsPoint().Add(prime, torsion)
	no := false

	mixedR := unsignedTx(testKey(1), 1)
	mixedR.From = compress(prime)
	rawSign(mixedR, a, r, curve.NewEdwardsPoint().Add(mulBase(r), torsion))

	// With a mixed-order key the equation is off by [k]T, which is zero
	// when 8 divides k: pick a nonce where crypto/ed25519 rejects.
	var mixedA *ledger.Tx
	for nonce := uint64(1); mixedA == nil; nonce++ {
		tx := unsignedTx(testKey(1), nonce)
		tx.From = compress(mixed)
		rawSign(tx, a, r, mulBase(r))
		if !stded25519.Verify(tx.From[:], tx.SigningBytes(), tx.Sig[:]) {
			mixedA = tx
		}
	}
	return []sigCase{
		{name: "mixed-order R", tx: mixedR, want: true, stdlib: &no},
		{name: "mixed-order key", tx: mixedA, want: true, stdlib: &no},
	}
}

func TestVerifySingleAndBatchAgree(t *testing.T) {
	for _, c := range sigCases() {
		t.Run(c.name, func(t *testing.T) {
			msg := c.tx.SigningBytes()
			if got := ledger.VerifySignature(c.tx.From, msg, c.tx.Sig); got != c.want {
				t.Errorf("VerifySignature(%v, msg, %x) = %v, want %v", c.tx.From, c.tx.Sig, got, c.want)
			}
			id, err := c.tx.Verify()
			if (err == nil) != c.want || (err != nil && !errors.Is(err, ledger.ErrBadSignature)) || id != c.tx.ID() {
				t.Errorf("Verify() = %v, %v, want %v, error %v", id, err, c.tx.ID(), !c.want)
			}
			ids, errs := ledger.VerifyBatch([]*ledger.Tx{c.tx})
			if (errs[0] == nil) != c.want || (errs[0] != nil && !errors.Is(errs[0], ledger.ErrBadSignature)) || ids[0] != c.tx.ID() {
				t.Errorf("VerifyBatch(one) = %v, %v, want %v, error %v", ids[0], errs[0], c.tx.ID(), !c.want)
			}
			// ed25519consensus is an independent ZIP-215 implementation.
			if got := ed25519consensus.Verify(c.tx.From[:], msg, c.tx.Sig[:]); got != c.want {
				t.Errorf("ed25519consensus.Verify = %v, want %v", got, c.want)
			}
			if c.stdlib != nil {
				if got := stded25519.Verify(c.tx.From[:], msg, c.tx.Sig[:]); got != *c.stdlib {
					t.Errorf("crypto/ed25519.Verify = %v, want %v (the case no longer tells the rules apart)", got, *c.stdlib)
				}
			}
		})
	}
}

// TestVerifyBatchMarksExactlyTheBad mixes every case of the table with valid
// transactions, splits the batch over several worker counts, and checks
// that exactly the bad signatures are marked.
func TestVerifyBatchMarksExactlyTheBad(t *testing.T) {
	var txs []*ledger.Tx
	var want []bool
	for i, c := range sigCases() {
		txs = append(txs, c.tx, signedTx(testKey(byte(i%5+1)), uint64(1000+i)))
		want = append(want, c.want, true)
	}
	allBad := make([]bool, 130)
	badTxs := make([]*ledger.Tx, len(allBad))
	for i := range badTxs {
		badTxs[i] = withNonce(signedTx(testKey(3), uint64(i)), 1<<40)
	}
	tests := []struct {
		name string
		txs  []*ledger.Tx
		want []bool
	}{
		{"empty", nil, nil},
		{"table mixed with valid", txs, want},
		{"all valid", signedTxs(200), trues(200)},
		{"all bad", badTxs, allBad},
		{"bad at chunk edges", withBadAt(signedTxs(256), 0, 63, 64, 127, 128, 255), badAt(256, 0, 63, 64, 127, 128, 255)},
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 3, 8} {
		runtime.GOMAXPROCS(procs)
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/procs=%d", tt.name, procs), func(t *testing.T) {
				ids, errs := ledger.VerifyBatch(tt.txs)
				if len(ids) != len(tt.txs) || len(errs) != len(tt.txs) {
					t.Fatalf("VerifyBatch(%d txs) = %d ids, %d errors, want %d", len(tt.txs), len(ids), len(errs), len(tt.txs))
				}
				for i, tx := range tt.txs {
					if (errs[i] == nil) != tt.want[i] {
						t.Errorf("VerifyBatch(...)[%d] = %v, want valid %v", i, errs[i], tt.want[i])
					}
					if ids[i] != tx.ID() {
						t.Errorf("VerifyBatch(...) id[%d] = %v, want %v", i, ids[i], tx.ID())
					}
				}
			})
		}
	}
}

// Helpers for building signatures by hand.

func withFrom(tx *ledger.Tx, a ledger.Address) *ledger.Tx {
	out := *tx
	out.From = a
	return &out
}

func withNonce(tx *ledger.Tx, n uint64) *ledger.Tx {
	out := *tx
	out.Nonce = n
	return &out
}

func withSig(tx *ledger.Tx, s ledger.Signature) *ledger.Tx {
	out := *tx
	out.Sig = s
	return &out
}

func withR(s ledger.Signature, r [32]byte) ledger.Signature {
	copy(s[:32], r[:])
	return s
}

func flipBit(s ledger.Signature, bit int) ledger.Signature {
	s[bit/8] ^= 1 << (bit % 8)
	return s
}

// addToS returns s with n added to its little-endian S half.
func addToS(s ledger.Signature, n *big.Int) ledger.Signature {
	le := func(b []byte) []byte { // reverses a copy
		out := make([]byte, len(b))
		for i := range b {
			out[len(b)-1-i] = b[i]
		}
		return out
	}
	v := new(big.Int).SetBytes(le(s[32:]))
	v.Add(v, n)
	if v.BitLen() > 256 {
		panic("S overflows 256 bits")
	}
	copy(s[32:], le(v.FillBytes(make([]byte, 32))))
	return s
}

// notOnCurve returns the first encoding y = 2, 3, ... that is not
// the y coordinate of a curve point.
func notOnCurve() [32]byte {
	for y := byte(2); ; y++ {
		var enc [32]byte
		enc[0] = y
		if _, err := decompress(enc); err != nil {
			return enc
		}
	}
}

func trues(n int) []bool {
	out := make([]bool, n)
	for i := range out {
		out[i] = true
	}
	return out
}

func badAt(n int, idx ...int) []bool {
	out := trues(n)
	for _, i := range idx {
		out[i] = false
	}
	return out
}

func withBadAt(txs []*ledger.Tx, idx ...int) []*ledger.Tx {
	for _, i := range idx {
		txs[i] = withSig(txs[i], flipBit(txs[i].Sig, 256))
	}
	return txs
}

func testScalar(label string) *scalar.Scalar {
	h := sha512.Sum512([]byte("dualchain test scalar " + label))
	s, err := scalar.NewFromBytesModOrderWide(h[:])
	if err != nil {
		panic(err)
	}
	return s
}

func mulBase(s *scalar.Scalar) *curve.EdwardsPoint {
	return curve.NewEdwardsPoint().MulBasepoint(curve.ED25519_BASEPOINT_TABLE, s)
}

func compress(p *curve.EdwardsPoint) [32]byte {
	var c curve.CompressedEdwardsY
	c.SetEdwardsPoint(p)
	return c
}

func decompress(enc [32]byte) (*curve.EdwardsPoint, error) {
	c := curve.CompressedEdwardsY(enc)
	return curve.NewEdwardsPoint().SetCompressedY(&c)
}

// order returns the order of a small-order point, or 0 if it is not 1, 2,
// 4 or 8.
func order(p *curve.EdwardsPoint) int {
	q := curve.NewEdwardsPoint().Set(p)
	for n := 1; n <= 8; n *= 2 {
		if q.IsIdentity() {
			return n
		}
		q.Add(q, q)
	}
	return 0
}

// rawSign signs tx for the secret scalar a with nonce point R = rPoint,
// whose discrete log modulo L is r: S = r + H(R || From || msg) * a. The
// caller sets tx.From.
func rawSign(tx *ledger.Tx, a, r *scalar.Scalar, rPoint *curve.EdwardsPoint) {
	enc := compress(rPoint)
	h := sha512.New()
	h.Write(enc[:])
	h.Write(tx.From[:])
	h.Write(tx.SigningBytes())
	k, err := scalar.NewFromBytesModOrderWide(h.Sum(nil))
	if err != nil {
		panic(err)
	}
	s := scalar.New().Mul(k, a)
	s.Add(s, r)
	copy(tx.Sig[:32], enc[:])
	if err := s.ToBytes(tx.Sig[32:]); err != nil {
		panic(err)
	}
}
