package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

// BenchmarkBlocksPage measures one traced range page both ways, a block
// of 3,000 token transfers each with an 11-frame trace (a dev node run
// with --exec vm --vm-trace makes such blocks): the node answering GET
// /v1/blocks?from=1&to=1&traces=true through its handler, and a client
// making the page's []BlockView of the body, as the exporter does (JSON:
// json.Unmarshal; CBOR: ledger.Unmarshal and Views). serve and decode
// are the two halves alone.
//
//	go test ./api -run '^$' -bench '^BenchmarkBlocksPage$' -benchmem -count 5
func BenchmarkBlocksPage(b *testing.B) {
	page := benchPage(1, 3000, 11)
	h := New(newBenchBackend(page), TestConfig()).Handler()
	forms := []struct {
		name, accept string
		decode       func([]byte) ([]BlockView, error)
	}{
		{"json", MediaJSON, decodeJSONPage},
		{"cbor", MediaCBOR, decodeCBORPage},
	}
	for _, f := range forms {
		req := httptest.NewRequest(http.MethodGet, "/v1/blocks?from=1&to=1&traces=true", nil)
		req.Header.Set("Accept", f.accept)
		w := &benchWriter{header: http.Header{}}
		serve := func(b *testing.B) {
			w.body.Reset()
			clear(w.header)
			h.ServeHTTP(w, req)
			if w.code != http.StatusOK {
				b.Fatalf("status %d: %.300s", w.code, w.body.Bytes())
			}
		}
		decode := func(b *testing.B, body []byte) {
			views, err := f.decode(body)
			if err != nil || len(views) != 1 || len(views[0].Txs) != 3000 || views[0].Txs[2999].Trace == nil {
				b.Fatalf("decode: %d views, %v", len(views), err)
			}
		}
		serve(b)
		body := bytes.Clone(w.body.Bytes())
		b.Run(f.name, func(b *testing.B) {
			for b.Loop() {
				serve(b)
				decode(b, w.body.Bytes())
			}
			b.ReportMetric(float64(len(body)), "bytes/page")
		})
		b.Run(f.name+"/serve", func(b *testing.B) {
			for b.Loop() {
				serve(b)
			}
		})
		b.Run(f.name+"/decode", func(b *testing.B) {
			for b.Loop() {
				decode(b, body)
			}
		})
	}
}

func decodeJSONPage(body []byte) ([]BlockView, error) {
	var p BlocksPage
	err := json.Unmarshal(body, &p)
	return p.Blocks, err
}

func decodeCBORPage(body []byte) ([]BlockView, error) {
	var p RawBlocksPage
	if err := ledger.Unmarshal(body, &p); err != nil {
		return nil, err
	}
	return p.Views()
}

// benchBackend serves a page's blocks and traces; it answers nothing
// else (its Backend is nil).
type benchBackend struct {
	Backend
	blocks map[uint64]*ledger.Block
	traces map[uint64]*ledger.Trace // by ledger.TxKey
	head   uint64
}

func newBenchBackend(p *RawBlocksPage) *benchBackend {
	bb := &benchBackend{blocks: map[uint64]*ledger.Block{}, traces: map[uint64]*ledger.Trace{}}
	for i := range p.Blocks {
		bb.blocks[p.Blocks[i].Header.Height] = &p.Blocks[i]
		bb.head = max(bb.head, p.Blocks[i].Header.Height)
	}
	for i := range p.Traces {
		bb.traces[ledger.TxKey(p.Traces[i].Height, p.Traces[i].Index)] = &p.Traces[i].Trace
	}
	return bb
}

func (bb *benchBackend) Status(context.Context) (Status, error) { return Status{Height: bb.head}, nil }

func (bb *benchBackend) Block(_ context.Context, h uint64) (*ledger.Block, error) {
	if b, ok := bb.blocks[h]; ok {
		return b, nil
	}
	return nil, errorf(CodeNotFound, fmt.Sprintf("no block %d", h), nil)
}

// Traces returns the traces of blocks from..to; the map is built anew,
// as a node's is.
func (bb *benchBackend) Traces(_ context.Context, from, to uint64) (map[uint64]*ledger.Trace, error) {
	out := map[uint64]*ledger.Trace{}
	for k, t := range bb.traces {
		if h := k / ledger.MaxBlockTxs; h >= from && h <= to {
			out[k] = t
		}
	}
	return out, nil
}

func (bb *benchBackend) Trace(context.Context, ledger.Hash) (*ledger.Trace, error) {
	return nil, errorf(CodeNotFound, "no trace", nil)
}

// benchWriter is a ResponseWriter that keeps the body in a buffer reused
// from one request to the next.
type benchWriter struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (w *benchWriter) Header() http.Header         { return w.header }
func (w *benchWriter) WriteHeader(code int)        { w.code = code }
func (w *benchWriter) Write(p []byte) (int, error) { return w.body.Write(p) }
