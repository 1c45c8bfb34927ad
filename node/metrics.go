package node

import (
	"time"

	"github.com/dualchain/dualchain/ledger"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the node's Prometheus series.
type metrics struct {
	height    prometheus.Gauge
	txs       prometheus.Counter
	failed    prometheus.Counter
	blockTime prometheus.Histogram
	blockTxs  prometheus.Histogram

	coldHeight  prometheus.Gauge
	coldTxs     prometheus.Counter
	settlements prometheus.Counter
	deposits    prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, pool *mempool, d *dispatcher, sm *stateMachine, fill *backfiller) *metrics {
	m := &metrics{
		height: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dualchain_hot_height", Help: "Height of the applied hot head."}),
		txs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dualchain_hot_txs_committed_total", Help: "Transactions committed in hot blocks."}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dualchain_hot_txs_failed_total", Help: "Committed transactions whose receipt is not ok."}),
		blockTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "dualchain_hot_block_seconds", Help: "On the leader, time from cutting a hot block to applying it once committed.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		blockTxs: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "dualchain_hot_block_txs", Help: "Transactions per hot block.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9)}),
		coldHeight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dualchain_cold_height", Help: "Height of the applied cold head."}),
		coldTxs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dualchain_cold_txs_committed_total", Help: "Transactions committed in cold blocks."}),
		settlements: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dualchain_bridge_settlements_total", Help: "Settles credited to cold accounts by checkpoints."}),
		deposits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "dualchain_bridge_deposits_total", Help: "Deposits debited from cold accounts."}),
	}
	mempoolSize := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "dualchain_mempool_txs", Help: "Transactions waiting in the mempool."},
		func() float64 { return float64(pool.len()) })
	mismatches := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "dualchain_exec_mismatches_total", Help: "Calls whose native and VM results differed (--exec both); each is a bug."},
		func() float64 { return float64(d.mismatches.Load()) })
	restores := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "dualchain_snapshot_restores_total", Help: "Hot state restored into the store from the cold mirror (a snapshot restored, or a store rebuilt)."},
		func() float64 { return float64(sm.restores.Load()) })
	rebuilds := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "dualchain_store_rebuilds_total", Help: "Times the store was found wiped or rolled back and rebuilt from the cold mirror and the writes since."},
		func() float64 { return float64(sm.rebuilds.Load()) })
	backfilled := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "dualchain_archive_backfilled_blocks_total", Help: "Hot blocks below a restored snapshot fetched from peers, checked and archived."},
		func() float64 { return float64(fill.filled.Load()) })
	backfillPending := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "dualchain_archive_backfill_pending", Help: "Hot blocks the archive still lacks below a restored snapshot (0: it holds the whole history)."},
		fill.pending)
	reg.MustRegister(m.height, m.txs, m.failed, m.blockTime, m.blockTxs, mempoolSize, mismatches, restores, rebuilds,
		m.coldHeight, m.coldTxs, m.settlements, m.deposits, backfilled, backfillPending)
	return m
}

// observeApplied counts a block applied to the store, on every node.
func (m *metrics) observeApplied(b *ledger.Block) {
	m.height.Set(float64(b.Header.Height))
	m.txs.Add(float64(len(b.Txs)))
	for _, r := range b.Receipts {
		if r.Status != ledger.StatusOK {
			m.failed.Inc()
		}
	}
}

// observeCold counts a cold block applied, on every node.
func (m *metrics) observeCold(b *ledger.ColdBlock) {
	m.coldHeight.Set(float64(b.Header.Height))
	m.coldTxs.Add(float64(len(b.Txs)))
	m.settlements.Add(float64(len(b.Settlements)))
	m.deposits.Add(float64(len(b.Deposits)))
}

// observeBlock times a block the leader produced.
func (m *metrics) observeBlock(b *ledger.Block, d time.Duration) {
	m.blockTime.Observe(d.Seconds())
	m.blockTxs.Observe(float64(len(b.Txs)))
}
