package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/coldchain"
	"github.com/dualchain/dualchain/consensus"
	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/vm"
	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"
)

// Version is the node's release, reported by /v1/status.
var Version = "0.1.0-dev"

// storeCheckEvery is how often a node looks whether its store lost its
// state while nothing was applied.
const storeCheckEvery = time.Second

// Node is one staking node: store, Raft replica, mempool, block producer
// (while it leads) and HTTP API.
type Node struct {
	cfg     Config
	logger  *slog.Logger
	clock   clockwork.Clock
	chainID string
	supply  uint64 // the genesis supply

	store    hotchain.Store
	archive  *hotchain.Archive
	fill     *backfiller // fills the archive's gap below a restored snapshot
	cold     *coldSide
	chain    *chain
	sm       *stateMachine
	dir      *directory
	replica  *consensus.Replica
	pool     *mempool
	pipe     pipeline
	tracker  *tracker
	heights  *heightWatch
	metrics  *metrics
	vm       *vm.VM
	dispatch *dispatcher
	lock     *os.File      // the data dir's LOCK, held while the node is open
	leading  atomic.Bool   // this node leads and has applied the log before its term (Barrier)
	wiped    chan struct{} // a reader saw the store wiped: rebuild it
	fatal    chan error    // the state machine cannot go on: the node stops

	life     context.Context // ends when the node closes
	stopLife context.CancelFunc

	listener net.Listener
	server   *http.Server
	url      string // this node's API, as other nodes reach it
}

// New opens (or, with Dev, creates) the node's data dir, store and Raft
// replica, binds the API's listener, and starts a new cluster if this node
// has no Raft state and no cluster to join. Run starts the node.
func New(ctx context.Context, cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	lock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	gen, err := loadGenesis(cfg)
	if err != nil {
		lock.Close()
		return nil, err
	}
	life, stopLife := context.WithCancel(context.Background())
	n := &Node{
		cfg: cfg, logger: cfg.Logger.With("component", "node", "node_id", cfg.NodeID), clock: failpointClock(clockwork.NewRealClock()),
		chainID: gen.ChainID, supply: gen.Supply(), pool: newMempool(cfg.MempoolSize, cfg.NonceWindow), tracker: newTracker(),
		heights: newHeightWatch(), dir: newDirectory(),
		wiped: make(chan struct{}, 1), fatal: make(chan error, 1), lock: lock, life: life, stopLife: stopLife,
	}
	if err := n.open(ctx, genesisState(gen)); err != nil {
		n.close()
		return nil, err
	}
	return n, nil
}

func (n *Node) open(ctx context.Context, gen *hotchain.Genesis) error {
	if err := n.openVM(ctx); err != nil {
		return err
	}
	if err := n.openStore(ctx, gen); err != nil {
		return err
	}
	if err := n.listen(); err != nil {
		return err
	}
	return n.openReplica()
}

// openVM starts the contract VM, its compiled code cached in the data dir.
func (n *Node) openVM(ctx context.Context) error {
	cfg := n.cfg.VM
	cfg.Trace = cfg.Trace || n.cfg.VMTrace
	if cfg.CacheDir == "" {
		cfg.CacheDir = filepath.Join(n.cfg.DataDir, "vmcache")
	}
	v, err := vm.New(ctx, cfg)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	n.vm = v
	n.dispatch = newDispatcher(v, n.cfg.Exec, n.logger.With("component", "dispatch"))
	return nil
}

func (n *Node) openStore(ctx context.Context, gen *hotchain.Genesis) error {
	store, err := openStore(n.cfg, n.logger)
	if err != nil {
		return err
	}
	n.store = store
	n.chain = &chain{store: store, gen: gen}
	if err := n.chain.open(ctx); err != nil {
		return err
	}
	if n.archive, err = hotchain.OpenArchive(filepath.Join(n.cfg.DataDir, archiveDir), n.logger); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	ccfg := coldchain.DefaultConfig(filepath.Join(n.cfg.DataDir, coldDir))
	ccfg.CacheSize, ccfg.Logger, ccfg.FS = n.cfg.ColdCacheBytes, n.logger, failpointFS(nil)
	cold, err := coldchain.OpenChain(ccfg, n.chainID)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	n.cold = &coldSide{chain: cold, pool: newColdPool(n.cfg.ColdPoolSize, n.cfg.NonceWindow), notify: make(chan struct{}, 1)}
	n.sm = &stateMachine{
		chain: n.chain, cold: cold, archive: n.archive, dir: n.dir, logger: n.logger, clock: n.clock, ctx: n.life,
		applied: n.blockApplied, rebuilt: n.pool.reset, fatal: n.fail, local: n.pipe.decoded, coldApplied: n.coldApplied,
		crashAt: n.cfg.crashAt,
	}
	n.fill = newBackfiller(n)
	n.sm.resetDirty(genesisDirty(gen))
	if n.sm.logHead, err = hotchain.GenesisMeta(gen); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	return nil
}

// hotstoreDir holds the Pebble store, with Store "pebble".
const hotstoreDir = "hotstore"

func openStore(cfg Config, logger *slog.Logger) (hotchain.Store, error) {
	if cfg.store != nil {
		return cfg.store, nil
	}
	switch cfg.Store {
	case "redis":
		s, err := hotchain.OpenRedis(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("node: redis store %s: %w", cfg.RedisURL, err)
		}
		return s, nil
	case "pebble":
		s, err := hotchain.OpenPebble(filepath.Join(cfg.DataDir, hotstoreDir), nil, logger)
		if err != nil {
			return nil, fmt.Errorf("node: %w", err)
		}
		return s, nil
	}
	return hotchain.NewMemoryStore(), nil
}

func (n *Node) listen() error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	n.metrics = newMetrics(reg, n.pool, n.dispatch, n.sm, n.fill)
	acfg := api.DefaultConfig()
	acfg.Logger = n.cfg.Logger.With("component", "api", "node_id", n.cfg.NodeID)
	acfg.Registry = reg
	acfg.AdminToken = n.cfg.AdminToken
	acfg.Pprof = n.cfg.Pprof
	acfg.DebugDelay = n.cfg.DebugAPIDelay
	if acfg.DebugDelay > 0 {
		n.logger.Warn("debug API delay: every /v1/ request waits before it is served (for measuring clients against a slow API, never in production)",
			"delay", acfg.DebugDelay)
	}
	ln, err := net.Listen("tcp", n.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("node: listen on %s: %w", n.cfg.HTTPAddr, err)
	}
	n.listener = api.LimitListener(ln, n.cfg.MaxConns) // more clients wait to be accepted
	n.url = n.cfg.AdvertiseURL
	if n.url == "" {
		n.url = "http://" + ln.Addr().String()
	}
	srv := api.New(backend{n}, acfg)
	n.server = &http.Server{
		Handler:           failpointAPI(srv.Handler()),
		ConnState:         srv.ConnState,       // the API's connection gauges
		ReadHeaderTimeout: n.cfg.HeaderTimeout, // a client trickling its headers is cut off
		ReadTimeout:       30 * time.Second,    // a body trickled in slowly holds memory
		IdleTimeout:       2 * time.Minute,
	}
	return nil
}

// Run serves the API, produces blocks while this node leads, and keeps the
// store in step with the log, until ctx ends or a component fails. It
// closes the node's resources before it returns.
func (n *Node) Run(ctx context.Context) error {
	defer n.close()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return n.produce(ctx) })
	g.Go(func() error { return n.checkpoint(ctx) })
	g.Go(func() error { return n.watchStore(ctx) })
	g.Go(func() error { return n.fill.run(ctx) })
	g.Go(func() error {
		select {
		case err := <-n.fatal:
			return err
		case err := <-n.replica.StoreFailed(): // fail-stop: a restart reads the log from disk
			return err
		case <-ctx.Done():
			return nil
		}
	})
	if n.cfg.Join != "" {
		g.Go(func() error { return n.join(ctx) })
	}
	g.Go(func() error {
		if err := n.server.Serve(n.listener); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("node: serve API: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := n.server.Shutdown(shutdown); err != nil {
			// Requests still open after 5 s (a client waiting for a commit
			// that will not come) are cut: stopping is not a failure.
			n.logger.Warn("API requests still open at shutdown; closing them", "err", err)
			n.server.Close()
		}
		return nil
	})
	n.logger.Info("serving API", "addr", n.listener.Addr().String(), "raft", n.replica.Addr())
	err := g.Wait()
	h := n.chain.Head()
	n.logger.Info("node stopped", "height", h.Height, "index", h.Index, "err", err)
	return err
}

// fail stops the node: the state machine met an error it cannot get past.
func (n *Node) fail(err error) {
	select {
	case n.fatal <- err:
	default:
	}
}

// watchStore rebuilds the store when a reader saw it wiped, and checks it
// every storeCheckEvery, so a Redis that lost its data is noticed and
// rebuilt even when no block arrives.
func (n *Node) watchStore(ctx context.Context) error {
	tick := n.clock.NewTicker(storeCheckEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.Chan():
		case <-n.wiped:
		}
		if err := n.sm.check(); err != nil && ctx.Err() == nil {
			n.logger.Error("store check failed; will retry", "err", err)
		}
	}
}

// close releases everything New opened, in reverse order; it may be called
// on a partly opened node.
func (n *Node) close() {
	n.stopLife() // stops the state machine's retries so Raft can shut down
	if n.replica != nil {
		if err := n.replica.Close(); err != nil && !errors.Is(err, consensus.ErrClosed) {
			n.logger.Error("close raft", "err", err)
		}
	}
	if n.listener != nil {
		n.listener.Close()
	}
	if n.vm != nil {
		n.vm.Close(context.Background())
		n.vm = nil
	}
	if n.archive != nil {
		if err := n.archive.Close(); err != nil {
			n.logger.Error("close archive", "err", err)
		}
	}
	if n.cold != nil {
		if err := n.cold.chain.Close(); err != nil {
			n.logger.Error("close cold chain", "err", err)
		}
	}
	if n.store != nil {
		n.store.Close()
	}
	if n.lock != nil {
		n.lock.Close() // releases the data dir for another node
		n.lock = nil
	}
}

// Addr is the address the API listens on (useful with port 0).
func (n *Node) Addr() net.Addr { return n.listener.Addr() }

// RaftAddr is the address the Raft transport listens on.
func (n *Node) RaftAddr() string { return n.replica.Addr() }

// URL is the base URL of the node's API, as other nodes reach it.
func (n *Node) URL() string { return n.url }

// Backend is the node as the API sees it.
func (n *Node) Backend() api.Backend { return backend{n} }
