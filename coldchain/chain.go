package coldchain

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
	"github.com/dualchain/dualchain/ledger"
)

// The chain's records, beside the account state (DESIGN.md, "Chain
// records"). Their first bytes are uppercase; the state's are lowercase.
//
//	B <height: 8 bytes>  →  cold block, canonical CBOR
//	M head               →  the chain's head (Head, CBOR)
//	H <hot key>          →  the mirror of hot state: the key's value at the last checkpoint
//	T <id: 32 bytes>     →  a bridge transfer's record (transferRecord, CBOR)
//	P <id: 32 bytes>     →  a deposit debited here and not yet credited on the hot chain (ledger.BridgeTransfer)
//	C <id: 32 bytes>     →  the hot record of a finished transfer, for the hot chain to delete
//	I <tx id: 32 bytes>  →  where a cold transaction is: height (8 bytes) ‖ index (4 bytes)
const (
	blockTag    = 'B'
	metaTag     = 'M'
	mirrorTag   = 'H'
	transferTag = 'T'
	pendingTag  = 'P'
	cleanupTag  = 'C'
	txTag       = 'I'
)

var headKey = []byte("Mhead")

// ErrNotFound: no such cold block, transaction, or proof height.
var ErrNotFound = errors.New("coldchain: not found")

func tagged(tag byte, b []byte) []byte { return append([]byte{tag}, b...) }

func blockKey(h uint64) []byte { return binary.BigEndian.AppendUint64([]byte{blockTag}, h) }

// Head is the cold chain's latest block.
type Head struct {
	_          struct{} `cbor:",toarray"`
	Height     uint64
	Hash       ledger.Hash
	Root       ledger.Hash // its state root
	Checkpoint ledger.Checkpoint
	Index      uint64 // the log index it was applied at
}

// TxKind is what a cold transaction does.
type TxKind uint8

// Cold transaction kinds.
const (
	TxTransfer TxKind = 1 // between cold accounts
	TxDeposit  TxKind = 2 // from a cold account to its owner's hot account
)

// Tx is a cold transaction, its signature checked and its arguments
// decoded by the caller.
type Tx struct {
	Tx     ledger.Tx
	ID     ledger.Hash
	Kind   TxKind
	To     ledger.Address // a transfer's recipient
	Amount uint64
}

// Settlement is an escrow the hot chain holds for a settle: the cold
// block credits it. HotKey is the escrow's hot record, which the hot chain
// deletes once this chain says it is done (Cleanups).
type Settlement struct {
	Transfer ledger.BridgeTransfer
	HotKey   []byte
}

// Credit is a deposit the hot chain credited at HotHeight; HotKey is its
// marker there.
type Credit struct {
	ID        ledger.Hash
	HotHeight uint64
	HotKey    []byte
}

// BlockInput is what one cold block applies, at log index Index.
type BlockInput struct {
	Index      uint64
	Time       int64
	Checkpoint ledger.Checkpoint
	// Mirror is the hot writes since the previous checkpoint, by key; an
	// empty value deletes the key.
	Mirror      map[string][]byte
	Settlements []Settlement
	Credits     []Credit
	Cleaned     []ledger.Hash // transfers whose hot record the hot chain deleted
	Txs         []Tx
}

// Transfer is a bridge transfer's record on this chain.
type Transfer struct {
	_        struct{} `cbor:",toarray"`
	Transfer ledger.BridgeTransfer
	// Done: a settle credited here, or a deposit credited on the hot
	// chain.
	Done       bool
	HotHeight  uint64 // a deposit's hot credit
	ColdHeight uint64 // the block that credited a settle, or debited a deposit
}

// Chain is the cold chain of one node: the account state, the blocks, the
// mirror of hot state and the bridge's records, all in one Pebble
// database. Apply is called by one goroutine at a time (the node's state
// machine); reads may come from any.
type Chain struct {
	cfg     Config
	chainID string

	mu     sync.RWMutex // guards st (Restore replaces it), head and closed
	st     *State
	head   Head
	closed bool

	snapshots atomic.Int64 // Snapshots not yet released: Restore must not close the database under them
}

// OpenChain opens (or creates) the cold chain of chainID in cfg.Dir.
func OpenChain(cfg Config, chainID string) (*Chain, error) {
	if err := recoverRestore(cfg); err != nil {
		return nil, err
	}
	st, err := Open(cfg)
	if err != nil {
		return nil, err
	}
	c := &Chain{cfg: cfg, chainID: chainID, st: st}
	if err := c.loadHead(); err != nil {
		_ = st.Close()
		return nil, err
	}
	return c, nil
}

func (c *Chain) loadHead() error {
	c.head = Head{}
	v, ok, err := c.st.get(headKey)
	if err != nil || !ok {
		return err
	}
	if err := ledger.Unmarshal(v, &c.head); err != nil {
		return fmt.Errorf("%w: head: %v", ErrCorrupt, err)
	}
	return nil
}

// Close closes the database.
func (c *Chain) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	c.closed = true
	return c.st.Close()
}

// Head returns the latest cold block's head; its Height is 0 before the
// first.
func (c *Chain) Head() Head {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.head
}

// AppliedIndex returns the log index of the last applied cold block.
func (c *Chain) AppliedIndex() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return 0
	}
	return c.st.AppliedIndex()
}

// Apply applies one cold block and returns it. In one synced batch it
// writes the hot keys changed since the previous checkpoint into the
// mirror, credits the settlements, marks the credited deposits done,
// runs the transactions, and stores the block, the new state root and the
// applied index. A block at or below the applied index has been applied:
// Apply returns nil and changes nothing.
func (c *Chain) Apply(in BlockInput) (*ledger.ColdBlock, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if in.Index <= c.st.AppliedIndex() {
		return nil, nil
	}
	a := &applier{st: c.st, accounts: make(map[ledger.Address]Account), transfers: make(map[ledger.Hash]Transfer)}
	height := c.head.Height + 1
	blk := &ledger.ColdBlock{Header: ledger.ColdHeader{
		ChainID: c.chainID, Height: height, Parent: c.head.Hash, Time: in.Time, Checkpoint: in.Checkpoint,
	}}
	if err := a.settle(blk, in.Settlements); err != nil {
		return nil, err
	}
	if err := a.credit(blk, in.Credits); err != nil {
		return nil, err
	}
	for _, id := range in.Cleaned {
		a.records = append(a.records, record{key: tagged(cleanupTag, id[:])})
	}
	for i := range in.Txs {
		if err := a.run(blk, &in.Txs[i]); err != nil {
			return nil, err
		}
	}
	for k, v := range in.Mirror {
		r := record{key: tagged(mirrorTag, []byte(k))}
		if len(v) > 0 {
			r.value = v
		}
		a.records = append(a.records, r)
	}
	blk.Seal()
	var head Head
	a.records = append(a.records,
		record{key: blockKey(height), fill: func(root ledger.Hash) []byte {
			blk.Header.StateRoot = root
			head = Head{Height: height, Hash: blk.Header.Hash(), Root: root, Checkpoint: in.Checkpoint, Index: in.Index}
			return mustMarshal(blk)
		}},
		record{key: headKey, fill: func(ledger.Hash) []byte { return mustMarshal(head) }},
	)
	if _, err := c.st.apply(a.writes(), a.records, in.Index); err != nil {
		return nil, err
	}
	c.head = head
	return blk, nil
}

// applier gathers one block's account changes and records.
type applier struct {
	st        *State
	accounts  map[ledger.Address]Account // changed accounts, as they are now
	transfers map[ledger.Hash]Transfer   // transfer records written by this block, as they are now
	records   []record
}

func (a *applier) account(addr ledger.Address) (Account, error) {
	if acct, ok := a.accounts[addr]; ok {
		return acct, nil
	}
	acct, _, err := a.st.account(addr)
	return acct, err
}

func (a *applier) writes() []AccountWrite {
	w := make([]AccountWrite, 0, len(a.accounts))
	for addr, acct := range a.accounts {
		w = append(w, AccountWrite{Address: addr, Account: acct})
	}
	slices.SortFunc(w, func(x, y AccountWrite) int { return bytes.Compare(x.Address[:], y.Address[:]) })
	return w
}

func (a *applier) transfer(id ledger.Hash) (Transfer, bool, error) {
	if t, ok := a.transfers[id]; ok {
		return t, true, nil // a settlement or credit seen twice in one block counts once
	}
	v, ok, err := a.st.get(tagged(transferTag, id[:]))
	if err != nil || !ok {
		return Transfer{}, false, err
	}
	var t Transfer
	if err := ledger.Unmarshal(v, &t); err != nil {
		return Transfer{}, false, fmt.Errorf("%w: transfer %x: %v", ErrCorrupt, id, err)
	}
	return t, true, nil
}

func (a *applier) putTransfer(t Transfer) {
	id := t.Transfer.ID
	a.transfers[id] = t
	a.records = append(a.records, record{key: tagged(transferTag, id[:]), value: mustMarshal(t)})
}

// settle credits each settlement to its owner's cold account, once.
func (a *applier) settle(blk *ledger.ColdBlock, ss []Settlement) error {
	for _, s := range ss {
		t := s.Transfer
		if _, seen, err := a.transfer(t.ID); err != nil || seen {
			if err != nil {
				return err
			}
			continue // credited already: a hot record is only ever new once
		}
		acct, err := a.account(t.Owner)
		if err != nil {
			return err
		}
		sum, carry := bits.Add64(acct.Balance, t.Amount, 0)
		if carry != 0 {
			return fmt.Errorf("%w: settlement %x overflows %s's cold balance", ErrCorrupt, t.ID, t.Owner)
		}
		acct.Balance = sum
		a.accounts[t.Owner] = acct
		a.putTransfer(Transfer{Transfer: t, Done: true, ColdHeight: blk.Header.Height})
		a.records = append(a.records, record{key: tagged(cleanupTag, t.ID[:]), value: s.HotKey})
		blk.Settlements = append(blk.Settlements, t)
	}
	return nil
}

// credit marks deposits the hot chain credited as done.
func (a *applier) credit(blk *ledger.ColdBlock, cs []Credit) error {
	for _, c := range cs {
		t, seen, err := a.transfer(c.ID)
		if err != nil {
			return err
		}
		if !seen || t.Done || t.Transfer.Kind != ledger.KindDeposit {
			continue // not a deposit of this chain's, or seen already
		}
		t.Done, t.HotHeight = true, c.HotHeight
		a.putTransfer(t)
		a.records = append(a.records,
			record{key: tagged(pendingTag, c.ID[:])},
			record{key: tagged(cleanupTag, c.ID[:]), value: c.HotKey})
		blk.Credited = append(blk.Credited, c.ID)
	}
	return nil
}

// run runs one transaction. One with the wrong chain or nonce is left out
// of the block (the leader admits none such; a replay is one); one that
// fails (insufficient funds) is in the block with its receipt, and uses
// its nonce.
func (a *applier) run(blk *ledger.ColdBlock, tx *Tx) error {
	from, err := a.account(tx.Tx.From)
	if err != nil {
		return err
	}
	if tx.Tx.Chain != ledger.Cold || tx.Tx.ChainID != blk.Header.ChainID || tx.Tx.Nonce != from.Nonce || from.Nonce == ^uint64(0) {
		return nil
	}
	r := ledger.Receipt{TxID: tx.ID, Path: ledger.PathNative}
	from.Nonce++
	switch {
	case tx.Amount == 0 || tx.Kind != TxTransfer && tx.Kind != TxDeposit:
		r.Status, r.Error = ledger.StatusBadArgs, "bad cold transaction"
	case from.Balance < tx.Amount:
		r.Status, r.Error = ledger.StatusInsufficientFunds, "insufficient funds"
	case tx.Kind == TxDeposit:
		from.Balance -= tx.Amount
		t := ledger.BridgeTransfer{ID: tx.ID, Kind: ledger.KindDeposit, Owner: tx.Tx.From, Amount: tx.Amount}
		a.putTransfer(Transfer{Transfer: t, ColdHeight: blk.Header.Height})
		a.records = append(a.records, record{key: tagged(pendingTag, tx.ID[:]), value: mustMarshal(t)})
		blk.Deposits = append(blk.Deposits, t)
	case tx.To == tx.Tx.From:
		// A transfer to oneself changes nothing but the nonce.
	default:
		from.Balance -= tx.Amount
		a.accounts[tx.Tx.From] = from
		to, err := a.account(tx.To)
		if err != nil {
			return err
		}
		sum, carry := bits.Add64(to.Balance, tx.Amount, 0)
		if carry != 0 {
			from.Balance += tx.Amount
			r.Status, r.Error = ledger.StatusOverflow, "overflow"
			break
		}
		to.Balance = sum
		a.accounts[tx.To] = to
	}
	a.accounts[tx.Tx.From] = from
	at := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(nil, blk.Header.Height), uint32(len(blk.Txs)))
	a.records = append(a.records, record{key: tagged(txTag, tx.ID[:]), value: at})
	blk.Txs = append(blk.Txs, tx.Tx)
	blk.Receipts = append(blk.Receipts, r)
	return nil
}

// Block returns the block at height; ErrNotFound if there is none.
func (c *Chain) Block(height uint64) (*ledger.ColdBlock, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return nil, ErrClosed
	}
	return c.block(height)
}

func (c *Chain) block(height uint64) (*ledger.ColdBlock, error) {
	v, ok, err := c.st.get(blockKey(height))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: cold block %d (head is %d)", ErrNotFound, height, c.head.Height)
	}
	b := new(ledger.ColdBlock)
	if err := ledger.Unmarshal(v, b); err != nil {
		return nil, fmt.Errorf("%w: cold block %d: %v", ErrCorrupt, height, err)
	}
	return b, nil
}

// Tx returns a cold transaction with its receipt; ErrNotFound if no cold
// block holds it.
func (c *Chain) Tx(id ledger.Hash) (*ledger.TxRecord, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return nil, ErrClosed
	}
	v, ok, err := c.st.get(tagged(txTag, id[:]))
	if err != nil {
		return nil, err
	}
	if !ok || len(v) != 12 {
		return nil, fmt.Errorf("%w: cold transaction %s", ErrNotFound, id)
	}
	height, i := binary.BigEndian.Uint64(v), binary.BigEndian.Uint32(v[8:])
	b, err := c.block(height)
	if err != nil {
		return nil, err
	}
	if int(i) >= len(b.Txs) || int(i) >= len(b.Receipts) {
		return nil, fmt.Errorf("%w: cold transaction %s index", ErrCorrupt, id)
	}
	return &ledger.TxRecord{Tx: b.Txs[i], Receipt: b.Receipts[i], Height: height, Index: i}, nil
}

// Included reports whether a cold block holds the transaction id.
func (c *Chain) Included(id ledger.Hash) (bool, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return false, ErrClosed
	}
	_, ok, err := c.st.get(tagged(txTag, id[:]))
	return ok, err
}

// Account returns addr's cold account (zero if none).
func (c *Chain) Account(addr ledger.Address) (Account, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return Account{}, ErrClosed
	}
	a, _, err := c.st.Account(addr)
	return a, err
}

// Transfer returns a bridge transfer's record, and whether this chain has
// one: a settle once credited, a deposit once debited.
func (c *Chain) Transfer(id ledger.Hash) (Transfer, bool, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return Transfer{}, false, ErrClosed
	}
	return (&applier{st: c.st}).transfer(id)
}

// Prove proves addr's cold account against the state root of the block at
// height (0: the head), and returns that block's head.
func (c *Chain) Prove(addr ledger.Address, height uint64) (*Proof, Head, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return nil, Head{}, ErrClosed
	}
	if c.head.Height == 0 {
		return nil, Head{}, fmt.Errorf("%w: no cold block yet", ErrNotFound)
	}
	if height == 0 || height == c.head.Height {
		p, err := c.st.Prove(addr)
		return p, c.head, err
	}
	b, err := c.block(height)
	if err != nil {
		return nil, Head{}, err
	}
	p, err := c.st.ProveAt(addr, b.Header.StateRoot)
	if errors.Is(err, ErrUnknownRoot) {
		return nil, Head{}, fmt.Errorf("%w: proofs against cold block %d are no longer kept (head is %d)", ErrNotFound, height, c.head.Height)
	}
	return p, Head{Height: height, Hash: b.Header.Hash(), Root: b.Header.StateRoot, Checkpoint: b.Header.Checkpoint}, err
}

// PendingDeposits returns the deposits this chain debited and the hot
// chain has not credited yet, in id order.
func (c *Chain) PendingDeposits() ([]ledger.BridgeTransfer, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return nil, ErrClosed
	}
	return c.pendingDeposits()
}

func (c *Chain) pendingDeposits() ([]ledger.BridgeTransfer, error) {
	var out []ledger.BridgeTransfer
	err := c.scanLocked(pendingTag, func(_, v []byte) error {
		var t ledger.BridgeTransfer
		if err := ledger.Unmarshal(v, &t); err != nil {
			return fmt.Errorf("%w: pending deposit: %v", ErrCorrupt, err)
		}
		out = append(out, t)
		return nil
	})
	return out, err
}

// Cleanups returns the hot records of finished transfers, which the hot
// chain may delete.
func (c *Chain) Cleanups() ([][]byte, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return nil, ErrClosed
	}
	return c.cleanups()
}

func (c *Chain) cleanups() ([][]byte, error) {
	var out [][]byte
	err := c.scanLocked(cleanupTag, func(_, v []byte) error {
		out = append(out, bytes.Clone(v))
		return nil
	})
	return out, err
}

// BridgeWork returns, from one view, the cold height and what the hot
// chain has to do for the bridge as of it: the pending deposits and the
// records to clean up.
func (c *Chain) BridgeWork() (height uint64, deposits []ledger.BridgeTransfer, cleanup [][]byte, err error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		return 0, nil, nil, ErrClosed
	}
	if deposits, err = c.pendingDeposits(); err != nil {
		return 0, nil, nil, err
	}
	if cleanup, err = c.cleanups(); err != nil {
		return 0, nil, nil, err
	}
	return c.head.Height, deposits, cleanup, nil
}

// Mirror returns the mirror of hot state, as of the last checkpoint, key
// by key in key order. The values are valid only during the yield.
// A read error ends the sequence early: use ScanMirror where it matters.
func (c *Chain) Mirror() iter.Seq2[[]byte, []byte] {
	return func(yield func(k, v []byte) bool) {
		_ = c.scan(mirrorTag, func(k, v []byte) error {
			if !yield(k, v) {
				return errStop
			}
			return nil
		})
	}
}

var errStop = errors.New("stop")

// ScanMirror calls fn with each key of the mirror of hot state and its
// value, in key order, from one consistent view; the slices are valid only
// during the call. It returns the first error of a read or of fn. fn must
// not call the Chain's methods.
func (c *Chain) ScanMirror(fn func(k, v []byte) error) error { return c.scan(mirrorTag, fn) }

// Sums is the cold state added up, for an audit.
type Sums struct {
	Balances    uint64 // Σ cold balances
	Accounts    int
	Pending     uint64 // Σ deposits debited here, not credited on the hot chain
	BadBalances int    // records that do not decode, sums that overflow
}

// Sum adds up the cold state, from one point in time.
func (c *Chain) Sum() (Sums, error) {
	// One read lock over both scans: an Apply between them would count a
	// deposit it debits twice, or one it credits not at all.
	c.mu.RLock()
	defer c.mu.RUnlock()
	var s Sums
	add := func(to *uint64, v uint64) {
		var carry uint64
		if *to, carry = bits.Add64(*to, v, 0); carry != 0 {
			s.BadBalances++
		}
	}
	err := c.scanLocked(accountPrefix, func(_, v []byte) error {
		a, ok := decodeAccount(v)
		if !ok {
			s.BadBalances++
			return nil
		}
		s.Accounts++
		add(&s.Balances, a.Balance)
		return nil
	})
	if err != nil {
		return s, err
	}
	err = c.scanLocked(pendingTag, func(_, v []byte) error {
		var t ledger.BridgeTransfer
		if ledger.Unmarshal(v, &t) != nil {
			s.BadBalances++
			return nil
		}
		add(&s.Pending, t.Amount)
		return nil
	})
	return s, err
}

// scan calls fn with each record whose key starts with tag, the tag cut
// off, in key order, from one consistent view.
func (c *Chain) scan(tag byte, fn func(k, v []byte) error) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.scanLocked(tag, fn)
}

// scanLocked is scan for a caller that holds c.mu.
func (c *Chain) scanLocked(tag byte, fn func(k, v []byte) error) error {
	if c.closed {
		return ErrClosed
	}
	it, err := c.st.db.NewIter(&pebble.IterOptions{LowerBound: []byte{tag}, UpperBound: []byte{tag + 1}})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return err
		}
		if err := fn(it.Key()[1:], v); err != nil {
			_ = it.Close()
			if errors.Is(err, errStop) {
				return nil
			}
			return err
		}
	}
	return it.Close()
}

// mustMarshal encodes v, whose types always encode.
func mustMarshal(v any) []byte {
	b, err := ledger.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("coldchain: encode %T: %v", v, err))
	}
	return b
}
