package hotchain

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"runtime"
	"sync"

	"github.com/dualchain/dualchain/ledger"
)

// metaVersion is the version of the stored layout (key schema and record
// encodings). Open refuses a store written with another version.
const metaVersion = 1

// metaRecord is Meta as stored: canonical CBOR, with the commitment's 2048
// bytes and the layout version.
type metaRecord struct {
	_           struct{} `cbor:",toarray"`
	Version     uint64
	Incarnation string
	Genesis     ledger.Hash
	Index       uint64
	Height      uint64
	Head        ledger.Hash
	Commitment  []byte
}

// blockRecord is a block as stored. The transactions are not repeated: each
// is in its own tx record, and Block reassembles them by the receipts' ids.
type blockRecord struct {
	_        struct{} `cbor:",toarray"`
	Header   ledger.Header
	Receipts []ledger.Receipt
	Writes   []ledger.Write
}

func encodeMeta(m Meta) []byte {
	c, _ := m.Commitment.MarshalBinary()
	return mustMarshal(metaRecord{
		Version: metaVersion, Incarnation: m.Incarnation, Genesis: m.Genesis,
		Index: m.Index, Height: m.Height, Head: m.Head, Commitment: c,
	})
}

func decodeMeta(b []byte) (Meta, error) {
	var r metaRecord
	if err := ledger.Unmarshal(b, &r); err != nil {
		return Meta{}, fmt.Errorf("%w: meta: %w", ErrCorrupt, err)
	}
	if r.Version != metaVersion {
		return Meta{}, fmt.Errorf("%w: meta version %d, this build reads %d", ErrCorrupt, r.Version, metaVersion)
	}
	m := Meta{Incarnation: r.Incarnation, Genesis: r.Genesis, Index: r.Index, Height: r.Height, Head: r.Head}
	if err := m.Commitment.UnmarshalBinary(r.Commitment); err != nil {
		return Meta{}, fmt.Errorf("meta: %w", err)
	}
	return m, nil
}

// encodeParallelMin is the number of transactions below which a block's
// records are encoded on one goroutine.
const encodeParallelMin = 512

// encodeRecords encodes b's block record and one TxRecord per transaction,
// byte for byte as ledger.Marshal would (a test holds it to that), but
// encoding each receipt once for both records and framing the arrays and
// write set by hand: reflection-driven CBOR was most of Apply's own CPU time.
// Large blocks are split over GOMAXPROCS goroutines; encodeRecords returns
// when they have all ended.
func encodeRecords(b *ledger.Block) (block []byte, txs [][]byte) {
	txs = make([][]byte, len(b.Txs))
	receipts := make([][]byte, len(b.Receipts))
	workers := min(runtime.GOMAXPROCS(0), len(b.Txs)/encodeParallelMin)
	if workers <= 1 {
		encodeTxRecords(b, receipts, txs, 0, len(txs))
	} else {
		var wg sync.WaitGroup
		for i := range workers {
			lo, hi := i*len(txs)/workers, (i+1)*len(txs)/workers
			wg.Go(func() { encodeTxRecords(b, receipts, txs, lo, hi) })
		}
		wg.Wait()
	}
	return blockRecordBytes(b, receipts), txs
}

// encodeTxRecords encodes the receipts and TxRecords of b's transactions lo
// to hi-1: each record in one buffer, written by ledger's canonical
// encoders, and each receipt a slice of its record.
func encodeTxRecords(b *ledger.Block, receipts, txs [][]byte, lo, hi int) {
	for i := lo; i < hi; i++ {
		tx, r := &b.Txs[i], &b.Receipts[i]
		rec := make([]byte, 0, 1+tx.EncodedSize()+r.EncodedSize()+18)
		rec = tx.AppendCBOR(append(rec, cborArray|4))
		start := len(rec)
		rec = r.AppendCBOR(rec)
		receipts[i] = rec[start:len(rec):len(rec)]
		rec = cborHead(rec, cborUint, b.Header.Height)
		txs[i] = cborHead(rec, cborUint, uint64(i))
	}
}

// blockRecordBytes frames a blockRecord from its encoded receipts, in one
// buffer.
func blockRecordBytes(b *ledger.Block, receipts [][]byte) []byte {
	size := 16 + writesSize(b.Writes)
	for _, r := range receipts {
		size += len(r)
	}
	out := append(make([]byte, 0, size+256), cborArray|3)
	out = b.Header.AppendCBOR(out)
	out = cborHead(out, cborArray, uint64(len(receipts)))
	for _, r := range receipts {
		out = append(out, r...)
	}
	return appendWrites(out, b.Writes)
}

// appendWrites appends the CBOR array of a write set.
func appendWrites(dst []byte, writes []ledger.Write) []byte {
	dst = cborHead(dst, cborArray, uint64(len(writes)))
	for _, w := range writes {
		dst = appendByteString(append(dst, cborArray|2), w.Key)
		dst = appendByteString(dst, w.Value)
	}
	return dst
}

// writesSize bounds appendWrites' output.
func writesSize(writes []ledger.Write) int {
	n := 9
	for _, w := range writes {
		n += 1 + 9 + len(w.Key) + 9 + len(w.Value)
	}
	return n
}

// The record encoders use ledger's canonical CBOR writers.
const (
	cborUint  = ledger.MajorUint
	cborArray = ledger.MajorArray
)

var (
	cborHead         = ledger.AppendHead
	appendByteString = ledger.AppendBytes
)

func decodeBlockRecord(data []byte) (*blockRecord, error) {
	r := new(blockRecord)
	if err := ledger.Unmarshal(data, r); err != nil {
		return nil, fmt.Errorf("%w: block: %w", ErrCorrupt, err)
	}
	return r, nil
}

func decodeTxRecord(data []byte) (*ledger.TxRecord, error) {
	r := new(ledger.TxRecord)
	if err := ledger.Unmarshal(data, r); err != nil {
		return nil, fmt.Errorf("%w: tx: %w", ErrCorrupt, err)
	}
	return r, nil
}

// assembleBlock rebuilds a block from its record and its transactions'
// records (one per receipt, in order).
func assembleBlock(r *blockRecord, txs [][]byte) (*ledger.Block, error) {
	b := &ledger.Block{Header: r.Header, Receipts: r.Receipts, Writes: r.Writes, Txs: make([]ledger.Tx, len(txs))}
	for i, data := range txs {
		if data == nil {
			return nil, fmt.Errorf("%w: block %d: tx %s missing", ErrCorrupt, r.Header.Height, r.Receipts[i].TxID)
		}
		rec, err := decodeTxRecord(data)
		if err != nil {
			return nil, fmt.Errorf("block %d: %w", r.Header.Height, err)
		}
		b.Txs[i] = rec.Tx
	}
	return b, nil
}

// mustMarshal encodes records whose types cannot fail to encode.
func mustMarshal(v any) []byte {
	b, err := ledger.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("hotchain: encode %T: %v", v, err))
	}
	return b
}

// newIncarnation returns a random id for a newly initialized store.
func newIncarnation() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("hotchain: incarnation: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
