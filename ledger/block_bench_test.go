package ledger_test

import (
	"testing"

	"github.com/dualchain/dualchain/ledger"
)

// Costs of a hot block of 1,000 transactions the leader pays once per
// block: its result root (Seal), its encoding, its header's hash.
//
//	go test ./ledger -run '^$' -bench '^Benchmark(BlockSeal|BlockEncode|BlockDecode|HeaderHash)$' -benchmem -count 5

func BenchmarkBlockSeal(b *testing.B) {
	blk := testBlock(1000)
	for b.Loop() {
		blk.Seal()
	}
}

func BenchmarkBlockEncode(b *testing.B) {
	blk := testBlock(1000)
	for b.Loop() {
		_ = blk.Encode()
	}
}

func BenchmarkHeaderHash(b *testing.B) {
	h := testBlock(0).Header
	for b.Loop() {
		_ = h.Hash()
	}
}

// BenchmarkBlockDecode measures decoding a block of 1,000 transactions,
// as every follower does for every block it applies.
func BenchmarkBlockDecode(b *testing.B) {
	enc := testBlock(1000).Encode()
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if _, err := ledger.DecodeBlock(enc); err != nil {
			b.Fatal(err)
		}
	}
}
