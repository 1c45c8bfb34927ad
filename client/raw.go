package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/ledger"
)

// RawBlock returns the hot block at height in its canonical CBOR encoding,
// as the node keeps it. Decode it with ledger.DecodeBlock, and check its
// header's hash against one you trust (its child's parent, a checkpoint)
// before relying on it: the bytes are only as good as the node that sent
// them. A node that does not hold the block answers an *Error with code
// "not_found".
func (c *Client) RawBlock(ctx context.Context, height uint64) ([]byte, error) {
	path := fmt.Sprintf("/v1/blocks/%d/raw", height)
	req, err := c.newRequest(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", api.MediaCBOR+", "+api.MediaJSON)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, ledger.MaxBlockSize+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("client: GET %s: read response: %w", path, err)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, decodeError(resp.StatusCode, data)
	case !strings.HasPrefix(resp.Header.Get("Content-Type"), api.MediaCBOR):
		return nil, fmt.Errorf("client: GET %s: answer of type %q, want %s", path, resp.Header.Get("Content-Type"), api.MediaCBOR)
	case len(data) > ledger.MaxBlockSize:
		return nil, fmt.Errorf("client: GET %s: %w: answer over %d bytes", path, ledger.ErrTooLarge, ledger.MaxBlockSize)
	}
	return data, nil
}
