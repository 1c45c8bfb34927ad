package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
)

// ColdBackend is a Backend with a cold chain and a bridge, in memory: an
// api.ColdBackend for tests of the cold and bridge endpoints, the client
// and the CLI. It runs what the node runs, simply:
//
//   - a settle (a hot tx calling ledger.BridgeAddress's FuncSettle) debits
//     the hot balance when its hot block commits; the next cold block
//     (Checkpoint) credits the owner's cold account;
//   - cold txs (token transfers and deposits) wait for the next cold block;
//     a deposit debits the cold balance there, and the next hot block
//     (Commit) credits the hot account;
//   - every cold block carries the Merkle root of the cold accounts (the
//     tree ledger's proofs verify against), and proofs are served for any
//     cold block.
//
// With Config.AutoCommit, Submit commits a hot block, and, when cold txs
// were admitted, a cold block and then a hot block (which credits the
// deposits). Settles then stay pending until Checkpoint.
type ColdBackend struct {
	*Backend

	cold        map[ledger.Address]ledger.ProofAccount // committed cold accounts
	coldPending []*ledger.Tx
	coldInPool  map[ledger.Hash]bool
	coldNext    map[ledger.Address]uint64 // next cold nonce, counting pending txs

	coldBlocks []*ledger.ColdBlock                      // coldBlocks[h-1] is cold height h
	coldStates []map[ledger.Address]ledger.ProofAccount // the cold accounts after each

	transfers map[ledger.Hash]*api.BridgeTransfer
	settling  []ledger.BridgeTransfer // escrowed by committed settles, not yet checkpointed
	crediting []ledger.BridgeTransfer // debited by committed deposits, not yet credited
	credited  []ledger.Hash           // deposits credited since the last cold block
}

var _ api.ColdBackend = (*ColdBackend)(nil)

// BridgeGas is the gas a settle or deposit uses here.
const BridgeGas = 1000

// NewColdBackend returns a backend holding the genesis hot block of cfg and
// no cold block; every cold account starts empty.
func NewColdBackend(cfg Config) *ColdBackend {
	return &ColdBackend{
		Backend: NewBackend(cfg),
		cold:    map[ledger.Address]ledger.ProofAccount{}, coldInPool: map[ledger.Hash]bool{},
		coldNext: map[ledger.Address]uint64{}, transfers: map[ledger.Hash]*api.BridgeTransfer{},
	}
}

// FundedCold returns a ColdBackend on ChainID where each of keys holds
// amount on the hot chain.
func FundedCold(autoCommit bool, amount uint64, keys ...*ledger.Key) *ColdBackend {
	alloc := make([]ledger.Allocation, len(keys))
	for i, k := range keys {
		alloc[i] = ledger.Allocation{Address: k.Address, Amount: amount}
	}
	return NewColdBackend(Config{ChainID: ChainID, Alloc: alloc, AutoCommit: autoCommit})
}

// Submit verifies signatures and admits hot txs to the hot mempool and
// cold txs to the cold one.
func (c *ColdBackend) Submit(ctx context.Context, txs []*ledger.Tx) ([]ledger.Hash, []error) {
	ids, errs := ledger.VerifyBatch(txs)
	c.mu.Lock()
	defer c.mu.Unlock()
	cold := false
	for i, tx := range txs {
		switch {
		case errs[i] != nil:
		case tx.Chain == ledger.Cold:
			errs[i] = c.admitColdLocked(ids[i], tx)
			cold = cold || errs[i] == nil
		default:
			errs[i] = c.admitLocked(ids[i], tx)
		}
	}
	if c.cfg.AutoCommit {
		c.commitHotLocked()
		if cold {
			c.checkpointLocked()
			c.commitHotLocked()
		}
	}
	return ids, errs
}

func (c *ColdBackend) admitColdLocked(id ledger.Hash, tx *ledger.Tx) error {
	if c.coldInPool[id] {
		return nil
	}
	if tx.ChainID != c.cfg.ChainID {
		return Errorf("wrong_chain_id", "chain id %q, this chain is %q", tx.ChainID, c.cfg.ChainID)
	}
	next := c.coldNextLocked(tx.From)
	switch {
	case tx.Nonce < c.cold[tx.From].Nonce:
		return Errorf("nonce_too_low", "cold nonce %d already used", tx.Nonce)
	case tx.Nonce < next:
		return Errorf("nonce_taken", "another pending cold tx has nonce %d", tx.Nonce)
	case tx.Nonce > next:
		return Errorf("nonce_too_high", "cold nonce %d, next is %d (no gaps allowed here)", tx.Nonce, next)
	}
	c.coldPending = append(c.coldPending, tx)
	c.coldInPool[id] = true
	c.coldNext[tx.From] = next + 1
	return nil
}

func (c *ColdBackend) coldNextLocked(a ledger.Address) uint64 {
	if n, ok := c.coldNext[a]; ok {
		return n
	}
	return c.cold[a].Nonce
}

// Commit makes a hot block of the pending hot txs and the deposits to
// credit; it reports whether there was anything to commit.
func (c *ColdBackend) Commit() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.commitHotLocked()
}

// Checkpoint makes a cold block: it checkpoints the hot head, credits the
// pending settles and runs the pending cold txs. It returns the block's
// height.
func (c *ColdBackend) Checkpoint() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.checkpointLocked()
}

// commitHotLocked is Backend.commitLocked that also runs settles and
// credits deposits.
func (c *ColdBackend) commitHotLocked() bool {
	if len(c.pending) == 0 && len(c.crediting) == 0 {
		return false
	}
	parent := c.blocks[len(c.blocks)-1]
	h := parent.Header.Height + 1
	blk := &ledger.Block{Header: ledger.Header{
		ChainID: c.cfg.ChainID, Height: h, Parent: parent.Header.Hash(),
		Time: GenesisTime.Add(time.Duration(h) * time.Second).UnixNano(),
	}}
	o := &overlay{base: c.state, writes: map[string][]byte{}}
	for _, tx := range c.pending {
		blk.Txs = append(blk.Txs, *tx)
		blk.Receipts = append(blk.Receipts, c.executeHot(o, tx, h))
	}
	c.creditDeposits(o, h)
	blk.Writes = o.flush()
	blk.Header.Commitment = commitment(parent.Header.Commitment, blk.Writes)
	blk.Seal()
	c.blocks = append(c.blocks, blk)
	c.recordLocked(blk)
	return true
}

// executeHot runs one hot tx of the block at height h.
func (c *ColdBackend) executeHot(o *overlay, tx *ledger.Tx, h uint64) ledger.Receipt {
	if !tx.IsBridgeCall() {
		return execute(o, tx)
	}
	rc := ledger.Receipt{TxID: tx.ID(), Path: ledger.PathNative, GasUsed: BridgeGas}
	nk := ledger.NonceKey(tx.From)
	n, _ := ledger.DecodeUint64(o.Get(nk))
	o.Set(nk, ledger.EncodeUint64(n+1))
	amount, err := ledger.DecodeAmount(tx.Args)
	bk := token.BalanceKey(tx.From)
	bal, _ := ledger.DecodeUint64(o.Get(bk))
	switch {
	case err != nil:
		rc.Status, rc.Error = ledger.StatusBadArgs, err.Error()
	case tx.GasLimit < BridgeGas:
		rc.Status, rc.Error, rc.GasUsed = ledger.StatusOutOfGas, "out of gas", tx.GasLimit
	case bal < amount:
		rc.Status, rc.Error = ledger.StatusInsufficientFunds, "insufficient funds"
	default:
		o.Set(bk, ledger.EncodeUint64(bal-amount))
		t := ledger.BridgeTransfer{ID: rc.TxID, Kind: ledger.KindSettle, Owner: tx.From, Amount: amount}
		c.settling = append(c.settling, t)
		c.transfers[t.ID] = &api.BridgeTransfer{ID: t.ID, Kind: t.Kind, Owner: t.Owner, Amount: amount,
			Status: api.BridgePending, HotHeight: h}
	}
	return rc
}

// creditDeposits credits the deposits of committed cold blocks to their
// owners' hot balances in the hot block at height h.
func (c *ColdBackend) creditDeposits(o *overlay, h uint64) {
	for _, d := range c.crediting {
		bk := token.BalanceKey(d.Owner)
		bal, _ := ledger.DecodeUint64(o.Get(bk))
		o.Set(bk, ledger.EncodeUint64(bal+d.Amount))
		t := c.transfers[d.ID]
		t.Status, t.HotHeight = api.BridgeCredited, h
		t.Proof = c.proofLocked(d.Owner, t.ColdHeight)
		c.credited = append(c.credited, d.ID)
	}
	c.crediting = nil
}

// checkpointLocked makes the next cold block.
func (c *ColdBackend) checkpointLocked() uint64 {
	head := c.blocks[len(c.blocks)-1]
	h := uint64(len(c.coldBlocks)) + 1
	blk := &ledger.ColdBlock{Header: ledger.ColdHeader{
		ChainID: c.cfg.ChainID, Height: h,
		Time: GenesisTime.Add(time.Duration(h) * time.Second).UnixNano(),
		Checkpoint: ledger.Checkpoint{
			HotHeight: head.Header.Height, HotHash: head.Header.Hash(), Commitment: head.Header.Commitment,
		},
	}}
	if h > 1 {
		blk.Header.Parent = c.coldBlocks[h-2].Header.Hash()
	}
	blk.Settlements, blk.Credited = c.settling, c.credited
	for _, s := range c.settling {
		a := c.cold[s.Owner]
		a.Balance += s.Amount
		c.cold[s.Owner] = a
	}
	for _, tx := range c.coldPending {
		blk.Txs = append(blk.Txs, *tx)
		blk.Receipts = append(blk.Receipts, c.executeCold(blk, tx))
	}
	state := maps.Clone(c.cold)
	blk.Header.StateRoot = coldRoot(state)
	blk.Seal()
	c.coldBlocks, c.coldStates = append(c.coldBlocks, blk), append(c.coldStates, state)
	c.recordColdLocked(blk)
	return h
}

// recordColdLocked records a cold block's txs and transfers.
func (c *ColdBackend) recordColdLocked(blk *ledger.ColdBlock) {
	h := blk.Header.Height
	for _, s := range blk.Settlements {
		t := c.transfers[s.ID]
		t.Status, t.ColdHeight = api.BridgeCheckpointed, h
		t.Proof = c.proofLocked(s.Owner, h)
	}
	for _, d := range blk.Deposits {
		c.transfers[d.ID] = &api.BridgeTransfer{ID: d.ID, Kind: d.Kind, Owner: d.Owner, Amount: d.Amount,
			Status: api.BridgePending, ColdHeight: h}
	}
	for i := range blk.Txs {
		c.records[blk.Receipts[i].TxID] = &ledger.TxRecord{
			Tx: blk.Txs[i], Receipt: blk.Receipts[i], Height: h, Index: uint32(i),
		}
	}
	c.crediting = append(c.crediting, blk.Deposits...)
	c.settling, c.credited, c.coldPending = nil, nil, nil
	clear(c.coldInPool)
	clear(c.coldNext)
	c.notifyLocked()
}

// executeCold runs one cold tx of blk on the cold accounts.
func (c *ColdBackend) executeCold(blk *ledger.ColdBlock, tx *ledger.Tx) ledger.Receipt {
	rc := ledger.Receipt{TxID: tx.ID(), Path: ledger.PathNative}
	from := c.cold[tx.From]
	from.Nonce++
	c.cold[tx.From] = from
	var to ledger.Address
	var amount uint64
	var err error
	switch {
	case tx.Contract == token.Address && tx.Function == token.FuncTransfer:
		var a token.TransferArgs
		a, err = token.DecodeTransfer(tx.Args)
		to, amount, rc.GasUsed = a.To, a.Amount, token.TransferGas
	case tx.IsBridgeCall():
		amount, err = ledger.DecodeAmount(tx.Args)
		rc.GasUsed = BridgeGas
	default:
		rc.Status, rc.Error = ledger.StatusUnknownFunction, "unknown function "+tx.Function
		return rc
	}
	switch {
	case err != nil:
		rc.Status, rc.Error = ledger.StatusBadArgs, err.Error()
	case from.Balance < amount:
		rc.Status, rc.Error = ledger.StatusInsufficientFunds, "insufficient funds"
	default:
		c.moveCold(blk, tx, rc.TxID, to, amount)
	}
	return rc
}

// moveCold debits amount from tx's sender and credits to, or, for a
// deposit, records it for the hot chain.
func (c *ColdBackend) moveCold(blk *ledger.ColdBlock, tx *ledger.Tx, id ledger.Hash, to ledger.Address, amount uint64) {
	from := c.cold[tx.From]
	from.Balance -= amount
	c.putCold(tx.From, from)
	if tx.IsBridgeCall() {
		blk.Deposits = append(blk.Deposits, ledger.BridgeTransfer{ID: id, Kind: ledger.KindDeposit, Owner: tx.From, Amount: amount})
		return
	}
	a := c.cold[to]
	a.Balance += amount
	c.putCold(to, a)
}

// putCold stores a cold account; the zero account is no account.
func (c *ColdBackend) putCold(a ledger.Address, v ledger.ProofAccount) {
	if v == (ledger.ProofAccount{}) {
		delete(c.cold, a)
		return
	}
	c.cold[a] = v
}

// ColdAccount returns addr's committed cold account and next cold nonce.
func (c *ColdBackend) ColdAccount(ctx context.Context, addr ledger.Address) (ledger.Account, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.cold[addr]
	return ledger.Account{Address: addr, Balance: a.Balance, Nonce: a.Nonce, PendingNonce: c.coldNextLocked(addr)}, nil
}

// ColdBlock returns the cold block at height, 0 for the latest.
func (c *ColdBackend) ColdBlock(ctx context.Context, height uint64) (*ledger.ColdBlock, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, err := c.coldHeightLocked(height)
	if err != nil {
		return nil, err
	}
	return c.coldBlocks[h-1], nil
}

// coldHeightLocked resolves height (0: the latest) to a cold block's.
func (c *ColdBackend) coldHeightLocked(height uint64) (uint64, error) {
	n := uint64(len(c.coldBlocks))
	switch {
	case n == 0:
		return 0, Errorf("not_found", "no cold block yet")
	case height == 0:
		return n, nil
	case height > n:
		return 0, Errorf("not_found", "cold block %d not found (the latest is %d)", height, n)
	}
	return height, nil
}

// ColdProof proves addr's cold account against the cold block at height.
func (c *ColdBackend) ColdProof(ctx context.Context, addr ledger.Address, height uint64) (api.ColdProof, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, err := c.coldHeightLocked(height)
	if err != nil {
		return api.ColdProof{}, err
	}
	return *c.proofLocked(addr, h), nil
}

// proofLocked proves addr's account in cold block h, which exists.
func (c *ColdBackend) proofLocked(addr ledger.Address, h uint64) *api.ColdProof {
	root := c.coldBlocks[h-1].Header.StateRoot
	p := proveCold(c.coldStates[h-1], addr)
	data, err := json.Marshal(p)
	if err != nil {
		panic(err) // a proof always encodes
	}
	return &api.ColdProof{Height: h, Root: root, Proof: data}
}

// BridgeTransfer returns a settle's or deposit's status.
func (c *ColdBackend) BridgeTransfer(ctx context.Context, id ledger.Hash) (api.BridgeTransfer, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.transfers[id]
	if !ok {
		return api.BridgeTransfer{}, Errorf("not_found", "no bridge transfer %s", id)
	}
	return *t, nil
}

// Audit sums the hot and cold balances and what is in flight.
func (c *ColdBackend) Audit(ctx context.Context) (api.Audit, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	head := c.blocks[len(c.blocks)-1]
	a := api.Audit{
		NodeID: "apitest", HotHeight: head.Header.Height, HotCommitment: head.Header.Commitment,
		ColdHeight: uint64(len(c.coldBlocks)), ColdAccounts: len(c.cold),
	}
	a.AppliedIndex = a.HotHeight + a.ColdHeight
	if n := len(c.coldBlocks); n > 0 {
		a.ColdRoot = c.coldBlocks[n-1].Header.StateRoot
	}
	for _, al := range c.cfg.Alloc {
		a.Supply += al.Amount
	}
	prefix := balancePrefix()
	for k, v := range c.state {
		if bytes.HasPrefix([]byte(k), prefix) {
			n, _ := ledger.DecodeUint64(v)
			a.HotBalances += n
			a.HotAccounts++
		}
	}
	for _, v := range c.cold {
		a.ColdBalances += v.Balance
	}
	for _, t := range c.settling {
		a.InFlightSettles += t.Amount
	}
	for _, t := range c.crediting {
		a.InFlightDeposits += t.Amount
	}
	return a, nil
}

// balancePrefix is what the state keys of base-token balances start with.
func balancePrefix() []byte {
	k := token.BalanceKey(ledger.Address{})
	return k[:len(k)-len(ledger.Address{})]
}

// Settle returns a signed settle of amount on ChainID.
func Settle(from *ledger.Key, nonce, amount uint64) *ledger.Tx {
	return bridgeTx(from, ledger.Hot, ledger.FuncSettle, nonce, amount)
}

// Deposit returns a signed deposit of amount on ChainID.
func Deposit(from *ledger.Key, nonce, amount uint64) *ledger.Tx {
	return bridgeTx(from, ledger.Cold, ledger.FuncDeposit, nonce, amount)
}

func bridgeTx(from *ledger.Key, chain ledger.Chain, function string, nonce, amount uint64) *ledger.Tx {
	tx := &ledger.Tx{
		ChainID: ChainID, Chain: chain, Nonce: nonce, From: from.Address,
		Contract: ledger.BridgeAddress, Function: function, Args: ledger.EncodeAmount(amount), GasLimit: BridgeGas,
	}
	tx.Sign(from.Private)
	return tx
}

// ColdTransfer returns a signed cold-chain token transfer on ChainID.
func ColdTransfer(from *ledger.Key, nonce uint64, to ledger.Address, amount uint64) *ledger.Tx {
	tx := &ledger.Tx{
		ChainID: ChainID, Chain: ledger.Cold, Nonce: nonce, From: from.Address,
		Contract: token.Address, Function: token.FuncTransfer,
		Args: token.EncodeTransfer(to, amount), GasLimit: token.TransferGas,
	}
	tx.Sign(from.Private)
	return tx
}
