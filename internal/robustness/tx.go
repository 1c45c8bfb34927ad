package robustness

import (
	"context"
	"errors"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/internal/robust"
	"github.com/dualchain/dualchain/ledger"
)

// newTx signs the transaction of a kind of op from key's account with
// nonce: a transfer of amount to to, or a settle or deposit of amount.
func newTx(chainID string, key *ledger.Key, kind robust.Kind, to ledger.Address, amount, nonce uint64) *ledger.Tx {
	tx := &ledger.Tx{ChainID: chainID, Chain: kind.Chain(), Nonce: nonce, From: key.Address}
	switch kind {
	case robust.KindSettle, robust.KindDeposit:
		tx.Contract, tx.Function, tx.GasLimit = ledger.BridgeAddress, ledger.FuncDeposit, client.BridgeGas
		if kind == robust.KindSettle {
			tx.Function = ledger.FuncSettle
		}
		tx.Args = ledger.EncodeAmount(amount)
	default:
		tx.Contract, tx.Function, tx.GasLimit = token.Address, token.FuncTransfer, token.TransferGas
		tx.Args = token.EncodeTransfer(to, amount)
	}
	tx.Sign(key.Private)
	return tx
}

// answer is what one submission told of a transaction.
type answer int

const (
	answerCommitted answer = iota // in a block, with a receipt
	answerRejected                // refused for good: it was not admitted and never will be
	answerReplay                  // nonce_too_low: committed already, or another tx holds the nonce
	answerUncertain               // anything else: it may be pending, or commit later
)

// definitive are the codes of a rejection that stands: the node refused
// the transaction at admission for what it is, not for the cluster's
// state.
var definitive = map[string]bool{
	"insufficient_funds": true, "nonce_too_high": true, "wrong_chain_id": true,
	"unknown_contract": true, "gas_limit_too_low": true, "bad_args": true,
	api.CodeBadRequest: true, api.CodeBadEncoding: true, api.CodeBadTx: true,
	api.CodeBadSignature: true, api.CodeBadAddress: true, api.CodeTooLarge: true,
	api.CodeBatchTooLarge: true, "unsupported": true,
}

// classify reads one SubmitWait of one transaction.
func classify(res []api.TxResult, err error) (answer, api.TxResult, string) {
	if len(res) == 1 {
		r := res[0]
		switch {
		case r.Status == api.StatusCommitted && r.Receipt != nil:
			return answerCommitted, r, ""
		case r.Status == api.StatusRejected && r.Error != nil:
			return codeAnswer(r.Error.Code), r, r.Error.Code + ": " + r.Error.Message
		case r.Status == api.StatusPending:
			return answerUncertain, r, "still pending when the node's wait ended"
		}
	}
	if err == nil {
		return answerUncertain, api.TxResult{}, "no result"
	}
	var ce *client.Error
	if errors.As(err, &ce) {
		return codeAnswer(ce.Code), api.TxResult{}, err.Error()
	}
	return answerUncertain, api.TxResult{}, err.Error()
}

func codeAnswer(code string) answer {
	switch {
	case code == "nonce_too_low":
		return answerReplay
	case definitive[code]:
		return answerRejected
	}
	return answerUncertain
}

// sender sends transactions until it learns their fate.
type sender struct {
	ep      *endpoints
	attempt time.Duration // bounds one request
}

// send submits tx, and again (the same signed tx) while its fate is
// uncertain, through the nodes in turn from home, until ctx ends. A
// rejection after an uncertain attempt is no proof: an earlier attempt
// may still commit, so the op is then unknown.
func (s *sender) send(ctx context.Context, home int, tx *ledger.Tx) (robust.Outcome, robust.Result) {
	uncertain, last := false, ""
	for attempt := 0; ctx.Err() == nil; attempt++ {
		id := s.ep.node(home, attempt)
		actx, cancel := context.WithTimeout(ctx, s.attempt)
		res, err := s.ep.local(id).SubmitWait(actx, tx)
		cancel()
		a, r, why := classify(res, err)
		if a == answerReplay {
			a, r, why = s.lookup(ctx, home, tx.ID(), why)
		}
		switch a {
		case answerCommitted:
			return robust.OutcomeOK, robust.Result{Height: r.Block, Status: r.Receipt.Status}
		case answerRejected:
			if !uncertain {
				return robust.OutcomeFail, robust.Result{Error: why}
			}
			return robust.OutcomeUnknown, robust.Result{Error: "rejected after an uncertain attempt: " + why}
		}
		uncertain, last = true, id+": "+why
		sleepCtx(ctx, backoff(attempt))
	}
	return robust.OutcomeUnknown, robust.Result{Error: last}
}

// lookup asks for a transaction the node called a replay: committed (with
// its receipt) or, if no node holds it, another transaction holds its
// nonce and it never will be.
func (s *sender) lookup(ctx context.Context, home int, id ledger.Hash, why string) (answer, api.TxResult, string) {
	for attempt := range len(s.ep.members()) {
		actx, cancel := context.WithTimeout(ctx, s.attempt)
		v, err := s.ep.strong(s.ep.node(home, attempt)).Tx(actx, id)
		cancel()
		var ce *client.Error
		switch {
		case err == nil:
			rc := ledger.Receipt{TxID: v.ID, Status: v.Status}
			return answerCommitted, api.TxResult{ID: v.ID, Status: api.StatusCommitted, Receipt: &rc, Block: v.Block, Index: v.Index}, ""
		case errors.As(err, &ce) && ce.Code == api.CodeNotFound:
			return answerRejected, api.TxResult{}, why + "; no node holds the transaction"
		}
	}
	return answerUncertain, api.TxResult{}, why + "; the lookup failed"
}

// backoff is the wait before retry attempt+1: 50 ms doubling to 1 s.
func backoff(attempt int) time.Duration {
	return min(50*time.Millisecond<<min(attempt, 5), time.Second)
}

// sleepCtx sleeps d or until ctx ends, reporting whether it slept it all.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
