package coldchain

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"maps"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dualchain/dualchain/ledger"
)

const testChainID = "cold-test"

// openChain opens the chain in cfg and closes it when the test ends.
func openChain(t testing.TB, cfg Config) *Chain {
	t.Helper()
	c, err := OpenChain(cfg, testChainID)
	if err != nil {
		t.Fatalf("OpenChain: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func testAddr(n int) ledger.Address {
	return ledger.Address(sha256.Sum256([]byte{'a', byte(n >> 8), byte(n)}))
}

func testID(s string) ledger.Hash { return sha256.Sum256([]byte(s)) }

// settlement is an escrow of amount for owner, with id s.
func settlement(s string, owner ledger.Address, amount uint64) Settlement {
	return Settlement{
		Transfer: ledger.BridgeTransfer{ID: testID(s), Kind: ledger.KindSettle, Owner: owner, Amount: amount},
		HotKey:   []byte("escrow/" + s),
	}
}

// newTx returns a cold transaction of this chain.
func newTx(kind TxKind, from ledger.Address, nonce uint64, to ledger.Address, amount uint64) Tx {
	tx := ledger.Tx{
		ChainID: testChainID, Chain: ledger.Cold, Nonce: nonce, From: from,
		Contract: ledger.BridgeAddress, Function: "transfer", Args: append(ledger.EncodeAmount(amount), to[:]...),
	}
	if kind == TxDeposit {
		tx.Function, tx.Args = ledger.FuncDeposit, ledger.EncodeAmount(amount)
	}
	return Tx{Tx: tx, ID: tx.ID(), Kind: kind, To: to, Amount: amount}
}

// edited returns tx with f applied to its ledger.Tx, and its new id.
func edited(tx Tx, f func(*ledger.Tx)) Tx {
	f(&tx.Tx)
	tx.ID = tx.Tx.ID()
	return tx
}

// mustApply applies in, which must make a block.
func mustApply(t testing.TB, c *Chain, in BlockInput) *ledger.ColdBlock {
	t.Helper()
	b, err := c.Apply(in)
	if err != nil || b == nil {
		t.Fatalf("Apply(index %d) = %v, %v; want a block", in.Index, b, err)
	}
	return b
}

func requireAccount(t testing.TB, c *Chain, addr ledger.Address, want Account) {
	t.Helper()
	if got, err := c.Account(addr); err != nil || got != want {
		t.Fatalf("Account(%s) = %+v, %v; want %+v", addr, got, err, want)
	}
}

// requireHeadMatches checks that the head names b, that b's state root is
// the state's, and that the stored block is b.
func requireHeadMatches(t testing.TB, c *Chain, b *ledger.ColdBlock) {
	t.Helper()
	h := c.Head()
	if h.Height != b.Header.Height || h.Hash != b.Header.Hash() || h.Root != b.Header.StateRoot || h.Checkpoint != b.Header.Checkpoint {
		t.Fatalf("Head = %+v, want height %d hash %v root %v", h, b.Header.Height, b.Header.Hash(), b.Header.StateRoot)
	}
	if root := c.st.Root(); b.Header.StateRoot != root {
		t.Fatalf("block %d StateRoot = %v, want the state's root %v", b.Header.Height, b.Header.StateRoot, root)
	}
	stored, err := c.Block(b.Header.Height)
	if err != nil {
		t.Fatalf("Block(%d): %v", b.Header.Height, err)
	}
	if got, want := mustMarshal(stored), mustMarshal(b); !bytes.Equal(got, want) {
		t.Fatalf("Block(%d) differs from the block Apply returned", b.Header.Height)
	}
}

// TestApplyLinksBlocks: heights count up from 1, each block names its
// parent's hash, its state root is the root of the accounts it leaves,
// and a reopened chain has the same head.
func TestApplyLinksBlocks(t *testing.T) {
	cfg := TestConfig()
	c := openChain(t, cfg)
	if h := c.Head(); h != (Head{}) {
		t.Fatalf("Head of a new chain = %+v, want zero", h)
	}
	alice, bob := testAddr(1), testAddr(2)
	m := model{}
	var parent ledger.Hash
	var blocks []*ledger.ColdBlock
	for i := uint64(1); i <= 4; i++ {
		cp := ledger.Checkpoint{HotHeight: 10 * i, HotHash: testID("hot" + string(rune('0'+i)))}
		in := BlockInput{Index: 3 * i, Time: int64(i), Checkpoint: cp,
			Settlements: []Settlement{settlement("s"+string(rune('0'+i)), alice, 100)},
			Txs:         []Tx{newTx(TxTransfer, alice, i-1, bob, 10)}}
		b := mustApply(t, c, in)
		m[alice] = Account{Balance: m[alice].Balance + 90, Nonce: i}
		m[bob] = Account{Balance: m[bob].Balance + 10}
		if b.Header.Height != i || b.Header.Parent != parent || b.Header.ChainID != testChainID || b.Header.Time != int64(i) {
			t.Fatalf("block %d header = %+v, want height %d parent %v", i, b.Header, i, parent)
		}
		if want := m.root(); b.Header.StateRoot != want {
			t.Fatalf("block %d StateRoot = %v, want %v (the root of the accounts)", i, b.Header.StateRoot, want)
		}
		requireHeadMatches(t, c, b)
		if h := c.Head(); h.Index != in.Index || c.AppliedIndex() != in.Index {
			t.Fatalf("Head.Index = %d, AppliedIndex = %d; want %d", h.Index, c.AppliedIndex(), in.Index)
		}
		parent = b.Header.Hash()
		blocks = append(blocks, b)
	}
	if _, err := c.Block(5); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Block(5) error = %v, want ErrNotFound", err)
	}
	if _, err := c.Block(0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Block(0) error = %v, want ErrNotFound", err)
	}
	head := c.Head()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c2 := openChain(t, cfg)
	if got := c2.Head(); got != head {
		t.Fatalf("reopened Head = %+v, want %+v", got, head)
	}
	for _, b := range blocks {
		requireStoredBlock(t, c2, b)
	}
	b5 := mustApply(t, c2, BlockInput{Index: head.Index + 1})
	if b5.Header.Height != 5 || b5.Header.Parent != head.Hash {
		t.Fatalf("block after reopening: height %d parent %v; want 5, %v", b5.Header.Height, b5.Header.Parent, head.Hash)
	}
}

func requireStoredBlock(t testing.TB, c *Chain, b *ledger.ColdBlock) {
	t.Helper()
	got, err := c.Block(b.Header.Height)
	if err != nil || !bytes.Equal(mustMarshal(got), mustMarshal(b)) {
		t.Fatalf("Block(%d) = %v, %v; want the block applied", b.Header.Height, got, err)
	}
}

// TestApplyTx: one transaction in the block after the one that funds
// alice (100) and perhaps bob: whether it is in the block, its receipt,
// the accounts after, and the sums.
func TestApplyTx(t *testing.T) {
	alice, bob, nobody := testAddr(1), testAddr(2), testAddr(3)
	const maxU = ^uint64(0)
	tests := []struct {
		name     string
		bobStart uint64
		tx       Tx
		included bool
		status   ledger.Status
		want     model  // every account after
		pending  uint64 // Σ pending deposits after
	}{
		{name: "transfer", tx: newTx(TxTransfer, alice, 0, bob, 30), included: true,
			want: model{alice: {70, 1}, bob: {30, 0}}},
		{name: "transfer of the whole balance", tx: newTx(TxTransfer, alice, 0, bob, 100), included: true,
			want: model{alice: {0, 1}, bob: {100, 0}}},
		{name: "insufficient funds", tx: newTx(TxTransfer, alice, 0, bob, 101), included: true,
			status: ledger.StatusInsufficientFunds, want: model{alice: {100, 1}}},
		{name: "from an account with nothing", tx: newTx(TxTransfer, nobody, 0, bob, 1), included: true,
			status: ledger.StatusInsufficientFunds, want: model{alice: {100, 0}, nobody: {0, 1}}},
		{name: "nonce ahead", tx: newTx(TxTransfer, alice, 1, bob, 30), want: model{alice: {100, 0}}},
		{name: "nonce far ahead", tx: newTx(TxTransfer, alice, maxU, bob, 30), want: model{alice: {100, 0}}},
		{name: "hot chain", tx: edited(newTx(TxTransfer, alice, 0, bob, 30), func(tx *ledger.Tx) { tx.Chain = ledger.Hot }),
			want: model{alice: {100, 0}}},
		{name: "other chain id", tx: edited(newTx(TxTransfer, alice, 0, bob, 30), func(tx *ledger.Tx) { tx.ChainID = "other" }),
			want: model{alice: {100, 0}}},
		{name: "to oneself", tx: newTx(TxTransfer, alice, 0, alice, 60), included: true,
			want: model{alice: {100, 1}}},
		{name: "to oneself, more than the balance", tx: newTx(TxTransfer, alice, 0, alice, 160), included: true,
			status: ledger.StatusInsufficientFunds, want: model{alice: {100, 1}}},
		{name: "zero amount", tx: newTx(TxTransfer, alice, 0, bob, 0), included: true,
			status: ledger.StatusBadArgs, want: model{alice: {100, 1}}},
		{name: "unknown kind", tx: func() Tx { tx := newTx(TxTransfer, alice, 0, bob, 5); tx.Kind = 0; return tx }(), included: true,
			status: ledger.StatusBadArgs, want: model{alice: {100, 1}}},
		{name: "overflow", bobStart: maxU - 50, tx: newTx(TxTransfer, alice, 0, bob, 51), included: true,
			status: ledger.StatusOverflow, want: model{alice: {100, 1}, bob: {maxU - 50, 0}}},
		{name: "no overflow at the limit", bobStart: maxU - 50, tx: newTx(TxTransfer, alice, 0, bob, 50), included: true,
			want: model{alice: {50, 1}, bob: {maxU, 0}}},
		{name: "deposit", tx: newTx(TxDeposit, alice, 0, ledger.Address{}, 40), included: true,
			want: model{alice: {60, 1}}, pending: 40},
		{name: "deposit of more than the balance", tx: newTx(TxDeposit, alice, 0, ledger.Address{}, 101), included: true,
			status: ledger.StatusInsufficientFunds, want: model{alice: {100, 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := openChain(t, TestConfig())
			fund := []Settlement{settlement("alice", alice, 100)}
			if tc.bobStart > 0 {
				fund = append(fund, settlement("bob", bob, tc.bobStart))
			}
			mustApply(t, c, BlockInput{Index: 1, Settlements: fund})
			b := mustApply(t, c, BlockInput{Index: 2, Txs: []Tx{tc.tx}})
			requireHeadMatches(t, c, b)
			requireTxOutcome(t, c, b, tc.tx, tc.included, tc.status)
			for _, a := range []ledger.Address{alice, bob, nobody} {
				requireAccount(t, c, a, tc.want[a])
			}
			if want := tc.want.root(); b.Header.StateRoot != want {
				t.Fatalf("StateRoot = %v, want %v (the root of %v)", b.Header.StateRoot, want, tc.want)
			}
			requireSums(t, c, tc.want, tc.pending, 100+tc.bobStart)
			requireDeposit(t, c, tc.tx, tc.included && tc.status == ledger.StatusOK && tc.tx.Kind == TxDeposit)
		})
	}
}

// requireTxOutcome checks whether b holds tx, with which receipt, and
// that Tx finds it there.
func requireTxOutcome(t testing.TB, c *Chain, b *ledger.ColdBlock, tx Tx, included bool, status ledger.Status) {
	t.Helper()
	rec, err := c.Tx(tx.ID)
	if !included {
		if len(b.Txs) != 0 || len(b.Receipts) != 0 {
			t.Fatalf("block holds %d txs, %d receipts; want the tx left out", len(b.Txs), len(b.Receipts))
		}
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("Tx(%v) = %v, %v; want ErrNotFound", tx.ID, rec, err)
		}
		return
	}
	if len(b.Txs) != 1 || len(b.Receipts) != 1 {
		t.Fatalf("block holds %d txs, %d receipts; want 1, 1", len(b.Txs), len(b.Receipts))
	}
	r := b.Receipts[0]
	if r.TxID != tx.ID || r.Status != status || r.Path != ledger.PathNative || (status == ledger.StatusOK) != (r.Error == "") {
		t.Fatalf("receipt = %+v, want tx %v status %v", r, tx.ID, status)
	}
	if b.Txs[0].ID() != tx.ID {
		t.Fatalf("block tx id = %v, want %v", b.Txs[0].ID(), tx.ID)
	}
	if err != nil {
		t.Fatalf("Tx(%v): %v", tx.ID, err)
	}
	if rec.Height != b.Header.Height || rec.Index != 0 || rec.Tx.ID() != tx.ID || rec.Receipt.Status != status || rec.Receipt.TxID != tx.ID {
		t.Fatalf("Tx(%v) = height %d index %d receipt %+v; want height %d index 0 status %v",
			tx.ID, rec.Height, rec.Index, rec.Receipt, b.Header.Height, status)
	}
}

// requireSums checks Sum against the accounts and pending deposits
// expected, and that the two add up to what went in.
func requireSums(t testing.TB, c *Chain, want model, pending, in uint64) {
	t.Helper()
	s, err := c.Sum()
	if err != nil {
		t.Fatal(err)
	}
	// Sums wrap, and Sum counts each overflow as a bad balance.
	var balances uint64
	overflows := 0
	for _, a := range want {
		var carry uint64
		balances, carry = bits.Add64(balances, a.Balance, 0)
		overflows += int(carry)
	}
	if s.Balances != balances || s.Pending != pending || s.Accounts != len(want) || s.BadBalances != overflows {
		t.Fatalf("Sum = %+v, want balances %d pending %d accounts %d bad %d", s, balances, pending, len(want), overflows)
	}
	if s.Balances+s.Pending != in {
		t.Fatalf("Sum: balances %d + pending %d != %d went in", s.Balances, s.Pending, in)
	}
}

// requireDeposit checks that tx is a pending deposit, debited at the
// head's height, if and only if pending says so.
func requireDeposit(t testing.TB, c *Chain, tx Tx, pending bool) {
	t.Helper()
	requireDepositAt(t, c, tx, pending, c.Head().Height)
}

// requireDepositAt is requireDeposit for a deposit debited at height.
func requireDepositAt(t testing.TB, c *Chain, tx Tx, pending bool, height uint64) {
	t.Helper()
	deps, err := c.PendingDeposits()
	if err != nil {
		t.Fatal(err)
	}
	tr, seen, err := c.Transfer(tx.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !pending {
		if len(deps) != 0 || seen {
			t.Fatalf("PendingDeposits = %v, Transfer seen = %v; want no deposit", deps, seen)
		}
		return
	}
	want := ledger.BridgeTransfer{ID: tx.ID, Kind: ledger.KindDeposit, Owner: tx.Tx.From, Amount: tx.Amount}
	if len(deps) != 1 || deps[0] != want {
		t.Fatalf("PendingDeposits = %v, want [%v]", deps, want)
	}
	if !seen || tr.Transfer != want || tr.Done || tr.ColdHeight != height {
		t.Fatalf("Transfer(%v) = %+v, %v; want %v not done at height %d", tx.ID, tr, seen, want, height)
	}
}

// TestApplyTxsInBlock: several transactions of one sender in one block
// run in order, each at its nonce; a replay of one is left out.
func TestApplyTxsInBlock(t *testing.T) {
	c := openChain(t, TestConfig())
	alice, bob, carol := testAddr(1), testAddr(2), testAddr(3)
	mustApply(t, c, BlockInput{Index: 1, Settlements: []Settlement{settlement("a", alice, 100)}})
	t1 := newTx(TxTransfer, alice, 0, bob, 60)
	t2 := newTx(TxTransfer, alice, 1, carol, 60) // fails: 40 left
	t3 := newTx(TxTransfer, bob, 0, carol, 50)   // spends what t1 brought
	t4 := newTx(TxDeposit, alice, 2, ledger.Address{}, 40)
	b := mustApply(t, c, BlockInput{Index: 2, Txs: []Tx{t1, t2, t1, t3, t4, t3}})
	wantStatus := []ledger.Status{ledger.StatusOK, ledger.StatusInsufficientFunds, ledger.StatusOK, ledger.StatusOK}
	if len(b.Receipts) != len(wantStatus) {
		t.Fatalf("block holds %d receipts, want %d (the replays left out)", len(b.Receipts), len(wantStatus))
	}
	for i, tx := range []Tx{t1, t2, t3, t4} {
		rec, err := c.Tx(tx.ID)
		if err != nil || rec.Index != uint32(i) || rec.Height != 2 || rec.Receipt.Status != wantStatus[i] || b.Receipts[i].Status != wantStatus[i] {
			t.Fatalf("Tx(t%d) = %+v, %v; want index %d status %v", i+1, rec, err, i, wantStatus[i])
		}
	}
	want := model{alice: {0, 3}, bob: {10, 1}, carol: {50, 0}}
	for a, acct := range want {
		requireAccount(t, c, a, acct)
	}
	requireSums(t, c, want, 40, 100)
	if len(b.Deposits) != 1 || b.Deposits[0].ID != t4.ID {
		t.Fatalf("block deposits = %v, want t4", b.Deposits)
	}
}

// TestSettlementsCreditOnce: a settlement is credited to its owner once,
// whether its id comes again in a later block or twice in one.
func TestSettlementsCreditOnce(t *testing.T) {
	c := openChain(t, TestConfig())
	alice, bob := testAddr(1), testAddr(2)
	s1, s2, s3 := settlement("s1", alice, 100), settlement("s2", alice, 50), settlement("s3", bob, 7)
	b1 := mustApply(t, c, BlockInput{Index: 1, Settlements: []Settlement{s1}})
	if len(b1.Settlements) != 1 || b1.Settlements[0] != s1.Transfer {
		t.Fatalf("block 1 settlements = %v, want [%v]", b1.Settlements, s1.Transfer)
	}
	b2 := mustApply(t, c, BlockInput{Index: 2, Settlements: []Settlement{s1, s2, s3, s3}})
	if len(b2.Settlements) != 2 || b2.Settlements[0] != s2.Transfer || b2.Settlements[1] != s3.Transfer {
		t.Fatalf("block 2 settlements = %v, want [%v %v]", b2.Settlements, s2.Transfer, s3.Transfer)
	}
	requireAccount(t, c, alice, Account{Balance: 150})
	requireAccount(t, c, bob, Account{Balance: 7})
	requireSums(t, c, model{alice: {150, 0}, bob: {7, 0}}, 0, 157)
	for _, s := range []Settlement{s1, s2, s3} {
		wantHeight := uint64(2)
		if s.Transfer == s1.Transfer {
			wantHeight = 1
		}
		tr, seen, err := c.Transfer(s.Transfer.ID)
		if err != nil || !seen || tr.Transfer != s.Transfer || !tr.Done || tr.ColdHeight != wantHeight {
			t.Fatalf("Transfer(%v) = %+v, %v, %v; want %v done at height %d", s.Transfer.ID, tr, seen, err, s.Transfer, wantHeight)
		}
	}
	requireCleanups(t, c, s1.HotKey, s2.HotKey, s3.HotKey)
	if _, seen, err := c.Transfer(testID("never")); err != nil || seen {
		t.Fatalf("Transfer(unknown) = %v, %v; want not seen", seen, err)
	}
}

// TestSettlementOverflowFailsBlock: a settlement that would overflow a
// cold balance is corrupt input: the block is refused and changes nothing.
func TestSettlementOverflowFailsBlock(t *testing.T) {
	c := openChain(t, TestConfig())
	alice := testAddr(1)
	mustApply(t, c, BlockInput{Index: 1, Settlements: []Settlement{settlement("s1", alice, ^uint64(0))}})
	head := c.Head()
	_, err := c.Apply(BlockInput{Index: 2, Settlements: []Settlement{settlement("s2", alice, 1)}})
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Apply(overflowing settlement) error = %v, want ErrCorrupt", err)
	}
	if c.Head() != head || c.AppliedIndex() != 1 {
		t.Fatalf("a refused block changed the head: %+v, index %d", c.Head(), c.AppliedIndex())
	}
	if _, seen, _ := c.Transfer(testID("s2")); seen {
		t.Fatalf("a refused block recorded its settlement")
	}
}

func requireCleanups(t testing.TB, c *Chain, want ...[]byte) {
	t.Helper()
	got, err := c.Cleanups()
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, bytes.Compare)
	want = slices.Clone(want)
	slices.SortFunc(want, bytes.Compare)
	if !slices.EqualFunc(got, want, bytes.Equal) {
		t.Fatalf("Cleanups = %q, want %q", got, want)
	}
}

// TestDepositLifecycle: a deposit is debited and pending until a credit
// for its id comes; then it is done, not pending, and its hot marker is
// to clean up; Cleaned ids leave the cleanups.
func TestDepositLifecycle(t *testing.T) {
	c := openChain(t, TestConfig())
	alice := testAddr(1)
	s := settlement("s", alice, 100)
	mustApply(t, c, BlockInput{Index: 1, Settlements: []Settlement{s}})
	d := newTx(TxDeposit, alice, 0, ledger.Address{}, 40)
	b2 := mustApply(t, c, BlockInput{Index: 2, Txs: []Tx{d}})
	dt := ledger.BridgeTransfer{ID: d.ID, Kind: ledger.KindDeposit, Owner: alice, Amount: 40}
	if len(b2.Deposits) != 1 || b2.Deposits[0] != dt {
		t.Fatalf("block 2 deposits = %v, want [%v]", b2.Deposits, dt)
	}
	requireDeposit(t, c, d, true)
	requireSums(t, c, model{alice: {60, 1}}, 40, 100)
	requireCleanups(t, c, s.HotKey)

	// A credit of an unknown id, or of a settlement, changes nothing.
	b3 := mustApply(t, c, BlockInput{Index: 3, Credits: []Credit{
		{ID: testID("unknown"), HotHeight: 5, HotKey: []byte("x")},
		{ID: s.Transfer.ID, HotHeight: 5, HotKey: []byte("y")},
	}})
	if len(b3.Credited) != 0 {
		t.Fatalf("block 3 credited %v, want nothing", b3.Credited)
	}
	requireDepositAt(t, c, d, true, 2)

	credit := Credit{ID: d.ID, HotHeight: 7, HotKey: []byte("credit/d")}
	b4 := mustApply(t, c, BlockInput{Index: 4, Credits: []Credit{credit}})
	if len(b4.Credited) != 1 || b4.Credited[0] != d.ID {
		t.Fatalf("block 4 credited %v, want [%v]", b4.Credited, d.ID)
	}
	if deps, err := c.PendingDeposits(); err != nil || len(deps) != 0 {
		t.Fatalf("PendingDeposits after the credit = %v, %v; want none", deps, err)
	}
	tr, seen, err := c.Transfer(d.ID)
	if err != nil || !seen || !tr.Done || tr.HotHeight != 7 || tr.ColdHeight != 2 || tr.Transfer != dt {
		t.Fatalf("Transfer(deposit) = %+v, %v, %v; want done at hot height 7, cold height 2", tr, seen, err)
	}
	requireCleanups(t, c, s.HotKey, credit.HotKey)
	sums, err := c.Sum()
	if err != nil || sums.Balances != 60 || sums.Pending != 0 {
		t.Fatalf("Sum after the credit = %+v, %v; want balances 60, pending 0", sums, err)
	}

	// The same credit again is seen already.
	b5 := mustApply(t, c, BlockInput{Index: 5, Credits: []Credit{{ID: d.ID, HotHeight: 9, HotKey: []byte("other")}}})
	if len(b5.Credited) != 0 {
		t.Fatalf("block 5 credited %v again", b5.Credited)
	}
	if tr, _, _ := c.Transfer(d.ID); tr.HotHeight != 7 {
		t.Fatalf("a repeated credit changed the transfer: %+v", tr)
	}
	requireCleanups(t, c, s.HotKey, credit.HotKey)

	mustApply(t, c, BlockInput{Index: 6, Cleaned: []ledger.Hash{d.ID}})
	requireCleanups(t, c, s.HotKey)
	mustApply(t, c, BlockInput{Index: 7, Cleaned: []ledger.Hash{s.Transfer.ID, testID("unknown")}})
	requireCleanups(t, c)
	if tr, seen, _ := c.Transfer(d.ID); !seen || !tr.Done {
		t.Fatalf("cleaning up removed the transfer's record: %+v, %v", tr, seen)
	}
}

// TestCreditInSameBlockTwice: two credits of one deposit in one block
// credit it once.
func TestCreditInSameBlockTwice(t *testing.T) {
	c := openChain(t, TestConfig())
	alice := testAddr(1)
	mustApply(t, c, BlockInput{Index: 1, Settlements: []Settlement{settlement("s", alice, 100)}})
	d := newTx(TxDeposit, alice, 0, ledger.Address{}, 40)
	mustApply(t, c, BlockInput{Index: 2, Txs: []Tx{d}})
	cr := Credit{ID: d.ID, HotHeight: 3, HotKey: []byte("k")}
	b := mustApply(t, c, BlockInput{Index: 3, Credits: []Credit{cr, cr}})
	if len(b.Credited) != 1 {
		t.Fatalf("block credited %v, want the deposit once", b.Credited)
	}
}

// TestChainApplyIdempotent: a block at or below the applied index returns nil
// and changes nothing, also after reopening.
func TestChainApplyIdempotent(t *testing.T) {
	cfg := TestConfig()
	c := openChain(t, cfg)
	alice, bob := testAddr(1), testAddr(2)
	mustApply(t, c, BlockInput{Index: 5, Settlements: []Settlement{settlement("s", alice, 100)},
		Mirror: map[string][]byte{"k": []byte("v")}})
	mustApply(t, c, BlockInput{Index: 9, Txs: []Tx{newTx(TxTransfer, alice, 0, bob, 10)}})
	before := chainDump(t, c)
	replay := BlockInput{
		Settlements: []Settlement{settlement("s2", alice, 1000)},
		Txs:         []Tx{newTx(TxTransfer, alice, 1, bob, 10)},
		Mirror:      map[string][]byte{"k": nil, "k2": []byte("v2")},
	}
	check := func(c *Chain) {
		t.Helper()
		for _, idx := range []uint64{9, 8, 5, 1, 0} {
			replay.Index = idx
			if b, err := c.Apply(replay); b != nil || err != nil {
				t.Fatalf("Apply(index %d) = %v, %v; want nil, nil", idx, b, err)
			}
		}
		if after := chainDump(t, c); !bytes.Equal(after, before) {
			t.Fatalf("a replayed block changed the chain")
		}
	}
	check(c)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	check(openChain(t, cfg))
}

// chainDump returns every record of the chain: a snapshot's stream.
func chainDump(t testing.TB, c *Chain) []byte {
	t.Helper()
	s, err := c.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	var buf bytes.Buffer
	if _, err := s.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// mirrorOf returns the chain's mirror as a map.
func mirrorOf(c *Chain) map[string]string {
	m := map[string]string{}
	for k, v := range c.Mirror() {
		m[string(k)] = string(v)
	}
	return m
}

// TestMirror: a write with a value stores it, an empty or nil one
// deletes the key; Mirror yields exactly the mirror, in key order.
func TestMirror(t *testing.T) {
	cfg := TestConfig()
	c := openChain(t, cfg)
	bin := string([]byte{0, 0xff, 'H', 0})
	mustApply(t, c, BlockInput{Index: 1, Mirror: map[string][]byte{
		"a": []byte("1"), "b": []byte("2"), "c": []byte("3"), bin: {0}, "gone": nil,
	}})
	want := map[string]string{"a": "1", "b": "2", "c": "3", bin: "\x00"}
	if got := mirrorOf(c); !maps.Equal(got, want) {
		t.Fatalf("Mirror after block 1 = %q, want %q", got, want)
	}
	mustApply(t, c, BlockInput{Index: 2, Mirror: map[string][]byte{
		"b": nil, "c": {}, "d": []byte("4"), "a": []byte("11"), "never": {},
	}})
	want = map[string]string{"a": "11", "d": "4", bin: "\x00"}
	if got := mirrorOf(c); !maps.Equal(got, want) {
		t.Fatalf("Mirror after block 2 = %q, want %q", got, want)
	}
	// No other record shows through, in key order, and a break stops.
	var keys []string
	for k := range c.Mirror() {
		keys = append(keys, string(k))
	}
	if !slices.IsSorted(keys) || len(keys) != len(want) {
		t.Fatalf("Mirror keys = %q, want %d keys in order", keys, len(want))
	}
	n := 0
	for range c.Mirror() {
		n++
		break
	}
	if n != 1 {
		t.Fatalf("Mirror went on after a break: %d", n)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if got := mirrorOf(openChain(t, cfg)); !maps.Equal(got, want) {
		t.Fatalf("reopened Mirror = %q, want %q", got, want)
	}
}

// TestRandomBlocksAddUp applies random blocks of settlements, transfers,
// deposits, credits and cleanups, and checks after each that the sums add
// up to what went in less what the hot chain credited, that each included
// transaction is where Tx says, and that the state is consistent.
func TestRandomBlocksAddUp(t *testing.T) {
	c := openChain(t, TestConfig())
	r := rand.New(rand.NewPCG(51, 52))
	addrs := make([]ledger.Address, 12)
	for i := range addrs {
		addrs[i] = testAddr(i)
	}
	nonces := map[ledger.Address]uint64{}
	var in, out uint64
	pending := map[ledger.Hash]uint64{}
	for i := uint64(1); i <= 40; i++ {
		blk := BlockInput{Index: i}
		for j := r.IntN(3); j > 0; j-- {
			s := settlement(string(rune(i))+string(rune(j)), addrs[r.IntN(len(addrs))], 1+r.Uint64N(500))
			blk.Settlements = append(blk.Settlements, s)
			in += s.Transfer.Amount
		}
		for id, amount := range pending {
			if r.IntN(3) == 0 {
				blk.Credits = append(blk.Credits, Credit{ID: id, HotHeight: i, HotKey: id[:4]})
				out += amount
				delete(pending, id)
			}
		}
		for j := r.IntN(6); j > 0; j-- {
			from := addrs[r.IntN(len(addrs))]
			kind := TxTransfer
			if r.IntN(4) == 0 {
				kind = TxDeposit
			}
			blk.Txs = append(blk.Txs, newTx(kind, from, nonces[from], addrs[r.IntN(len(addrs))], 1+r.Uint64N(300)))
			nonces[from]++
		}
		b := mustApply(t, c, blk)
		requireHeadMatches(t, c, b)
		for _, d := range b.Deposits {
			pending[d.ID] = d.Amount
		}
		if len(b.Txs) != len(blk.Txs) {
			t.Fatalf("block %d holds %d txs, want %d (all at their nonces)", i, len(b.Txs), len(blk.Txs))
		}
		for k, tx := range blk.Txs {
			if rec, err := c.Tx(tx.ID); err != nil || rec.Height != i || rec.Index != uint32(k) || !bytes.Equal(mustMarshal(rec.Receipt), mustMarshal(b.Receipts[k])) {
				t.Fatalf("Tx(block %d tx %d) = %+v, %v", i, k, rec, err)
			}
		}
		s, err := c.Sum()
		if err != nil {
			t.Fatal(err)
		}
		var p uint64
		for _, a := range pending {
			p += a
		}
		if s.Pending != p || s.Balances+s.Pending != in-out || s.BadBalances != 0 {
			t.Fatalf("block %d: Sum = %+v; want pending %d, balances + pending = %d", i, s, p, in-out)
		}
	}
	if err := c.st.Check(); err != nil {
		t.Fatal(err)
	}
}

// TestSumDuringApply: Sum, read while blocks of deposits apply, always
// adds up: balances and pending deposits come from one point in time.
func TestSumDuringApply(t *testing.T) {
	c := openChain(t, TestConfig())
	alice := testAddr(1)
	mustApply(t, c, BlockInput{Index: 1, Settlements: []Settlement{settlement("s", alice, 1_000_000)}})
	var wg sync.WaitGroup
	wg.Add(1)
	errc := make(chan error, 1)
	go func() {
		defer wg.Done()
		for i := uint64(0); i < 150; i++ {
			if _, err := c.Apply(BlockInput{Index: i + 2, Txs: []Tx{newTx(TxDeposit, alice, i, ledger.Address{}, 1+i)}}); err != nil {
				errc <- err
				return
			}
		}
	}()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for n := 0; ; n++ {
		s, err := c.Sum()
		if err != nil {
			t.Fatal(err)
		}
		if s.Balances+s.Pending != 1_000_000 {
			t.Fatalf("Sum #%d = %+v: balances + pending = %d, want 1000000", n, s, s.Balances+s.Pending)
		}
		select {
		case err := <-errc:
			t.Fatal(err)
		case <-done:
			return
		default:
		}
	}
}

// TestChainClosed: a closed chain answers ErrClosed, never a panic.
func TestChainClosed(t *testing.T) {
	c := openChain(t, TestConfig())
	alice := testAddr(1)
	mustApply(t, c, BlockInput{Index: 1, Settlements: []Settlement{settlement("s", alice, 100)}})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		f    func() error
	}{
		{"Apply", func() error {
			_, err := c.Apply(BlockInput{Index: 2, Txs: []Tx{newTx(TxTransfer, alice, 0, alice, 1)}})
			return err
		}},
		{"Apply with a settlement", func() error {
			_, err := c.Apply(BlockInput{Index: 2, Settlements: []Settlement{settlement("t", alice, 1)}})
			return err
		}},
		{"Block", func() error { _, err := c.Block(1); return err }},
		{"Tx", func() error { _, err := c.Tx(testID("x")); return err }},
		{"Transfer", func() error { _, _, err := c.Transfer(testID("s")); return err }},
		{"Account", func() error { _, err := c.Account(alice); return err }},
		{"Sum", func() error { _, err := c.Sum(); return err }},
		{"PendingDeposits", func() error { _, err := c.PendingDeposits(); return err }},
		{"Snapshot", func() error { _, err := c.Snapshot(); return err }},
	} {
		if err := tc.f(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", tc.name, err)
		}
	}
}

// TestChainCrashAfterApply: a cold block whose Apply returned survives a
// crash right after it, whatever part of the unsynced data the crash
// keeps.
func TestChainCrashAfterApply(t *testing.T) {
	fs := vfs.NewCrashableMem()
	c := openChain(t, Config{Dir: "cold", FS: fs})
	alice, bob := testAddr(1), testAddr(2)
	for i := uint64(1); i <= 4; i++ {
		b := mustApply(t, c, BlockInput{Index: i,
			Settlements: []Settlement{settlement(string(rune('a'+i)), alice, 100)},
			Txs:         []Tx{newTx(TxTransfer, alice, i-1, bob, 10), newTx(TxDeposit, bob, i-1, ledger.Address{}, 5)},
			Mirror:      map[string][]byte{string(rune('a' + i)): {byte(i)}}})
		want := chainDump(t, c)
		for _, pct := range []int{0, 50, 100} {
			clone := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: pct, RNG: rand.New(rand.NewPCG(i, uint64(pct)))})
			cc := openChain(t, Config{Dir: "cold", FS: clone})
			if cc.Head() != c.Head() || cc.st.Root() != b.Header.StateRoot {
				t.Fatalf("block %d, crash keeping %d%% unsynced: head %+v, want %+v", i, pct, cc.Head(), c.Head())
			}
			requireStoredBlock(t, cc, b)
			if got := chainDump(t, cc); !bytes.Equal(got, want) {
				t.Fatalf("block %d, crash keeping %d%% unsynced: the records differ", i, pct)
			}
			if err := cc.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}
