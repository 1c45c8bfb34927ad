package hotchain

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"

	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
)

// testChain produces the blocks a block producer would: random token
// transfers between a set of accounts, executed against a model of the
// state, each block with its receipts, write set and commitment.
type testChain struct {
	r        *rand.Rand
	accounts []ledger.Address
	state    map[string][]byte // the model: state after the last block
	gen      *Genesis
	meta     Meta // where the chain is (no incarnation)

	// dupWrites makes write sets list every write as it happens (a key may
	// appear several times, a delete followed by a set) instead of one final
	// write per key.
	dupWrites bool
	// failEvery makes every n-th transfer overdraw (n > 0): a receipt with
	// an error and only the nonce written.
	failEvery int
	// sequential pairs account i with account i+n/2 in block-sized runs, so
	// a block of up to n/2 transfers touches 3 distinct keys per transfer
	// (benchmarks); otherwise senders and recipients are random.
	sequential bool
	next       int // sequential: next sender
}

// newTestChain makes n accounts, each with a genesis balance.
func newTestChain(seed uint64, n int, balance uint64) *testChain {
	c := &testChain{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), state: map[string][]byte{}}
	gen := &Genesis{Hash: ledger.Hash{0xd, byte(seed), byte(n)}}
	for i := range n {
		a := ledger.Address{}
		binary.BigEndian.PutUint64(a[:], seed)
		binary.BigEndian.PutUint64(a[8:], uint64(i))
		c.accounts = append(c.accounts, a)
		w := ledger.Write{Key: token.BalanceKey(a), Value: ledger.EncodeUint64(balance)}
		gen.Writes = append(gen.Writes, w)
		c.state[string(w.Key)] = w.Value
	}
	c.gen = gen
	var com Commitment
	for k, v := range c.state {
		com.Add([]byte(k), v)
	}
	c.meta = Meta{Genesis: gen.Hash, Head: gen.Hash, Commitment: com}
	return c
}

// blockState is the working state of the block being built.
type blockState struct {
	c       *testChain
	writes  []ledger.Write
	changes []Change
	cur     map[string][]byte // values written by this block so far
	order   []string          // keys in first-write order
}

func (s *blockState) get(k []byte) []byte {
	if v, ok := s.cur[string(k)]; ok {
		return v
	}
	return s.c.state[string(k)]
}

func (s *blockState) set(k, v []byte) {
	if _, ok := s.cur[string(k)]; !ok {
		s.order = append(s.order, string(k))
	}
	if s.c.dupWrites {
		s.writes = append(s.writes, ledger.Write{Key: k, Value: v})
		s.changes = append(s.changes, Change{Key: k, Old: s.get(k), New: v})
	}
	s.cur[string(k)] = v
}

// finish returns the block's write set and its changes to the commitment.
func (s *blockState) finish() ([]ledger.Write, []Change) {
	if s.c.dupWrites {
		return s.writes, s.changes
	}
	for _, k := range s.order {
		s.writes = append(s.writes, ledger.Write{Key: []byte(k), Value: s.cur[k]})
		s.changes = append(s.changes, Change{Key: []byte(k), Old: s.c.state[k], New: s.cur[k]})
	}
	return s.writes, s.changes
}

// nextBlock builds the next block of n transfers and returns its update.
func (c *testChain) nextBlock(n int) *Update {
	s := &blockState{c: c, cur: map[string][]byte{}}
	b := c.newBlock()
	for i := range n {
		tx, rc := c.transfer(s, i)
		b.Txs = append(b.Txs, tx)
		b.Receipts = append(b.Receipts, rc)
	}
	writes, changes := s.finish()
	return c.seal(b, writes, changes)
}

// writesBlock builds the next block, with no transactions and the given
// write set (a key may appear more than once).
func (c *testChain) writesBlock(writes []ledger.Write) *Update {
	cur := map[string][]byte{}
	var changes []Change
	for _, w := range writes {
		old, ok := cur[string(w.Key)]
		if !ok {
			old = c.state[string(w.Key)]
		}
		changes = append(changes, Change{Key: w.Key, Old: old, New: w.Value})
		cur[string(w.Key)] = w.Value
	}
	return c.seal(c.newBlock(), writes, changes)
}

func (c *testChain) newBlock() *ledger.Block {
	return &ledger.Block{Header: ledger.Header{
		ChainID: "test", Height: c.meta.Height + 1, Parent: c.meta.Head, Time: int64(c.meta.Height),
	}}
}

// seal completes b with its writes and commitment, moves the model state
// and the chain's meta past it, and returns its update.
func (c *testChain) seal(b *ledger.Block, writes []ledger.Write, changes []Change) *Update {
	b.Writes = writes
	com := Apply(c.meta.Commitment, changes)
	b.Header.Commitment = com.Digest()
	b.Seal()
	for _, ch := range changes {
		if len(ch.New) == 0 {
			delete(c.state, string(ch.Key))
		} else {
			c.state[string(ch.Key)] = ch.New
		}
	}
	u := &Update{Index: c.meta.Index + 1 + uint64(c.r.IntN(3)), Block: b, Commitment: com}
	c.meta = nextMeta(c.meta, u)
	return u
}

// transfer executes one transfer against s.
func (c *testChain) transfer(s *blockState, i int) (ledger.Tx, ledger.Receipt) {
	from, to := c.pick()
	bal, _ := ledger.DecodeUint64(s.get(token.BalanceKey(from)))
	amount := c.amount(bal, i)
	nonce, _ := ledger.DecodeUint64(s.get(ledger.NonceKey(from)))
	tx := ledger.Tx{
		ChainID: "test", Chain: ledger.Hot, Nonce: nonce, From: from, Contract: token.Address,
		Function: token.FuncTransfer, Args: token.EncodeTransfer(to, amount), GasLimit: token.TransferGas,
	}
	binary.BigEndian.PutUint64(tx.Sig[:], c.r.Uint64())
	r := token.Transfer(stateView{s}, from, tx.Args, tx.GasLimit)
	for _, w := range r.Writes {
		s.set(slices.Clone(w.Key), w.Value)
	}
	s.set(ledger.NonceKey(from), ledger.EncodeUint64(nonce+1))
	return tx, ledger.Receipt{TxID: tx.ID(), Status: r.Status, Error: r.Error, GasUsed: r.GasUsed, Path: ledger.PathNative}
}

// stateView lets token.Transfer read a block being built.
type stateView struct{ s *blockState }

func (v stateView) Get(k []byte) []byte { return v.s.get(k) }

func (c *testChain) pick() (from, to ledger.Address) {
	n := len(c.accounts)
	if c.sequential {
		i := c.next % (n / 2)
		c.next++
		return c.accounts[i], c.accounts[i+n/2]
	}
	return c.accounts[c.r.IntN(n)], c.accounts[c.r.IntN(n)]
}

// amount picks a transfer amount: sometimes the whole balance (the key is
// then deleted), sometimes more than it (failEvery), usually some of it.
func (c *testChain) amount(bal uint64, i int) uint64 {
	switch {
	case c.failEvery > 0 && i%c.failEvery == c.failEvery-1:
		return bal + 1
	case bal == 0:
		return 1
	case c.sequential:
		return 1
	case c.r.IntN(5) == 0:
		return bal
	}
	return 1 + c.r.Uint64N(bal)
}
