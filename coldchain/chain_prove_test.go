package coldchain

import (
	"errors"
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

// TestProveAtOlderBlocks proves an account against each recent block's
// root: the account as it was then, verified against that block's header;
// blocks older than the roots kept are not found.
func TestProveAtOlderBlocks(t *testing.T) {
	cfg := TestConfig()
	cfg.KeepVersions = 3
	c, err := OpenChain(cfg, "c")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	owner := ledger.Address{7}
	var heights []uint64
	for i := uint64(1); i <= 5; i++ {
		id := ledger.Hash{byte(i)}
		blk, err := c.Apply(BlockInput{Index: i * 10, Settlements: []Settlement{{
			Transfer: ledger.BridgeTransfer{ID: id, Kind: ledger.KindSettle, Owner: owner, Amount: 100},
		}}})
		if err != nil {
			t.Fatal(err)
		}
		heights = append(heights, blk.Header.Height)
	}
	for i, h := range heights {
		if i < len(heights)-cfg.KeepVersions {
			if _, _, err := c.Prove(owner, h); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Prove at %d, older than the %d kept = %v, want ErrNotFound", h, cfg.KeepVersions, err)
			}
			continue
		}
		p, head, err := c.Prove(owner, h)
		if err != nil {
			t.Fatalf("Prove at %d: %v", h, err)
		}
		blk, err := c.Block(h)
		if err != nil {
			t.Fatal(err)
		}
		if head.Root != blk.Header.StateRoot || head.Height != h {
			t.Fatalf("Prove at %d returned head %+v, block root %s", h, head, blk.Header.StateRoot)
		}
		if err := p.Verify(blk.Header.StateRoot); err != nil || p.Account == nil || p.Account.Balance != uint64(100*(i+1)) {
			t.Fatalf("proof at %d: %v, account %+v, want balance %d", h, err, p.Account, 100*(i+1))
		}
	}
	if _, _, err := c.Prove(owner, 99); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Prove at a height not yet made = %v, want ErrNotFound", err)
	}
}
