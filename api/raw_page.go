package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/dualchain/dualchain/ledger"
)

// RawBlocksPage is GET /v1/blocks?from=&to= in CBOR, the answer when the
// Accept header prefers application/cbor: the same page as BlocksPage
// (the same blocks, limits, cut and Next), but each block in its
// canonical ledger encoding, as GET /v1/blocks/{height}/raw serves it,
// and the traces beside the blocks instead of in transaction views. A
// client decodes it with ledger.Unmarshal, which reads canonical blocks
// and traces by hand, and makes the JSON page's views with Views: an
// exporter reading traced pages spent most of its CPU decoding them as
// JSON.
//
// ?writes= is read as for JSON (a bad value is 400) but changes nothing:
// a block's canonical encoding always holds its write set.
type RawBlocksPage struct {
	_      struct{}       `cbor:",toarray"`
	Blocks []ledger.Block // in height order
	// Traces, with ?traces=true, are the traces the node has for the
	// page's transactions, in (height, index) order; empty without.
	Traces []BlockTxTrace
	Next   uint64 // as BlocksPage.Next: 0 unless the page was cut short
}

// BlockTxTrace is the VM trace of transaction Index of block Height.
type BlockTxTrace struct {
	_      struct{} `cbor:",toarray"`
	Height uint64
	Index  uint32
	Trace  ledger.Trace
}

// ErrBadPageTraces is a RawBlocksPage whose traces are not in (height,
// index) order or name a transaction the page does not hold: a node
// never sends one.
var ErrBadPageTraces = errors.New("api: a trace of the page is out of order or names no transaction of it")

// Views returns the blocks as GET /v1/blocks?from=&to= in JSON gives them
// without ?writes=: NewBlockView's views, each transaction with its trace
// from Traces. The views' traces point into p.
func (p *RawBlocksPage) Views() ([]BlockView, error) {
	views := make([]BlockView, len(p.Blocks))
	next := 0 // the first trace not yet placed
	for i := range p.Blocks {
		views[i] = NewBlockView(&p.Blocks[i], false)
		var err error
		if next, err = p.placeTraces(&views[i], next); err != nil {
			return nil, err
		}
	}
	if next < len(p.Traces) {
		t := &p.Traces[next]
		return nil, fmt.Errorf("%w: block %d transaction %d", ErrBadPageTraces, t.Height, t.Index)
	}
	return views, nil
}

// placeTraces sets the traces of v's transactions from Traces[next:], as
// far as they are v's, and returns the first trace that is not.
func (p *RawBlocksPage) placeTraces(v *BlockView, next int) (int, error) {
	for start := next; next < len(p.Traces) && p.Traces[next].Height == v.Height; next++ {
		t := &p.Traces[next]
		if int64(t.Index) >= int64(len(v.Txs)) || (next > start && t.Index <= p.Traces[next-1].Index) {
			return 0, fmt.Errorf("%w: block %d transaction %d, of %d", ErrBadPageTraces, t.Height, t.Index, len(v.Txs))
		}
		v.Txs[t.Index].Trace = &t.Trace
	}
	return next, nil
}

// getRawBlocks answers GET /v1/blocks?from=&to= with a RawBlocksPage.
func (s *Server) getRawBlocks(w http.ResponseWriter, r *http.Request, from, to uint64) {
	page, err := s.rawBlockPage(r, from, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeCBOR(w, r, page.appendCBOR)
}

// rawBlockPage is blockPage for the CBOR page: the same walk, keeping
// the blocks as they are.
func (s *Server) rawBlockPage(r *http.Request, from, to uint64) (*RawBlocksPage, error) {
	_, traces, err := blockParams(r)
	if err != nil {
		return nil, err
	}
	page := &RawBlocksPage{Blocks: []ledger.Block{}, Traces: []BlockTxTrace{}}
	page.Next, err = s.walkRange(r.Context(), from, to, traces, func(b *ledger.Block, tr []*ledger.Trace) {
		page.Blocks = append(page.Blocks, *b)
		for i, t := range tr {
			if t != nil {
				page.Traces = append(page.Traces, BlockTxTrace{Height: b.Header.Height, Index: uint32(i), Trace: *t})
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// appendCBOR appends what ledger.Marshal makes of p, by hand and into one
// buffer sized first: through reflection the traces alone cost more than
// the blocks. raw_page_test.go holds it to ledger.Marshal. It never fails
// (writeCBOR takes a function that may).
func (p *RawBlocksPage) appendCBOR(b []byte) ([]byte, error) {
	b = slices.Grow(b, p.encodedSize())
	b = ledger.AppendHead(b, ledger.MajorArray, 3)
	b = ledger.AppendHead(b, ledger.MajorArray, uint64(len(p.Blocks)))
	for i := range p.Blocks {
		b = p.Blocks[i].AppendCBOR(b)
	}
	b = ledger.AppendHead(b, ledger.MajorArray, uint64(len(p.Traces)))
	for i := range p.Traces {
		t := &p.Traces[i]
		b = ledger.AppendHead(b, ledger.MajorArray, 3)
		b = ledger.AppendHead(b, ledger.MajorUint, t.Height)
		b = ledger.AppendHead(b, ledger.MajorUint, uint64(t.Index))
		b = t.Trace.AppendCBOR(b)
	}
	return ledger.AppendHead(b, ledger.MajorUint, p.Next), nil
}

// encodedSize bounds appendCBOR's output.
func (p *RawBlocksPage) encodedSize() int {
	n := 1 + 2*9 + 9
	for i := range p.Blocks {
		n += p.Blocks[i].EncodedSize()
	}
	for i := range p.Traces {
		n += 1 + 9 + 5 + p.Traces[i].Trace.EncodedSize()
	}
	return n
}
