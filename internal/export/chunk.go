package export

import (
	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/ledger"
)

// Chunk is what the fetcher hands the sink: every block of one range of
// heights, From to To inclusive, with each transaction as the API shows it
// (api.TxView, Trace set where the node had a trace). Chunks reach the
// sink in height order, each exactly once, so the files it writes depend
// only on the chain and the options, not on how the fetching went.
type Chunk struct {
	From, To uint64
	Hot      []api.BlockView // --chain hot: the blocks in height order
	Cold     []ColdBlock     // --chain cold: the blocks in height order
}

// ColdBlock is a cold block with its transactions as the API shows them:
// built from the block's own Txs and Receipts, or fetched one by one with
// --per-tx.
type ColdBlock struct {
	Block ledger.ColdBlock
	Txs   []api.TxView
}

// Txs counts the chunk's transactions.
func (c *Chunk) Txs() int {
	n := 0
	for i := range c.Hot {
		n += len(c.Hot[i].Txs)
	}
	for i := range c.Cold {
		n += len(c.Cold[i].Txs)
	}
	return n
}
