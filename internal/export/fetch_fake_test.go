package export

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
)

// fakeChainID is the fake node's chain.
const fakeChainID = "export-test"

// fault is what the fake node does to a request instead of answering it.
type fault int

const (
	faultNone       fault = iota
	fault500              // 500 with the node's JSON error
	fault503              // 503, no Retry-After
	fault429              // 429 with Retry-After: 1
	fault404              // 404 not_found
	faultReset            // the headers and half the body, then the connection is closed
	faultTruncated        // 200 with half the body (JSON or CBOR), as a whole response
	faultHang             // no answer until the client gives up
	faultWrongIndex       // a transaction at another index than its block's
	faultStrayTrace       // a CBOR page with a trace of a transaction it does not hold
)

func (f fault) String() string {
	return [...]string{"none", "500", "503", "429 with Retry-After", "404", "reset mid-body",
		"truncated body", "hung request", "wrong index", "stray trace"}[f]
}

// fakeNode serves the read API an export uses over synthetic hot and cold
// chains, counting requests, requests in flight and connections, with
// faults and delays as a test asks.
type fakeNode struct {
	t       *testing.T
	hot     []*ledger.Block    // hot[h-1] is height h
	cold    []ledger.ColdBlock // cold[h-1] is height h
	recs    map[ledger.Hash]ledger.TxRecord
	traces  map[ledger.Hash]*ledger.Trace
	pageTxs int // a page ends early once it holds this many txs (api.MaxRangeTxs)
	srv     *httptest.Server

	// Set before the export starts.
	delay time.Duration                       // before every answer
	fault func(uri string, attempt int) fault // attempt counts from 1 per URI
	// jsonOnly makes the node one older than the CBOR range page: it
	// answers GET /v1/blocks in JSON whatever the Accept header asks.
	jsonOnly bool

	mu       sync.Mutex
	attempts map[string][]time.Time // by request URI

	requests, cutPages     atomic.Int64
	cborPages, jsonPages   atomic.Int64 // GET /v1/blocks answered in each form
	inFlight, peakInFlight atomic.Int64
	open, peakOpen, opened atomic.Int64
	hung                   chan struct{} // closed at cleanup: hung handlers return
}

// newFakeNode serves hot blocks 1..hotBlocks and cold blocks
// 1..coldBlocks; a page holds at most pageTxs transactions.
func newFakeNode(t *testing.T, hotBlocks, coldBlocks, pageTxs int) *fakeNode {
	n := &fakeNode{t: t, recs: map[ledger.Hash]ledger.TxRecord{}, traces: map[ledger.Hash]*ledger.Trace{},
		pageTxs: pageTxs, attempts: map[string][]time.Time{}, hung: make(chan struct{})}
	for h := uint64(1); h <= uint64(hotBlocks); h++ {
		n.hot = append(n.hot, n.hotBlock(h))
	}
	for h := uint64(1); h <= uint64(coldBlocks); h++ {
		n.cold = append(n.cold, n.coldBlock(h))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", n.status)
	mux.HandleFunc("GET /v1/blocks", n.blocks)
	mux.HandleFunc("GET /v1/transactions/{id}", n.tx)
	mux.HandleFunc("GET /v1/cold/blocks", n.coldBlocks)
	mux.HandleFunc("GET /v1/cold/blocks/latest", n.coldLatest)
	n.srv = httptest.NewUnstartedServer(n.counted(mux))
	n.srv.Config.ConnState = n.connState
	n.srv.Start()
	t.Cleanup(func() {
		close(n.hung)
		n.srv.Close()
	})
	return n
}

func (n *fakeNode) url() string { return n.srv.URL }

// hotBlock makes hot block h: 0 to 10 transfers, a third of them run in
// the VM with a trace, some failed.
func (n *fakeNode) hotBlock(h uint64) *ledger.Block {
	b := &ledger.Block{Header: ledger.Header{ChainID: fakeChainID, Height: h, Time: int64(h)*1e9 + 12_345,
		Parent: ledger.Hash{byte(h - 1), 1}, TxRoot: ledger.Hash{byte(h), 2}, ResultRoot: ledger.Hash{byte(h), 3},
		Commitment: ledger.Hash{byte(h), 4}}}
	for i := range int(h*7) % 11 {
		tx, rc := n.transfer(ledger.Hot, h, i)
		if i%3 == 0 {
			rc.Path = ledger.PathVM
			n.traces[rc.TxID] = fakeTrace(h, i)
		}
		b.Txs, b.Receipts = append(b.Txs, tx), append(b.Receipts, rc)
		n.recs[rc.TxID] = ledger.TxRecord{Tx: tx, Receipt: rc, Height: h, Index: uint32(i)}
	}
	return b
}

// coldBlock makes cold block h: 0 to 3 cold transfers, run natively (no
// traces, as on a node).
func (n *fakeNode) coldBlock(h uint64) ledger.ColdBlock {
	b := ledger.ColdBlock{Header: ledger.ColdHeader{ChainID: fakeChainID, Height: h, Time: int64(h) * 2e9,
		Parent: ledger.Hash{byte(h - 1), 5}, StateRoot: ledger.Hash{byte(h), 6}}}
	for i := range int(h % 4) {
		tx, rc := n.transfer(ledger.Cold, h, i)
		b.Txs, b.Receipts = append(b.Txs, tx), append(b.Receipts, rc)
		n.recs[rc.TxID] = ledger.TxRecord{Tx: tx, Receipt: rc, Height: h, Index: uint32(i)}
	}
	return b
}

func (n *fakeNode) transfer(chain ledger.Chain, h uint64, i int) (ledger.Tx, ledger.Receipt) {
	from, to := ledger.Address{byte(chain), byte(h), byte(h >> 8), byte(i)}, ledger.Address{9, byte(i), byte(h)}
	tx := ledger.Tx{ChainID: fakeChainID, Chain: chain, Nonce: h*100 + uint64(i), From: from,
		Contract: token.Address, Function: token.FuncTransfer, Args: token.EncodeTransfer(to, h+uint64(i)), GasLimit: 5000}
	tx.Sig[0], tx.Sig[63] = byte(h), byte(i)
	rc := ledger.Receipt{TxID: tx.ID(), GasUsed: 100 + uint64(i), Path: ledger.PathNative,
		Events: []ledger.Event{{Name: "transfer", Data: ledger.Bytes{byte(i), byte(h)}}}}
	if i%5 == 4 {
		rc.Status, rc.Error, rc.Events = ledger.StatusInsufficientFunds, "insufficient funds", nil
	}
	return tx, rc
}

func fakeTrace(h uint64, i int) *ledger.Trace {
	tr := &ledger.Trace{}
	for d := range 1 + i%3 {
		tr.Frames = append(tr.Frames, ledger.Frame{Depth: uint32(d), Function: fmt.Sprintf("f%d", d),
			MemBefore: 65536, MemAfter: 65536 * uint64(1+d), GrowPages: uint32(d), GrowGas: uint64(d) * 7,
			Gas: h*10 + uint64(i), Loads: uint64(d + 3), Stores: uint64(i)})
	}
	return tr
}

// hotViews is what an export must hand the sink for hot heights from to
// to: the API's views, with their traces.
func (n *fakeNode) hotViews(from, to uint64) []api.BlockView {
	var out []api.BlockView
	for h := from; h <= to; h++ {
		v := api.NewBlockView(n.hot[h-1], false)
		for i := range v.Txs {
			v.Txs[i].Trace = n.traces[v.Txs[i].ID]
		}
		out = append(out, v)
	}
	return out
}

// coldViews is the same for cold heights.
func (n *fakeNode) coldViews(from, to uint64) []ColdBlock {
	var out []ColdBlock
	for h := from; h <= to; h++ {
		b := n.cold[h-1]
		cb := ColdBlock{Block: b, Txs: []api.TxView{}}
		for i := range b.Txs {
			cb.Txs = append(cb.Txs, api.NewTxView(&ledger.TxRecord{Tx: b.Txs[i], Receipt: b.Receipts[i], Height: h, Index: uint32(i)}))
		}
		out = append(out, cb)
	}
	return out
}

// counted counts requests in flight, delays them, and applies the fault.
func (n *fakeNode) counted(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.requests.Add(1)
		peak(&n.peakInFlight, n.inFlight.Add(1))
		defer n.inFlight.Add(-1)
		attempt := n.attempt(r.URL.RequestURI())
		if n.delay > 0 {
			select {
			case <-time.After(n.delay):
			case <-r.Context().Done():
				return
			}
		}
		f := faultNone
		if n.fault != nil {
			f = n.fault(r.URL.RequestURI(), attempt)
		}
		if !n.injure(w, r, f) {
			next.ServeHTTP(&faultWriter{ResponseWriter: w, f: f}, r)
		}
	})
}

// attempt records a request for uri and says which attempt it is.
func (n *fakeNode) attempt(uri string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.attempts[uri] = append(n.attempts[uri], time.Now())
	return len(n.attempts[uri])
}

// attemptsOf returns when uri was asked for.
func (n *fakeNode) attemptsOf(uri string) []time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]time.Time(nil), n.attempts[uri]...)
}

// injure answers with a fault that needs no real answer; it reports
// whether it did.
func (n *fakeNode) injure(w http.ResponseWriter, r *http.Request, f fault) bool {
	switch f {
	case fault500:
		writeError(w, http.StatusInternalServerError, api.CodeInternal, "internal error")
	case fault503:
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the node is busy")
	case fault429:
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, "too_many_requests", "slow down")
	case fault404:
		writeError(w, http.StatusNotFound, api.CodeNotFound, "no such thing here")
	case faultHang:
		select {
		case <-r.Context().Done():
		case <-n.hung:
		}
	default:
		return false
	}
	return true
}

// faultWriter applies the faults that need the real answer: it cuts the
// body it is given.
type faultWriter struct {
	http.ResponseWriter
	f fault
}

func (fw *faultWriter) Write(body []byte) (int, error) {
	half := body[:len(body)/2]
	switch fw.f {
	case faultTruncated:
		return fw.ResponseWriter.Write(half)
	case faultReset:
		conn, buf, err := http.NewResponseController(fw.ResponseWriter).Hijack()
		if err != nil {
			return 0, err
		}
		defer conn.Close()
		writeHead(buf, fw.Header().Get("Content-Type"), len(body))
		buf.Write(half)
		return 0, buf.Flush()
	}
	return fw.ResponseWriter.Write(body)
}

// writeHead writes a 200's head announcing size bytes of contentType.
func writeHead(buf *bufio.ReadWriter, contentType string, size int) {
	fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", contentType, size)
}

func (n *fakeNode) connState(_ net.Conn, s http.ConnState) {
	switch s {
	case http.StateNew:
		n.opened.Add(1)
		peak(&n.peakOpen, n.open.Add(1))
	case http.StateClosed, http.StateHijacked:
		n.open.Add(-1)
	}
}

// peak raises p to v if v is higher.
func peak(p *atomic.Int64, v int64) {
	for {
		old := p.Load()
		if v <= old || p.CompareAndSwap(old, v) {
			return
		}
	}
}

func (n *fakeNode) status(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, api.Status{ChainID: fakeChainID, Height: uint64(len(n.hot)), CaughtUp: true})
}

// blocks serves GET /v1/blocks?from=&to=: in CBOR when the Accept header
// names application/cbor (unless jsonOnly), as the node does when it
// prefers it, else in JSON.
func (n *fakeNode) blocks(w http.ResponseWriter, r *http.Request) {
	from, to, ok := n.parseRange(w, r, len(n.hot))
	if !ok {
		return
	}
	traces := r.URL.Query().Get("traces") == "true"
	if !n.jsonOnly && strings.Contains(r.Header.Get("Accept"), api.MediaCBOR) {
		n.cborPages.Add(1)
		page := n.rawPage(from, to, traces)
		if fw, ok := w.(*faultWriter); ok && fw.f == faultStrayTrace {
			page.Traces = append(page.Traces, api.BlockTxTrace{Height: from, Index: 1_000})
		}
		writeCBOR(w, page)
		return
	}
	n.jsonPages.Add(1)
	page := api.BlocksPage{Blocks: []api.BlockView{}}
	page.Next = n.walk(from, to, func(b *ledger.Block) {
		v := api.NewBlockView(b, false)
		for i := range v.Txs {
			if traces {
				v.Txs[i].Trace = n.traces[v.Txs[i].ID]
			}
		}
		page.Blocks = append(page.Blocks, v)
	})
	writeJSON(w, page)
}

// rawPage is the CBOR page of from..to.
func (n *fakeNode) rawPage(from, to uint64, traces bool) *api.RawBlocksPage {
	page := &api.RawBlocksPage{}
	page.Next = n.walk(from, to, func(b *ledger.Block) {
		page.Blocks = append(page.Blocks, *b)
		for i := range b.Receipts {
			if t := n.traces[b.Receipts[i].TxID]; t != nil && traces {
				page.Traces = append(page.Traces, api.BlockTxTrace{Height: b.Header.Height, Index: uint32(i), Trace: *t})
			}
		}
	})
	return page
}

// walk hands add the hot blocks of a page from..to, and returns its next:
// a page ends early once it holds pageTxs transactions.
func (n *fakeNode) walk(from, to uint64, add func(*ledger.Block)) (next uint64) {
	txs := 0
	for h := from; h <= to; h++ {
		if txs >= n.pageTxs {
			n.cutPages.Add(1)
			return h
		}
		add(n.hot[h-1])
		txs += len(n.hot[h-1].Txs)
	}
	return 0
}

func (n *fakeNode) coldBlocks(w http.ResponseWriter, r *http.Request) {
	from, to, ok := n.parseRange(w, r, len(n.cold))
	if !ok {
		return
	}
	page := api.ColdBlocksPage{Blocks: []ledger.ColdBlock{}}
	txs := 0
	for h := from; h <= to; h++ {
		if txs >= n.pageTxs {
			page.Next = h
			n.cutPages.Add(1)
			break
		}
		page.Blocks = append(page.Blocks, n.cold[h-1])
		txs += len(n.cold[h-1].Txs)
	}
	writeJSON(w, page)
}

func (n *fakeNode) coldLatest(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, n.cold[len(n.cold)-1])
}

// parseRange reads from and to as the node does: at most
// api.MaxRangeBlocks, cut at the head.
func (n *fakeNode) parseRange(w http.ResponseWriter, r *http.Request, head int) (from, to uint64, ok bool) {
	q := r.URL.Query()
	from, err1 := strconv.ParseUint(q.Get("from"), 10, 64)
	to, err2 := strconv.ParseUint(q.Get("to"), 10, 64)
	if err1 != nil || err2 != nil || from == 0 || to < from || to-from >= api.MaxRangeBlocks {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, "bad range "+r.URL.RawQuery)
		return 0, 0, false
	}
	return from, min(to, uint64(head)), true
}

func (n *fakeNode) tx(w http.ResponseWriter, r *http.Request) {
	id, err := ledger.ParseHash(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadHash, err.Error())
		return
	}
	rec, ok := n.recs[id]
	if !ok {
		writeError(w, http.StatusNotFound, api.CodeNotFound, "transaction "+id.String())
		return
	}
	v := api.NewTxView(&rec)
	if r.URL.Query().Get("trace") == "true" {
		v.Trace = n.traces[id]
	}
	if fw, ok := w.(*faultWriter); ok && fw.f == faultWrongIndex {
		v.Index++
	}
	writeJSON(w, v)
}

func writeJSON(w http.ResponseWriter, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	w.Header().Set("Content-Type", api.MediaJSON)
	w.Write(body)
}

// writeCBOR answers with v as ledger.Marshal encodes it: the generic
// encoder, not the node's hand-written one, so the export is also tested
// against another encoder of the same bytes.
func writeCBOR(w http.ResponseWriter, v any) {
	body, err := ledger.Marshal(v)
	if err != nil {
		panic(err)
	}
	w.Header().Set("Content-Type", api.MediaCBOR)
	w.Write(body)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	body, _ := json.Marshal(api.ErrorResponse{Error: api.ErrorBody{Code: code, Message: msg}})
	w.Header().Set("Content-Type", api.MediaJSON)
	w.WriteHeader(status)
	w.Write(body)
}
