package export

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/contracts/token"
	"github.com/dualchain/dualchain/ledger"
)

const testChainID = "export-test"

// fixture makes a synthetic chain, the same for the same seed: blocks
// built as the node builds them (ledger blocks, then api views), with a
// mix of transactions that exercises every column: token transfers (to
// and amount set), bridge calls, VM calls with traces (some empty, some
// with dropped frames), failures with awkward error texts, events, and
// function names and contracts that first appear as the chain goes on.
type fixture struct {
	rng *rand.Rand
}

func newFixture(seed uint64) *fixture { return &fixture{rng: rand.New(rand.NewPCG(seed, 7))} }

func (f *fixture) hash() (h ledger.Hash) {
	for i := range h {
		h[i] = byte(f.rng.Uint32())
	}
	return h
}

func (f *fixture) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(f.rng.Uint32())
	}
	return b
}

// awkward are names and texts CSV must quote.
var awkward = []string{"odd,name", `say "hi"`, "two\nlines", "", "ünïcode"}

// function picks a function name; new names keep appearing with height.
func (f *fixture) function(height uint64) string {
	switch f.rng.IntN(4) {
	case 0:
		return awkward[f.rng.IntN(len(awkward))]
	case 1:
		return fmt.Sprintf("f%d", height)
	}
	return []string{"inc", "get", "swap", "func[3]"}[f.rng.IntN(4)]
}

// contract picks a deployed contract; new ones keep appearing.
func (f *fixture) contract(height uint64) ledger.Address {
	return ledger.DeployedAddress(ledger.Address{1}, height/3+uint64(f.rng.IntN(2)))
}

// tx makes a transaction and its receipt at height.
func (f *fixture) tx(chain ledger.Chain, height uint64) (ledger.Tx, ledger.Receipt, *ledger.Trace) {
	tx := ledger.Tx{
		ChainID: testChainID, Chain: chain, Nonce: f.rng.Uint64N(1000), From: ledger.Address(f.hash()),
		GasLimit: 100_000 + f.rng.Uint64N(1000),
	}
	copy(tx.Sig[:], f.bytes(64))
	rc := ledger.Receipt{Status: ledger.Status(f.rng.IntN(7)), GasUsed: f.rng.Uint64N(100_000), Path: ledger.PathNative}
	var trace *ledger.Trace
	switch k := f.rng.IntN(10); {
	case k < 6: // a token transfer: the view has to and amount
		tx.Contract, tx.Function = token.Address, token.FuncTransfer
		tx.Args = token.EncodeTransfer(ledger.Address(f.hash()), 1+f.rng.Uint64N(1e9))
	case k < 7: // a bridge call: 8 bytes of amount, maybe all digits in hex
		tx.Contract, tx.Function = ledger.BridgeAddress, ledger.FuncSettle
		if chain == ledger.Cold {
			tx.Function = ledger.FuncDeposit
		}
		tx.Args = ledger.EncodeAmount(100)
	default: // a VM call
		tx.Contract, tx.Function, tx.Args = f.contract(height), f.function(height), f.bytes(f.rng.IntN(12))
		rc.Path, trace = ledger.PathVM, f.trace(height)
	}
	if rc.Status != ledger.StatusOK {
		rc.Error = awkward[f.rng.IntN(len(awkward))] + ", at " + fmt.Sprint(height)
	}
	for i := range f.rng.IntN(3) {
		rc.Events = append(rc.Events, ledger.Event{Name: []string{"transfer", "log", "odd,name"}[i], Data: f.bytes(f.rng.IntN(20))})
	}
	if f.rng.IntN(2) == 0 {
		rc.Result = f.bytes(1 + f.rng.IntN(8))
	}
	rc.TxID = tx.ID()
	return tx, rc, trace
}

// trace makes a VM trace: none, empty, a few frames, or frames with some
// dropped.
func (f *fixture) trace(height uint64) *ledger.Trace {
	switch f.rng.IntN(6) {
	case 0:
		return nil
	case 1:
		return &ledger.Trace{Frames: []ledger.Frame{}}
	}
	t := &ledger.Trace{}
	for i := range 1 + f.rng.IntN(5) {
		t.Frames = append(t.Frames, ledger.Frame{
			Depth: uint32(min(i, 2)), Function: f.function(height), MemBefore: 65536 * f.rng.Uint64N(4),
			MemAfter: 65536 * f.rng.Uint64N(8), GrowPages: f.rng.Uint32N(3), GrowGas: f.rng.Uint64N(500),
			Gas: f.rng.Uint64N(50_000), Loads: f.rng.Uint64N(1000), Stores: f.rng.Uint64N(1000),
		})
	}
	if f.rng.IntN(3) == 0 {
		t.Dropped = 1 + f.rng.Uint64N(5000)
	}
	return t
}

// hotBlock makes hot block height with up to maxTxs transactions.
func (f *fixture) hotBlock(height uint64, maxTxs int) api.BlockView {
	b := ledger.Block{Header: ledger.Header{
		ChainID: testChainID, Height: height, Parent: f.hash(), Time: 1_700_000_000_000_000_000 + int64(height)*1_000_003,
		Commitment: f.hash(),
	}}
	var traces []*ledger.Trace
	for range f.rng.IntN(maxTxs + 1) {
		tx, rc, tr := f.tx(ledger.Hot, height)
		b.Txs, b.Receipts, traces = append(b.Txs, tx), append(b.Receipts, rc), append(traces, tr)
	}
	b.Seal()
	v := api.NewBlockView(&b, false)
	for i, tr := range traces {
		v.Txs[i].Trace = tr
	}
	return v
}

// coldBlock makes cold block height with up to maxTxs transactions and
// a few settlements, deposits and credited ids.
func (f *fixture) coldBlock(height uint64, maxTxs int) ColdBlock {
	b := ledger.ColdBlock{Header: ledger.ColdHeader{
		ChainID: testChainID, Height: height, Parent: f.hash(), Time: 1_700_000_000_000_000_000 + int64(height),
		Checkpoint: ledger.Checkpoint{HotHeight: height * 10, HotHash: f.hash(), Commitment: f.hash()},
		StateRoot:  f.hash(),
	}}
	var traces []*ledger.Trace
	for range f.rng.IntN(maxTxs + 1) {
		tx, rc, tr := f.tx(ledger.Cold, height)
		b.Txs, b.Receipts, traces = append(b.Txs, tx), append(b.Receipts, rc), append(traces, tr)
	}
	for range f.rng.IntN(3) {
		b.Settlements = append(b.Settlements, ledger.BridgeTransfer{ID: f.hash(), Kind: ledger.KindSettle, Owner: ledger.Address(f.hash()), Amount: f.rng.Uint64()})
	}
	for range f.rng.IntN(3) {
		b.Deposits = append(b.Deposits, ledger.BridgeTransfer{ID: f.hash(), Kind: ledger.KindDeposit, Owner: ledger.Address(f.hash()), Amount: f.rng.Uint64N(1e6)})
	}
	for range f.rng.IntN(3) {
		b.Credited = append(b.Credited, f.hash())
	}
	b.Seal()
	cb := ColdBlock{Block: b}
	for i := range b.Txs {
		cb.Txs = append(cb.Txs, api.NewTxView(&ledger.TxRecord{Tx: b.Txs[i], Receipt: b.Receipts[i], Height: height, Index: uint32(i)}))
		cb.Txs[i].Trace = traces[i]
	}
	return cb
}

// testChain is a synthetic chain of heights 1 to n.
type testChain struct {
	chain string
	hot   []api.BlockView
	cold  []ColdBlock
}

func newTestChain(chain string, n uint64, maxTxs int, seed uint64) *testChain {
	f := newFixture(seed)
	c := &testChain{chain: chain}
	for h := uint64(1); h <= n; h++ {
		if chain == ChainCold {
			c.cold = append(c.cold, f.coldBlock(h, maxTxs))
		} else {
			c.hot = append(c.hot, f.hotBlock(h, maxTxs))
		}
	}
	return c
}

// chunk is the fetcher's chunk of heights from to to.
func (c *testChain) chunk(from, to uint64) *Chunk {
	ch := &Chunk{From: from, To: to}
	if c.chain == ChainCold {
		ch.Cold = c.cold[from-1 : to]
	} else {
		ch.Hot = c.hot[from-1 : to]
	}
	return ch
}

// chunks cuts heights from to to into chunks of size blocks, as the
// fetcher does.
func (c *testChain) chunks(from, to, size uint64) []*Chunk {
	var out []*Chunk
	for h := from; h <= to; h += size {
		out = append(out, c.chunk(h, min(h+size-1, to)))
	}
	return out
}

// emptyToNil sets every empty slice in v to nil, so that values that the
// API's JSON does not tell apart compare equal.
func emptyToNil(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			emptyToNil(v.Elem())
		}
	case reflect.Slice:
		if v.Len() == 0 && v.CanSet() {
			v.SetZero()
		}
		for i := range v.Len() {
			emptyToNil(v.Index(i))
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				emptyToNil(v.Field(i))
			}
		}
	}
}

// normalized is a deep copy of a chunk's blocks with empty slices nil.
func normalized(c *Chunk) *Chunk {
	out := &Chunk{From: c.From, To: c.To}
	for _, b := range c.Hot {
		b.Writes = nil // not exported
		b.Txs = append([]api.TxView(nil), b.Txs...)
		out.Hot = append(out.Hot, b)
	}
	for _, b := range c.Cold {
		b.Txs = append([]api.TxView(nil), b.Txs...)
		out.Cold = append(out.Cold, b)
	}
	emptyToNil(reflect.ValueOf(out).Elem())
	return out
}
