package loadgen

import (
	"testing"
	"time"

	"github.com/dualchain/dualchain/client"
	"github.com/dualchain/dualchain/ledger"
)

// HalfLoad is half the cluster's throughput target of 25,000 transfers/s:
// the rate its commit latency is judged at.
const HalfLoad = 12_500

// Mode is one way of loading a node in a benchmark.
type Mode struct {
	Name  string
	Conns int // keep-alive connections the client needs
	Send  func(c *client.Client, txs []*ledger.Tx) ([]time.Duration, error)
}

// Modes are the cluster benchmarks' loads: "saturated" keeps 8 batches of
// 1,000 in flight; "half-load" sends batches of 50 at HalfLoad transfers/s
// however fast they commit.
var Modes = []Mode{
	{Name: "saturated", Conns: 16, Send: func(c *client.Client, txs []*ledger.Tx) ([]time.Duration, error) {
		return ClosedLoop(c, txs, 1000, 8)
	}},
	{Name: "half-load", Conns: 64, Send: func(c *client.Client, txs []*ledger.Tx) ([]time.Duration, error) {
		return OpenLoop(c, txs, 50, HalfLoad)
	}},
}

// Bench runs m's load of txs against the node at url with b's timer on,
// and reports committed transfers/s and the p50 and p99 of a batch's time
// from submission to commit.
func Bench(b *testing.B, m Mode, url string, txs []*ledger.Tx) {
	b.Helper()
	c := client.New(url, client.WithMaxConns(m.Conns))
	b.ResetTimer()
	start := time.Now()
	lat, err := m.Send(c, txs)
	elapsed := time.Since(start)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(txs))/elapsed.Seconds(), "transfers/s")
	b.ReportMetric(float64(Percentile(lat, 0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(Percentile(lat, 0.99).Microseconds())/1000, "p99-ms")
}
