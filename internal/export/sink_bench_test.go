package export

import (
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkSinkWrite measures the sink alone: a hot chain of 100 blocks
// of about 50 transactions, written in chunks of 10 blocks, in each
// format; it reports transactions per second and bytes per 1,000
// transactions.
func BenchmarkSinkWrite(b *testing.B) {
	tc := newTestChain(ChainHot, 100, 100, 10)
	chunks := tc.chunks(1, 100, 10)
	for _, f := range formats {
		b.Run(f.format+"/"+f.compress, func(b *testing.B) {
			var m Manifest
			dir := b.TempDir()
			for i := 0; b.Loop(); i++ {
				o := testOptions(filepath.Join(dir, strconv.Itoa(i)), ChainHot, f.format, f.compress, 100)
				o.ChunkBlocks, o.PartTxs = 10, DefaultPartTxs
				s, err := OpenSink(o)
				if err != nil {
					b.Fatal(err)
				}
				for _, c := range chunks {
					if err := s.Write(c); err != nil {
						b.Fatal(err)
					}
				}
				s.Close()
				m = s.Manifest()
			}
			b.ReportMetric(float64(m.Txs)*float64(b.N)/b.Elapsed().Seconds(), "txs/s")
			b.ReportMetric(m.BytesPer1000Txs(), "B/1000txs")
		})
	}
}
