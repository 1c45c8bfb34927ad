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
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/hotchain"
	"github.com/dualchain/dualchain/vm"
	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"
)

// Version is the node's release, reported by /v1/status.
var Version = "0.1.0-dev"

// Node is one staking node: store, block log, mempool, block producer and
// HTTP API.
type Node struct {
	cfg     Config
	logger  *slog.Logger
	clock   clockwork.Clock
	chainID string

	store    hotchain.Store
	log      blockLog
	chain    *chain
	pool     *mempool
	tracker  *tracker
	metrics  *metrics
	vm       *vm.VM
	dispatch *dispatcher
	lock     *os.File      // the data dir's LOCK, held while the node is open
	wiped    chan struct{} // a reader saw the store wiped: the producer rebuilds it

	listener net.Listener
	server   *http.Server
}

// New opens (or, with Dev, creates) the node's data dir, store and block
// log, applies committed log entries the store lacks, and binds the API's
// listener. Run starts the node.
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
	n := &Node{
		cfg: cfg, logger: cfg.Logger.With("component", "node"), clock: clockwork.NewRealClock(),
		chainID: gen.ChainID, pool: newMempool(cfg.MempoolSize, cfg.NonceWindow), tracker: newTracker(),
		wiped: make(chan struct{}, 1), lock: lock,
	}
	if err := n.openVM(ctx); err != nil {
		lock.Close()
		return nil, err
	}
	if err := n.openStorage(ctx, genesisState(gen)); err != nil {
		n.closeVM()
		lock.Close()
		return nil, err
	}
	if err := n.listen(); err != nil {
		n.closeStorage()
		return nil, err
	}
	return n, nil
}

// openVM starts the contract VM, its compiled code cached in the data dir.
func (n *Node) openVM(ctx context.Context) error {
	cfg := n.cfg.VM
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

func (n *Node) openStorage(ctx context.Context, gen *hotchain.Genesis) error {
	store, err := openStore(n.cfg)
	if err != nil {
		return err
	}
	n.store = store
	if n.log, err = openWALLog(filepath.Join(n.cfg.DataDir, logDir)); err != nil {
		store.Close()
		return err
	}
	n.chain = &chain{store: store, log: n.log, gen: gen, logger: n.logger, clock: n.clock}
	if err := n.chain.open(ctx); err != nil {
		n.closeStorage()
		return err
	}
	h := n.chain.Head()
	n.logger.Info("node ready", "chain", n.chainID, "store", store.Kind(), "height", h.Height, "index", h.Index)
	return nil
}

func openStore(cfg Config) (hotchain.Store, error) {
	if cfg.store != nil {
		return cfg.store, nil
	}
	if cfg.Store == "redis" {
		s, err := hotchain.OpenRedis(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("node: redis store %s: %w", cfg.RedisURL, err)
		}
		return s, nil
	}
	return hotchain.NewMemoryStore(), nil
}

func (n *Node) listen() error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	n.metrics = newMetrics(reg, n.pool, n.dispatch)
	acfg := api.DefaultConfig()
	acfg.Logger = n.cfg.Logger.With("component", "api")
	acfg.Registry = reg
	ln, err := net.Listen("tcp", n.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("node: listen on %s: %w", n.cfg.HTTPAddr, err)
	}
	n.listener = ln
	n.server = &http.Server{
		Handler:           api.New(backend{n}, acfg).Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second, // a body trickled in slowly holds memory
		IdleTimeout:       2 * time.Minute,
	}
	return nil
}

// Run produces blocks and serves the API until ctx ends or a component
// fails; it closes the node's resources before it returns.
func (n *Node) Run(ctx context.Context) error {
	defer n.closeStorage()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return n.produce(ctx) })
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
		return n.server.Shutdown(shutdown)
	})
	n.logger.Info("serving API", "addr", n.listener.Addr().String())
	err := g.Wait()
	h := n.chain.Head()
	n.logger.Info("node stopped", "height", h.Height, "index", h.Index, "err", err)
	return err
}

func (n *Node) closeStorage() {
	n.closeVM()
	if n.log != nil {
		n.log.Close()
	}
	if n.store != nil {
		n.store.Close()
	}
	if n.lock != nil {
		n.lock.Close() // releases the data dir for another node
		n.lock = nil
	}
}

// closeVM releases the VM; a second call does nothing.
func (n *Node) closeVM() {
	if n.vm != nil {
		n.vm.Close(context.Background())
		n.vm = nil
	}
}

// Addr is the address the API listens on (useful with port 0).
func (n *Node) Addr() net.Addr { return n.listener.Addr() }

// Backend is the node as the API sees it.
func (n *Node) Backend() api.Backend { return backend{n} }
