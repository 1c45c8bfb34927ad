package export

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"

	"github.com/dualchain/dualchain/api"
)

// Kinds of file.
const (
	KindBlocks     = "blocks"
	KindTxs        = "txs"
	KindFrames     = "frames"
	KindEvents     = "events"
	KindTransfers  = "transfers"  // cold chains only
	KindDictionary = "dictionary" // dict-functions.csv, dict-contracts.csv
	KindCodes      = "codes"      // codes.csv
)

// table is one file of the open part: rows of type T written to a
// temporary file, renamed to its name when the part is finished.
type table[T any] struct {
	kind string
	path string // once finished
	f    *os.File
	bw   *bufio.Writer
	enc  encoder[T]
	rows int64
}

// partTable is a table of any row type.
type partTable interface {
	finish() (PartFile, error)
	abort()
}

func openTable[T any](o *Options, kind string, n int) (*table[T], error) {
	path := o.path(o.partName(kind, n))
	f, err := os.OpenFile(path+tmpSuffix, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	t := &table[T]{kind: kind, path: path, f: f, bw: bufio.NewWriterSize(f, 256<<10)}
	if t.enc, err = newEncoder[T](t.bw, o.Format, o.Compress); err != nil {
		t.abort()
		return nil, err
	}
	return t, nil
}

func (t *table[T]) write(rows []T) error {
	t.rows += int64(len(rows))
	return t.enc.encode(rows)
}

// finish completes the file, syncs it and gives it its name.
func (t *table[T]) finish() (PartFile, error) {
	err := t.enc.close()
	if err == nil {
		err = t.bw.Flush()
	}
	if err == nil {
		err = t.f.Sync()
	}
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	var st os.FileInfo
	if err == nil {
		st, err = os.Stat(t.path + tmpSuffix)
	}
	if err == nil {
		err = os.Rename(t.path+tmpSuffix, t.path)
	}
	if err != nil {
		_ = os.Remove(t.path + tmpSuffix)
		return PartFile{}, err
	}
	return PartFile{Kind: t.kind, Name: filepath.Base(t.path), Bytes: st.Size(), Rows: t.rows}, nil
}

// abort deletes the temporary file.
func (t *table[T]) abort() {
	_ = t.f.Close()
	_ = os.Remove(t.path + tmpSuffix)
}

// part is the part being written: a table of each kind, filled block by
// block.
type part struct {
	number   int
	from, to uint64 // heights written; to < from before the first block
	txs      uint64
	tables   []partTable // blocks, txs, frames, events, transfers: the manifest's order
	hot      *table[HotBlockRow]
	cold     *table[ColdBlockRow]
	txRows   *table[TxRow]
	frames   *table[FrameRow]
	events   *table[EventRow]
	transfer *table[TransferRow]
	buf      rowBuf
}

// openPart opens part n's tables, its first height from.
func openPart(o *Options, n int, from uint64) (*part, error) {
	p := &part{number: n, from: from, to: from - 1}
	var err error
	if o.Chain == ChainCold {
		err = openInto(p, o, KindBlocks, &p.cold)
	} else {
		err = openInto(p, o, KindBlocks, &p.hot)
	}
	if err == nil {
		err = openInto(p, o, KindTxs, &p.txRows)
	}
	if err == nil {
		err = openInto(p, o, KindFrames, &p.frames)
	}
	if err == nil {
		err = openInto(p, o, KindEvents, &p.events)
	}
	if err == nil && o.Chain == ChainCold {
		err = openInto(p, o, KindTransfers, &p.transfer)
	}
	if err != nil {
		p.abort()
		return nil, err
	}
	return p, nil
}

// openInto opens p's table of kind into dst.
func openInto[T any](p *part, o *Options, kind string, dst **table[T]) error {
	t, err := openTable[T](o, kind, p.number)
	if err != nil {
		return err
	}
	*dst = t
	p.tables = append(p.tables, t)
	return nil
}

// writeHot appends a hot block.
func (p *part) writeHot(b *api.BlockView, d *dicts) error {
	p.buf.reset()
	for i := range b.Txs {
		p.buf.addTx(&b.Txs[i], d)
	}
	return p.flush(b.Height, p.hot.write([]HotBlockRow{hotBlockRow(b)}))
}

// writeCold appends a cold block.
func (p *part) writeCold(cb *ColdBlock, d *dicts) error {
	p.buf.reset()
	for i := range cb.Txs {
		p.buf.addTx(&cb.Txs[i], d)
	}
	h := cb.Block.Header.Height
	p.buf.addTransfers(h, cb.Block.Settlements)
	p.buf.addTransfers(h, cb.Block.Deposits)
	err := p.transfer.write(p.buf.transfers)
	return p.flush(h, errors.Join(err, p.cold.write([]ColdBlockRow{coldBlockRow(cb)})))
}

// flush writes the block's buffered rows and counts it.
func (p *part) flush(height uint64, err error) error {
	err = errors.Join(err, p.txRows.write(p.buf.txs), p.frames.write(p.buf.frames), p.events.write(p.buf.events))
	if err != nil {
		return err
	}
	p.to = height
	p.txs += uint64(len(p.buf.txs))
	return nil
}

// finish finishes every table, or none.
func (p *part) finish() ([]PartFile, error) {
	files := make([]PartFile, 0, len(p.tables))
	for i, t := range p.tables {
		f, err := t.finish()
		if err != nil {
			for _, rest := range p.tables[i+1:] {
				rest.abort()
			}
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// abort deletes the part's temporary files.
func (p *part) abort() {
	for _, t := range p.tables {
		t.abort()
	}
}
