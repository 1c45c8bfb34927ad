package export

import (
	"fmt"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/ledger"
)

// check reports a chunk the sink cannot write as it is: one that does not
// start at Next, is not of the export's chain, or whose blocks and
// transactions are not where their heights and indexes say. The files
// key transactions by height and index, so these must hold.
func (s *Sink) check(c *Chunk) error {
	switch {
	case c.From != s.next:
		return fmt.Errorf("%w: chunk from height %d, want %d", ErrChunk, c.From, s.next)
	case c.To < c.From || c.To > s.o.To:
		return fmt.Errorf("%w: chunk of heights %d to %d in an export to %d", ErrChunk, c.From, c.To, s.o.To)
	}
	n := c.To - c.From + 1
	if s.o.Chain == ChainCold {
		if len(c.Hot) != 0 || uint64(len(c.Cold)) != n {
			return fmt.Errorf("%w: cold chunk %d to %d has %d cold and %d hot blocks", ErrChunk, c.From, c.To, len(c.Cold), len(c.Hot))
		}
		for i := range c.Cold {
			if err := s.checkCold(&c.Cold[i], c.From+uint64(i)); err != nil {
				return err
			}
		}
		return nil
	}
	if len(c.Cold) != 0 || uint64(len(c.Hot)) != n {
		return fmt.Errorf("%w: hot chunk %d to %d has %d hot and %d cold blocks", ErrChunk, c.From, c.To, len(c.Hot), len(c.Cold))
	}
	for i := range c.Hot {
		if err := s.checkHot(&c.Hot[i], c.From+uint64(i)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Sink) checkHot(b *api.BlockView, height uint64) error {
	if b.Height != height || b.ChainID != s.o.ChainID {
		return fmt.Errorf("%w: block %d of chain %q where block %d of chain %q belongs", ErrChunk, b.Height, b.ChainID, height, s.o.ChainID)
	}
	return s.checkTxs(b.Txs, height, ledger.Hot)
}

func (s *Sink) checkCold(cb *ColdBlock, height uint64) error {
	h := &cb.Block.Header
	if h.Height != height || h.ChainID != s.o.ChainID {
		return fmt.Errorf("%w: cold block %d of chain %q where block %d of chain %q belongs", ErrChunk, h.Height, h.ChainID, height, s.o.ChainID)
	}
	if len(cb.Block.Txs) != 0 && len(cb.Block.Txs) != len(cb.Txs) {
		return fmt.Errorf("%w: cold block %d has %d transactions and %d views of them", ErrChunk, height, len(cb.Block.Txs), len(cb.Txs))
	}
	for _, t := range cb.Block.Settlements {
		if t.Kind != ledger.KindSettle {
			return fmt.Errorf("%w: cold block %d: a settlement of kind %v", ErrChunk, height, t.Kind)
		}
	}
	for _, t := range cb.Block.Deposits {
		if t.Kind != ledger.KindDeposit {
			return fmt.Errorf("%w: cold block %d: a deposit of kind %v", ErrChunk, height, t.Kind)
		}
	}
	return s.checkTxs(cb.Txs, height, ledger.Cold)
}

func (s *Sink) checkTxs(txs []api.TxView, height uint64, chain ledger.Chain) error {
	if len(txs) > ledger.MaxBlockTxs {
		return fmt.Errorf("%w: block %d has %d transactions", ErrChunk, height, len(txs))
	}
	for i := range txs {
		v := &txs[i]
		if v.Block != height || v.Index != uint32(i) {
			return fmt.Errorf("%w: block %d's transaction %d says it is %d of block %d", ErrChunk, height, i, v.Index, v.Block)
		}
		if v.Chain != chain || v.ChainID != s.o.ChainID {
			return fmt.Errorf("%w: block %d's transaction %d is of chain %v %q, want %v %q", ErrChunk, height, i, v.Chain, v.ChainID, chain, s.o.ChainID)
		}
	}
	return nil
}
