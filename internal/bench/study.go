package bench

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/dualchain/dualchain/internal/localcluster"
)

// The study's figures, in transfers per second: a WebAssembly token
// contract in a VM against an on-disk store, the same transfer run
// natively, and native against Redis (ARCHITECTURE §1).
const (
	StudyVMDisk       = 10.24
	StudyNativeDisk   = 724.65
	StudyNativeRedis  = 4820
	studyRedisCluster = StudyNativeRedis // the 3-node row is held to the study's best, which had one node
)

// studyRow is one configuration of the study's table.
type studyRow struct {
	name     string
	nodes    int
	store    string
	workload string // Native or VM; the nodes run --exec of the same name
	study    float64
}

// studyRows are the study's three rows on one node, then what it did not
// have: a replicated cluster and the VM on Redis.
var studyRows = []studyRow{
	{"VM + disk state", 1, localcluster.StorePebble, VM, StudyVMDisk},
	{"native + disk state", 1, localcluster.StorePebble, Native, StudyNativeDisk},
	{"native + Redis state", 1, localcluster.StoreRedis, Native, StudyNativeRedis},
	{"native + Redis, 3-node cluster", 3, localcluster.StoreRedis, Native, studyRedisCluster},
	{"VM + Redis state", 1, localcluster.StoreRedis, VM, 0},
}

// StudyOptions says how RunStudy runs each row.
type StudyOptions struct {
	Binary string    // the dualchain binary the clusters run
	Config Config    // the load of every row (its Workload is the row's)
	Live   io.Writer // progress; nil for none
	// Redis is the store of the Redis rows: localcluster.StoreRedis, or
	// StoreMemory where redis-server is not installed (the rows say so).
	Redis string
	// OnRow, when set, is called with each row as it is measured.
	OnRow func(StudyRow)
}

// RunStudy reproduces the study's table: for each row it starts a local
// cluster, runs cfg's load of the row's workload on it and stops it. The
// verification limit is measured once, first, while nothing else runs.
func RunStudy(ctx context.Context, o StudyOptions) (Study, error) {
	start := time.Now()
	say := newLiveLine(o.Live)
	say.printf("measuring this machine's signature-verification limit (%s)", VerifyTime)
	s := Study{VerifyLimit: VerifyLimit(VerifyTime)}
	say.printf("verification limit: %s signatures/s on every core", countf(s.VerifyLimit))
	for i, row := range studyRows {
		store := row.store
		if store == localcluster.StoreRedis && o.Redis != "" {
			store = o.Redis
		}
		say.printf("\nrow %d of %d: %s (%d node(s), %s store, --exec %s)", i+1, len(studyRows), row.name, row.nodes, store, row.workload)
		cfg := o.Config
		cfg.Workload = row.workload
		res, err := runOnNewCluster(ctx, ClusterOptions{Binary: o.Binary, Nodes: row.nodes, Store: store, Exec: row.workload}, cfg,
			Options{Live: o.Live, VerifyLimit: s.VerifyLimit})
		if err != nil {
			return s, fmt.Errorf("%s: %w", row.name, err)
		}
		sr := StudyRow{Name: row.name, Study: row.study, Result: res}
		if row.study > 0 {
			sr.Ratio = res.PerSec / row.study
		}
		s.Rows = append(s.Rows, sr)
		if o.OnRow != nil {
			o.OnRow(sr)
		}
	}
	s.Took = time.Since(start)
	return s, nil
}

// runOnNewCluster starts a cluster, runs cfg on it and stops it.
func runOnNewCluster(ctx context.Context, co ClusterOptions, cfg Config, opts Options) (Result, error) {
	c, t, err := StartCluster(ctx, co)
	if err != nil {
		return Result{}, fmt.Errorf("starting the cluster: %w", err)
	}
	res, err := Run(ctx, t, cfg, opts)
	if stopErr := c.Stop(context.WithoutCancel(ctx)); err == nil && stopErr != nil {
		err = fmt.Errorf("stopping the cluster: %w", stopErr)
	}
	return res, err
}
