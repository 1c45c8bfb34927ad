package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
)

// BridgeGas is the gas limit Settle and Deposit sign with: the bridge runs
// natively, and this covers it with room to spare.
const BridgeGas = 1000

// DefaultBridgePoll is how often WaitBridge asks when given no interval.
const DefaultBridgePoll = 200 * time.Millisecond

// ErrZeroAmount is returned, before anything is sent, for a transfer,
// settle or deposit of nothing.
var ErrZeroAmount = errors.New("client: amount must be positive")

// ColdAccount returns an account's cold balance and next cold nonce.
func (c *Client) ColdAccount(ctx context.Context, addr ledger.Address) (ledger.Account, error) {
	var a ledger.Account
	err := c.do(ctx, http.MethodGet, "/v1/cold/accounts/"+addr.String(), nil, &a)
	return a, err
}

// ColdBlock returns the cold block at height; height 0 is the latest.
func (c *Client) ColdBlock(ctx context.Context, height uint64) (*ledger.ColdBlock, error) {
	path := "/v1/cold/blocks/latest"
	if height != 0 {
		path = fmt.Sprintf("/v1/cold/blocks/%d", height)
	}
	var b ledger.ColdBlock
	if err := c.do(ctx, http.MethodGet, path, nil, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// ColdBlockPage returns one page of GET /v1/cold/blocks?from=&to=, like
// BlockPage.
func (c *Client) ColdBlockPage(ctx context.Context, from, to uint64) (*api.ColdBlocksPage, error) {
	var page api.ColdBlocksPage
	if err := c.do(ctx, http.MethodGet, fmt.Sprintf("/v1/cold/blocks?from=%d&to=%d", from, to), nil, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// ColdProof returns the proof of addr's cold account against the state
// root of the cold block at height (0: the latest). The proof is the
// node's bytes, unchecked: check it with ledger.ParseProof and
// Proof.Verify against a root you trust.
func (c *Client) ColdProof(ctx context.Context, addr ledger.Address, height uint64) (api.ColdProof, error) {
	path := "/v1/cold/proofs/" + addr.String()
	if height != 0 {
		path += fmt.Sprintf("?height=%d", height)
	}
	var p api.ColdProof
	err := c.do(ctx, http.MethodGet, path, nil, &p)
	return p, err
}

// BridgeTransfer returns a settle's or deposit's status by the id of the
// transaction that started it.
func (c *Client) BridgeTransfer(ctx context.Context, id ledger.Hash) (api.BridgeTransfer, error) {
	var t api.BridgeTransfer
	err := c.do(ctx, http.MethodGet, "/v1/bridge/transfers/"+id.String(), nil, &t)
	return t, err
}

// Audit returns the node's sums of its state, for checking conservation
// and comparing nodes.
func (c *Client) Audit(ctx context.Context) (api.Audit, error) {
	var a api.Audit
	err := c.do(ctx, http.MethodGet, "/v1/audit", nil, &a)
	return a, err
}

// WaitBridge asks for the bridge transfer id every poll (DefaultBridgePoll
// if poll is not positive) until it is done (Done) or ctx ends. Until the
// transaction that starts it commits, the node does not know the transfer
// (not_found), and between leaders it cannot answer (no_leader,
// unavailable): both are waited out. When ctx ends it returns the last
// status seen with ctx's error, or, if the node never knew the transfer,
// its last error.
func (c *Client) WaitBridge(ctx context.Context, id ledger.Hash, poll time.Duration) (api.BridgeTransfer, error) {
	if poll <= 0 {
		poll = DefaultBridgePoll
	}
	var last api.BridgeTransfer
	var lastErr error
	for {
		t, err := c.BridgeTransfer(ctx, id)
		if ctx.Err() != nil {
			return waitEnded(ctx, id, last, lastErr)
		}
		switch {
		case err == nil && t.Done():
			return t, nil
		case err == nil:
			last, lastErr = t, nil
		case waitable(err):
			lastErr = err
		default:
			return last, err
		}
		select {
		case <-ctx.Done():
			return waitEnded(ctx, id, last, lastErr)
		case <-time.After(poll):
		}
	}
}

// waitEnded is what WaitBridge returns when ctx ends: the last status seen
// and ctx's error, or the node's last error if it never knew the transfer.
func waitEnded(ctx context.Context, id ledger.Hash, last api.BridgeTransfer, lastErr error) (api.BridgeTransfer, error) {
	switch {
	case last.Status != "":
		return last, fmt.Errorf("client: bridge transfer %s still %s: %w", id, last.Status, ctx.Err())
	case lastErr != nil:
		return last, lastErr
	}
	return last, fmt.Errorf("client: bridge transfer %s: %w", id, ctx.Err())
}

// waitable reports an error WaitBridge waits out.
func waitable(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code == api.CodeNotFound || e.Code == "unavailable" || leaderlessCode(e.Code)
}

// Settle moves amount of key's account from the hot chain to the cold: it
// signs and submits a hot transaction that escrows the amount; the next
// checkpoint credits the same account on the cold chain. The result's ID is
// the bridge transfer's id (follow it with WaitBridge). With wait, it
// returns once the settle is in a hot block (committed), not once it is
// checkpointed. A rejected settle is returned with a *Error; a committed
// one whose receipt is not ok (insufficient funds) is not an error here:
// check Receipt.Status.
func (c *Client) Settle(ctx context.Context, key *ledger.Key, amount uint64, wait bool) (api.TxResult, error) {
	return c.bridgeCall(ctx, key, ledger.Hot, ledger.FuncSettle, amount, wait)
}

// Deposit moves amount of key's account from the cold chain to the hot: it
// signs and submits a cold transaction that debits the cold balance; the
// hot chain credits it in the first hot block after that cold block. With
// wait, it returns once the deposit is in a cold block (the result's Block
// is the cold height). Otherwise as Settle.
func (c *Client) Deposit(ctx context.Context, key *ledger.Key, amount uint64, wait bool) (api.TxResult, error) {
	return c.bridgeCall(ctx, key, ledger.Cold, ledger.FuncDeposit, amount, wait)
}

func (c *Client) bridgeCall(ctx context.Context, key *ledger.Key, chain ledger.Chain, function string, amount uint64, wait bool) (api.TxResult, error) {
	if amount == 0 {
		return api.TxResult{}, ErrZeroAmount
	}
	return c.send(ctx, key, &ledger.Tx{
		Chain: chain, Contract: ledger.BridgeAddress, Function: function,
		Args: ledger.EncodeAmount(amount), GasLimit: BridgeGas,
	}, wait)
}

// TransferCold sends amount of the base token from key's cold account to
// to's, on the cold chain. With wait, it returns once the transfer is in a
// cold block (the result's Block is the cold height). Otherwise as Settle.
func (c *Client) TransferCold(ctx context.Context, key *ledger.Key, to ledger.Address, amount uint64, wait bool) (api.TxResult, error) {
	if amount == 0 {
		return api.TxResult{}, ErrZeroAmount
	}
	return c.send(ctx, key, &ledger.Tx{
		Chain: ledger.Cold, Contract: token.Address, Function: token.FuncTransfer,
		Args: token.EncodeTransfer(to, amount), GasLimit: token.TransferGas,
	}, wait)
}

// send prepares tx (Prepare) and submits it, waiting for its commit if
// wait; it resends while the cluster has no leader, as Submit does.
func (c *Client) send(ctx context.Context, key *ledger.Key, tx *ledger.Tx, wait bool) (api.TxResult, error) {
	if err := c.Prepare(ctx, key, tx); err != nil {
		return api.TxResult{}, err
	}
	submit := c.Submit
	if wait {
		submit = c.SubmitWait
	}
	res, err := submit(ctx, tx)
	if len(res) == 0 {
		return api.TxResult{ID: tx.ID()}, err
	}
	return res[0], err
}

// Prepare makes tx ready to submit from key's account: it sets the node's
// chain id, the sender, and the account's next nonce on tx.Chain (hot or
// cold; nonces are per chain, so tx.Chain must be set) after the node's
// pending transactions, and signs it.
func (c *Client) Prepare(ctx context.Context, key *ledger.Key, tx *ledger.Tx) error {
	st, err := c.Status(ctx)
	if err != nil {
		return err
	}
	account := c.Account
	if tx.Chain == ledger.Cold {
		account = c.ColdAccount
	}
	acct, err := account(ctx, key.Address)
	if err != nil {
		return err
	}
	tx.ChainID, tx.From, tx.Nonce = st.ChainID, key.Address, max(acct.Nonce, acct.PendingNonce)
	tx.Sign(key.Private)
	return nil
}
