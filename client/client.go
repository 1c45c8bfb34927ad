package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/ledger"
)

// DefaultMaxConns is the default size of a Client's connection pool.
const DefaultMaxConns = 32

// maxResponse bounds a response body read into memory.
const maxResponse = 256 << 20

// Client talks to one node. Make one with New.
type Client struct {
	base  string
	hc    *http.Client
	token string // the cluster's admin token, sent when set (Admin)
}

type settings struct {
	hc       *http.Client
	maxConns int
}

// Option configures a Client.
type Option func(*settings)

// WithHTTPClient makes the Client send its requests with hc (WithMaxConns
// is then ignored).
func WithHTTPClient(hc *http.Client) Option { return func(s *settings) { s.hc = hc } }

// WithMaxConns sizes the pool of keep-alive connections to the node.
func WithMaxConns(n int) Option { return func(s *settings) { s.maxConns = n } }

// New returns a client for the node at baseURL, e.g. http://127.0.0.1:8545.
func New(baseURL string, opts ...Option) *Client {
	s := settings{maxConns: DefaultMaxConns}
	for _, o := range opts {
		o(&s)
	}
	if s.hc == nil {
		s.hc = &http.Client{Transport: newTransport(max(s.maxConns, 1))}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), hc: s.hc}
}

// newTransport keeps up to conns idle connections to the node, so that
// concurrent callers reuse connections instead of dialing.
func newTransport(conns int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = conns
	t.MaxIdleConnsPerHost = conns
	t.IdleConnTimeout = 90 * time.Second
	return t
}

// Submit sends txs (CBOR) and returns one result per tx, in order: pending,
// or rejected with its error (see ResultError). If the node rejected every
// tx, it returns the results and an *Error for the whole submission. While
// the cluster has no leader (an election after the leader failed), it
// sends the same transactions again until ctx ends: a nonce is used once,
// so a transaction is never applied twice.
func (c *Client) Submit(ctx context.Context, txs ...*ledger.Tx) ([]api.TxResult, error) {
	return c.submit(ctx, "/v1/transactions", txs)
}

// SubmitWait is Submit that waits, as long as the node allows, until the
// txs are committed: results are then committed with a receipt, rejected,
// or still pending if the node's wait timed out.
func (c *Client) SubmitWait(ctx context.Context, txs ...*ledger.Tx) ([]api.TxResult, error) {
	return c.submit(ctx, "/v1/transactions?wait=commit", txs)
}

func (c *Client) submit(ctx context.Context, path string, txs []*ledger.Tx) ([]api.TxResult, error) {
	if len(txs) == 0 {
		return nil, errors.New("client: submit: no transactions")
	}
	results := make([]api.TxResult, len(txs))
	todo := make([]int, len(txs)) // positions still to (re)submit
	for i := range todo {
		todo[i] = i
	}
	for attempt := 0; ; attempt++ {
		batch := make([]*ledger.Tx, len(todo))
		for j, i := range todo {
			batch[j] = txs[i]
		}
		res, err := c.submitOnce(ctx, path, batch)
		if err != nil && (!leaderless(err) || !sleep(ctx, attempt)) {
			if len(todo) < len(txs) { // an earlier attempt answered for the others
				return results, nil
			}
			return res, err
		}
		if err != nil {
			continue
		}
		var again []int
		for j, i := range todo {
			results[i] = res[j]
			if r := res[j]; r.Error != nil && leaderlessCode(r.Error.Code) {
				again = append(again, i)
			}
		}
		if len(again) == 0 || !sleep(ctx, attempt) {
			return results, allRejectedErr(results)
		}
		todo = again
	}
}

// submitOnce sends one submission.
func (c *Client) submitOnce(ctx context.Context, path string, txs []*ledger.Tx) ([]api.TxResult, error) {
	body := txs[0].Encode()
	if len(txs) > 1 {
		var err error
		if body, err = ledger.Marshal(txs); err != nil {
			return nil, fmt.Errorf("client: encode transactions: %w", err)
		}
	}
	var resp api.SubmitResponse
	err := c.do(ctx, http.MethodPost, path, body, &resp)
	return resp.Results, err
}

// leaderless reports a submission refused because the cluster is between
// leaders: sending the same signed transactions again is safe (a nonce is
// used once) and will succeed once a leader is elected.
func leaderless(err error) bool {
	var e *Error
	return errors.As(err, &e) && leaderlessCode(e.Code)
}

func leaderlessCode(code string) bool {
	return code == api.CodeNoLeader || code == api.CodeNotLeader
}

// sleep waits before retry attempt, from 50 ms up to 1 s; it reports false
// if ctx ends first.
func sleep(ctx context.Context, attempt int) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(min(50*time.Millisecond<<min(attempt, 5), time.Second)):
		return true
	}
}

// allRejectedErr is the error for a submission whose every transaction was
// rejected, as the node reports it (see Submit).
func allRejectedErr(results []api.TxResult) error {
	for _, r := range results {
		if r.Status != api.StatusRejected {
			return nil
		}
	}
	if len(results) == 1 {
		return ResultError(results[0])
	}
	return &Error{Code: api.CodeRejected, Message: "every transaction was rejected", HTTPStatus: http.StatusBadRequest}
}

// Tx returns a committed transaction with its receipt.
func (c *Client) Tx(ctx context.Context, id ledger.Hash) (*api.TxView, error) {
	var v api.TxView
	if err := c.do(ctx, http.MethodGet, "/v1/transactions/"+id.String(), nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// Block returns the hot block at height.
func (c *Client) Block(ctx context.Context, height uint64) (*api.BlockView, error) {
	return c.block(ctx, fmt.Sprintf("/v1/blocks/%d", height))
}

// LatestBlock returns the head block. On a chain at height 0 that is the
// genesis block if the node serves it; a node that keeps no block 0 answers
// an *Error with code "not_found" until the first block is produced.
func (c *Client) LatestBlock(ctx context.Context) (*api.BlockView, error) {
	return c.block(ctx, "/v1/blocks/latest")
}

func (c *Client) block(ctx context.Context, path string) (*api.BlockView, error) {
	var v api.BlockView
	if err := c.do(ctx, http.MethodGet, path, nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// Blocks returns the blocks from height from to height to, inclusive, or
// to the head if it is lower, asking the node page by page.
func (c *Client) Blocks(ctx context.Context, from, to uint64) ([]api.BlockView, error) {
	if from > to {
		return nil, fmt.Errorf("client: blocks from %d to %d: from is past to", from, to)
	}
	var out []api.BlockView
	for {
		end := to
		if to-from >= api.MaxRangeBlocks {
			end = from + api.MaxRangeBlocks - 1
		}
		page, err := c.blockPage(ctx, from, end)
		if err != nil {
			return out, err
		}
		out = append(out, page.Blocks...)
		next, more := nextPage(page, from, end, to)
		if !more {
			return out, nil
		}
		from = next
	}
}

func (c *Client) blockPage(ctx context.Context, from, to uint64) (*api.BlocksPage, error) {
	return c.BlockPage(ctx, from, to, false)
}

// BlockPage returns one page of GET /v1/blocks?from=&to=: the blocks from
// height from to height to, or fewer (page.Next says where to go on when
// the node cut the page short; a page ends at the head). With traces, each
// transaction carries its VM trace where the node has one.
func (c *Client) BlockPage(ctx context.Context, from, to uint64, traces bool) (*api.BlocksPage, error) {
	var page api.BlocksPage
	if err := c.do(ctx, http.MethodGet, rangePath(from, to, traces), nil, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// RawBlockPage is BlockPage in CBOR (Accept: application/cbor): the same
// page, each block in its canonical encoding with its write set, and the
// traces beside the blocks. page.Views makes BlockPage's views of it; for
// a page of traced transactions it costs both sides a fraction of the
// JSON page. A node that answers JSON instead (one older than the CBOR
// page) gets an error wrapping ErrNotCBOR: ask it with BlockPage.
func (c *Client) RawBlockPage(ctx context.Context, from, to uint64, traces bool) (*api.RawBlocksPage, error) {
	path := rangePath(from, to, traces)
	req, err := c.newRequest(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", api.MediaCBOR)
	var page api.RawBlocksPage
	if err := c.roundTrip(req, path, api.MediaCBOR, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// rangePath is the path of GET /v1/blocks?from=&to=.
func rangePath(from, to uint64, traces bool) string {
	path := fmt.Sprintf("/v1/blocks?from=%d&to=%d", from, to)
	if traces {
		path += "&traces=true"
	}
	return path
}

// TxWithTrace returns a committed transaction with its receipt and, where
// the node has one, its VM trace (TxView.Trace).
func (c *Client) TxWithTrace(ctx context.Context, id ledger.Hash) (*api.TxView, error) {
	var v api.TxView
	if err := c.do(ctx, http.MethodGet, "/v1/transactions/"+id.String()+"?trace=true", nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// Trace returns a transaction's VM trace; an *Error with code "not_found"
// when the node has none (it did not run with --vm-trace, or the call ran
// natively).
func (c *Client) Trace(ctx context.Context, id ledger.Hash) (*ledger.Trace, error) {
	var t ledger.Trace
	if err := c.do(ctx, http.MethodGet, "/v1/transactions/"+id.String()+"/trace", nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// nextPage says where the page after [from, end] of [.., to] starts. A page
// shorter than asked with no Next means the head was reached.
func nextPage(p *api.BlocksPage, from, end, to uint64) (uint64, bool) {
	switch {
	case p.Next != 0:
		return p.Next, p.Next > from && p.Next <= to
	case uint64(len(p.Blocks)) < end-from+1:
		return 0, false
	case end >= to || end == math.MaxUint64:
		return 0, false
	}
	return end + 1, true
}

// Account returns an account's hot balance and next nonce.
func (c *Client) Account(ctx context.Context, addr ledger.Address) (ledger.Account, error) {
	var a ledger.Account
	err := c.do(ctx, http.MethodGet, "/v1/accounts/"+addr.String(), nil, &a)
	return a, err
}

// Status describes the node.
func (c *Client) Status(ctx context.Context) (api.Status, error) {
	var st api.Status
	err := c.do(ctx, http.MethodGet, "/v1/status", nil, &st)
	return st, err
}

// do sends a request (a CBOR body if body is not nil) and decodes the JSON
// response into out. An error response is returned as *Error; its body is
// still decoded into out, best effort (a rejected submission has results).
func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) error {
	req, err := c.newRequest(ctx, method, path, body)
	if err != nil {
		return err
	}
	return c.roundTrip(req, path, "", out)
}

// ErrNotCBOR is a successful answer in another format than the CBOR
// asked for: a node older than the CBOR form of what was asked answers
// JSON.
var ErrNotCBOR = errors.New("client: the node did not answer in CBOR")

// roundTrip sends req, made for path, and decodes the answer into out, as do
// says. With want set (only api.MediaCBOR), a successful answer must be
// of that media type.
func (c *Client) roundTrip(req *http.Request, path, want string, out any) error {
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("client: %s %s: %w", req.Method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("client: %s %s: read response: %w", req.Method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_ = json.Unmarshal(data, out)
		return decodeError(resp.StatusCode, data)
	}
	ct := resp.Header.Get("Content-Type")
	if want != "" && !strings.HasPrefix(ct, want) {
		return fmt.Errorf("%w: %s %s: it answered %q", ErrNotCBOR, req.Method, path, ct)
	}
	if err := decodeBody(ct, data, out); err != nil {
		return fmt.Errorf("client: %s %s: decode response: %w", req.Method, path, err)
	}
	return nil
}

// decodeBody decodes a successful answer: CBOR when the server chose it
// (submissions, range pages asked for in CBOR), else JSON.
func decodeBody(contentType string, data []byte, out any) error {
	if strings.HasPrefix(contentType, api.MediaCBOR) {
		return ledger.Unmarshal(data, out)
	}
	return json.Unmarshal(data, out)
}

func (c *Client) newRequest(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	req.Header.Set("Accept", api.MediaJSON)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", api.MediaCBOR)
		req.Header.Set("Accept", api.MediaCBOR+", "+api.MediaJSON)
	}
	return req, nil
}
