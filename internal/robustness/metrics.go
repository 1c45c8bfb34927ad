package robustness

// Metrics of a node that show a fault took effect.
const (
	metricRebuilds = "dualchain_store_rebuilds_total"    // the store was found wiped and rebuilt
	metricRestores = "dualchain_snapshot_restores_total" // a Raft snapshot was restored
)
