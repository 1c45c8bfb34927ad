package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/bridge"
	"github.com/dualchain/dualchain/coldchain"
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/ledger"
	"github.com/dualchain/dualchain/vm"
)

// backend is the node as the API sees it.
type backend struct{ n *Node }

var _ api.Backend = backend{}

// maxAdmitAttempts bounds re-reads of sender state that blocks keep moving.
const maxAdmitAttempts = 5

// Submit verifies signatures in one batch across cores, checks each
// transaction against the chain and its sender's committed state (read in
// one round trip), and admits it to the mempool. A transaction that is
// already committed is not an error: Wait returns its record.
func (b backend) Submit(ctx context.Context, txs []*ledger.Tx) ([]ledger.Hash, []error) {
	ids, errs := verify(ctx, txs)
	todo := make([]bool, len(txs))
	for i, tx := range txs {
		if errs[i] == nil {
			errs[i] = b.n.check(tx)
		}
		todo[i] = errs[i] == nil
		if todo[i] && tx.Chain == ledger.Cold {
			errs[i], todo[i] = b.n.admitCold(tx, ids[i]), false
		}
	}
	for attempt := 0; attempt < maxAdmitAttempts && b.n.admitAll(ctx, txs, ids, errs, todo); attempt++ {
	}
	for i := range errs {
		if errs[i] == errStaleState {
			errs[i] = detail(ErrBusy, "blocks kept moving the sender's state")
		}
	}
	b.n.alreadyCommitted(ctx, ids, errs)
	return ids, errs
}

// verify checks the signatures of txs in one batch, unless the node that
// forwarded them here already did.
func verify(ctx context.Context, txs []*ledger.Tx) ([]ledger.Hash, []error) {
	if !api.SignaturesVerified(ctx) {
		return ledger.VerifyBatch(txs)
	}
	ids := make([]ledger.Hash, len(txs))
	for i, tx := range txs {
		ids[i] = tx.ID()
	}
	return ids, make([]error, len(txs))
}

// check validates what needs no state: shape, chain, gas, and for the
// calls the node understands without running them (a transfer of the base
// token, a deploy), their arguments.
func (n *Node) check(tx *ledger.Tx) error {
	if err := tx.Validate(); err != nil {
		return err
	}
	switch {
	case tx.ChainID != n.chainID:
		return detail(ErrWrongChainID, "transaction for %q, this chain is %q", tx.ChainID, n.chainID)
	case tx.Chain == ledger.Cold:
		_, err := coldTx(tx, ledger.Hash{})
		return err
	case tx.GasLimit > MaxGasLimit:
		return detail(ErrGasLimit, "gas limit %d, at most %d", tx.GasLimit, MaxGasLimit)
	case tx.Contract == ledger.DeployAddress:
		return checkDeploy(tx)
	case tx.Contract == ledger.BridgeAddress:
		return checkSettle(tx)
	case isTransfer(tx):
		if tx.GasLimit < token.TransferGas {
			return detail(ErrGasLimit, "gas limit %d, a transfer may use %d", tx.GasLimit, token.TransferGas)
		}
		if _, err := token.DecodeTransfer(tx.Args); err != nil {
			return detail(ErrBadArgs, "%v", err)
		}
	case tx.GasLimit < vm.GasCall:
		return detail(ErrGasLimit, "gas limit %d, a call's base cost is %d", tx.GasLimit, vm.GasCall)
	}
	return nil
}

// MaxGasLimit bounds one transaction's gas limit, and with it how long one
// call can hold up a block: a tight loop burns it in a few hundred
// milliseconds, well inside the VM's deadline.
const MaxGasLimit = 10_000_000

// isTransfer reports whether tx is a transfer of the base token.
func isTransfer(tx *ledger.Tx) bool {
	return tx.Contract == token.Address && tx.Function == token.FuncTransfer
}

// checkSettle checks a settle's arguments and gas.
func checkSettle(tx *ledger.Tx) error {
	switch {
	case tx.Function != ledger.FuncSettle:
		return detail(ErrUnknownContract, "on the hot chain the bridge has one function, %q (deposits are cold transactions)", ledger.FuncSettle)
	case tx.GasLimit < bridge.SettleGas:
		return detail(ErrGasLimit, "gas limit %d, a settle uses %d", tx.GasLimit, bridge.SettleGas)
	}
	if _, err := ledger.DecodeAmount(tx.Args); err != nil {
		return detail(ErrBadArgs, "%v", err)
	}
	return nil
}

// checkDeploy refuses a deploy whose module could never run or whose gas
// limit cannot pay for it, so the deployer learns why at once.
func checkDeploy(tx *ledger.Tx) error {
	need := vm.GasCall + vm.DeployGas(len(tx.Args))
	switch {
	case tx.Function != ledger.FuncDeploy:
		return detail(ErrUnknownContract, "the deploy address has one function, %q", ledger.FuncDeploy)
	case tx.GasLimit < need:
		return detail(ErrGasLimit, "gas limit %d, deploying %d bytes uses %d", tx.GasLimit, len(tx.Args), need)
	}
	if err := vm.Check(tx.Args); err != nil {
		return detail(ErrBadModule, "%v", err)
	}
	return nil
}

// admitAll reads the committed state of the senders of the transactions
// marked todo and admits those. It leaves marked, and reports, the ones to
// try again because a block finished during the read.
func (n *Node) admitAll(ctx context.Context, txs []*ledger.Tx, ids []ledger.Hash, errs []error, todo []bool) (again bool) {
	epoch := n.pool.snapshot()
	accounts, err := n.senders(ctx, txs, todo)
	var missing map[ledger.Address]bool
	if err == nil {
		missing, err = n.missingContracts(ctx, txs, todo)
	}
	now := n.clock.Now()
	for i, tx := range txs {
		if !todo[i] {
			continue
		}
		switch {
		case err != nil:
			errs[i] = err
		case missing[tx.Contract]:
			errs[i] = detail(ErrUnknownContract, "no contract at %s (a contract is callable once its deploy is committed)", tx.Contract)
		default:
			errs[i] = n.admit(tx, ids[i], accounts[tx.From], epoch, now)
		}
		todo[i] = errs[i] == errStaleState
		again = again || todo[i]
	}
	return again
}

// senders reads the committed state of the sender of every transaction
// marked todo, in one round trip.
func (n *Node) senders(ctx context.Context, txs []*ledger.Tx, todo []bool) (map[ledger.Address]ledger.Account, error) {
	accounts := make(map[ledger.Address]ledger.Account, len(txs))
	keys := make([][]byte, 0, 2*len(txs))
	order := make([]ledger.Address, 0, len(txs))
	for i, tx := range txs {
		if _, seen := accounts[tx.From]; !todo[i] || seen {
			continue
		}
		accounts[tx.From] = ledger.Account{Address: tx.From}
		order = append(order, tx.From)
		keys = append(keys, ledger.NonceKey(tx.From), token.BalanceKey(tx.From))
	}
	if len(keys) == 0 {
		return accounts, nil
	}
	values, err := n.read(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("node: read senders: %w", err)
	}
	for i, a := range order {
		nonce, _ := ledger.DecodeUint64(values[2*i])
		bal, _ := ledger.DecodeUint64(values[2*i+1])
		accounts[a] = ledger.Account{Address: a, Nonce: nonce, Balance: bal}
	}
	return accounts, nil
}

// missingContracts reads whether the contracts the transactions marked
// todo call exist, in one round trip; the base token and deploys need no
// read, so transfers pay nothing for it.
func (n *Node) missingContracts(ctx context.Context, txs []*ledger.Tx, todo []bool) (map[ledger.Address]bool, error) {
	var keys [][]byte
	var order []ledger.Address
	seen := make(map[ledger.Address]bool)
	for i, tx := range txs {
		c := tx.Contract
		if !todo[i] || seen[c] || c == token.Address || c == ledger.DeployAddress || c == ledger.BridgeAddress {
			continue
		}
		seen[c] = true
		order = append(order, c)
		keys = append(keys, ledger.CodeKey(c))
	}
	if len(keys) == 0 {
		return nil, nil
	}
	values, err := n.read(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("node: read contracts: %w", err)
	}
	missing := make(map[ledger.Address]bool)
	for i, c := range order {
		missing[c] = len(values[i]) == 0
	}
	return missing, nil
}

// admit rejects a transfer or settle its sender cannot cover from the
// committed balance, and otherwise hands it to the mempool.
func (n *Node) admit(tx *ledger.Tx, id ledger.Hash, acct ledger.Account, epoch uint64, now time.Time) error {
	if err := covered(tx, acct.Balance); err != nil {
		return err
	}
	n.tracker.forget(id)
	dropped, err := n.pool.add(tx, id, acct.Nonce, epoch, now)
	n.finishDropped(dropped)
	return err
}

// covered rejects a call that moves more of the base token than balance,
// the sender's committed balance on the call's chain: a transfer, a settle
// or a deposit (their arguments were checked before). Pending calls of the
// same sender may still overdraw it; those fail in their block with an
// insufficient-funds receipt. Other calls pass.
func covered(tx *ledger.Tx, balance uint64) error {
	var amount uint64
	switch {
	case isTransfer(tx):
		args, err := token.DecodeTransfer(tx.Args)
		if err != nil {
			return detail(ErrBadArgs, "%v", err)
		}
		amount = args.Amount
	case tx.IsBridgeCall():
		a, err := ledger.DecodeAmount(tx.Args)
		if err != nil {
			return detail(ErrBadArgs, "%v", err)
		}
		amount = a
	default:
		return nil
	}
	if amount > balance {
		return detail(ErrInsufficientFunds, "balance %d, amount %d", balance, amount)
	}
	return nil
}

// alreadyCommitted clears the replay error of transactions that are
// committed: a client retrying the same transaction gets its receipt.
func (n *Node) alreadyCommitted(ctx context.Context, ids []ledger.Hash, errs []error) {
	for i, err := range errs {
		if errors.Is(err, ErrNonceTooLow) {
			if _, terr := n.tx(ctx, ids[i]); terr == nil {
				errs[i] = nil
			}
		}
	}
}

// Wait returns each transaction's outcome once known.
func (b backend) Wait(ctx context.Context, ids []ledger.Hash) []api.WaitResult {
	results, chans := b.n.tracker.watch(ids)
	defer b.n.tracker.unwatch(ids, chans)
	for i, id := range ids {
		if chans[i] != nil && !b.n.pool.has(id) && !b.n.cold.pool.has(id) {
			results[i] = b.lookup(ctx, id)
			chans[i] = nil
		}
	}
	for i, ch := range chans {
		if ch == nil {
			continue
		}
		select {
		case r := <-ch:
			results[i] = r
		case <-ctx.Done():
			return results
		}
	}
	return results
}

// lookup finds a transaction that is not pending: committed earlier, or
// unknown. If the store cannot answer now, the outcome stays unknown.
func (b backend) lookup(ctx context.Context, id ledger.Hash) api.WaitResult {
	rec, err := b.Tx(ctx, id)
	switch {
	case err == nil:
		return api.WaitResult{Record: rec}
	case errors.Is(err, ErrNotFound):
		return api.WaitResult{Err: ErrUnknownTx}
	}
	return api.WaitResult{}
}

// Tx returns an included transaction.
func (b backend) Tx(ctx context.Context, id ledger.Hash) (*ledger.TxRecord, error) {
	if err := b.n.readable(); err != nil {
		return nil, err
	}
	rec, err := b.n.tx(ctx, id)
	if errors.Is(err, hotchain.ErrNotFound) {
		return nil, detail(ErrNotFound, "transaction %s", id)
	}
	return rec, b.n.storeErr(err)
}

// tx reads an included transaction from the store, or from the archive if
// the store no longer has it (it was rebuilt from a snapshot, which holds
// no history).
func (n *Node) tx(ctx context.Context, id ledger.Hash) (*ledger.TxRecord, error) {
	rec, err := n.store.Tx(ctx, id)
	if errors.Is(err, hotchain.ErrNotFound) {
		rec, err = n.archive.Tx(id)
	}
	if errors.Is(err, hotchain.ErrNotFound) {
		if rec, cerr := n.cold.chain.Tx(id); cerr == nil || !errors.Is(cerr, coldchain.ErrNotFound) {
			return rec, cerr
		}
	}
	return rec, err
}

// Block returns the hot block at height.
func (b backend) Block(ctx context.Context, height uint64) (*ledger.Block, error) {
	if err := b.n.readable(); err != nil {
		return nil, err
	}
	blk, err := b.n.store.Block(ctx, height)
	if errors.Is(err, hotchain.ErrNotFound) {
		blk, err = b.n.archive.Block(height)
	}
	if errors.Is(err, hotchain.ErrNotFound) {
		return nil, detail(ErrNotFound, "block %d (head is %d)", height, b.n.chain.Head().Height)
	}
	return blk, b.n.storeErr(err)
}

// Account returns an account's hot balance and next nonce.
func (b backend) Account(ctx context.Context, addr ledger.Address) (ledger.Account, error) {
	values, err := b.n.read(ctx, [][]byte{ledger.NonceKey(addr), token.BalanceKey(addr)})
	if err != nil {
		return ledger.Account{}, err
	}
	nonce, _ := ledger.DecodeUint64(values[0])
	bal, _ := ledger.DecodeUint64(values[1])
	return ledger.Account{Address: addr, Balance: bal, Nonce: nonce, PendingNonce: b.n.pool.pendingNonce(addr, nonce)}, nil
}

// Status describes the node.
func (b backend) Status(ctx context.Context) (api.Status, error) {
	h := b.n.chain.Head()
	rs := b.n.replica.State()
	st := api.Status{
		ChainID: b.n.chainID, Node: b.n.Addr().String(), Height: h.Height, Head: h.Head,
		Commitment: h.Commitment.Digest(), AppliedIndex: h.Index, Store: b.n.store.Kind(), Exec: b.n.cfg.Exec, VMTrace: b.n.cfg.VMTrace,
		Mempool: b.n.pool.len(), Leader: rs.Role == "leader", Version: Version,
		NodeID: b.n.cfg.NodeID, Role: rs.Role, Edge: b.n.cfg.Edge, Term: rs.Term, LeaderID: rs.LeaderID,
		CommitIndex: rs.CommitIndex, LastSnapshotIndex: rs.LastSnapshotIndex,
		CaughtUp: b.n.replica.CaughtUp(), ArchiveComplete: b.n.fill.complete(),
	}
	if m, ok := b.n.dir.get(rs.LeaderID); ok {
		st.LeaderURL = m.URL
	}
	return st, nil
}

// read reads state keys for a client, refusing while the store is rebuilt.
func (n *Node) read(ctx context.Context, keys [][]byte) ([][]byte, error) {
	if err := n.readable(); err != nil {
		return nil, err
	}
	values, err := n.store.Get(ctx, keys)
	return values, n.storeErr(err)
}

// readable refuses reads while the store is being rebuilt: they would see
// a state between genesis and the head.
func (n *Node) readable() error {
	if n.chain.rebuilding.Load() {
		return ErrRebuilding
	}
	return nil
}

// storeErr turns a wiped store into ErrRebuilding and asks the producer,
// the store's only writer, to rebuild it.
func (n *Node) storeErr(err error) error {
	if !errors.Is(err, hotchain.ErrWiped) {
		return err
	}
	select {
	case n.wiped <- struct{}{}:
	default:
	}
	return ErrRebuilding
}
