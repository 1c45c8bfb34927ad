package consensus

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/hashicorp/raft"
)

// ErrBadConfig reports a Config that Validate rejects.
var ErrBadConfig = errors.New("consensus: bad config")

// StoreKind names the on-disk log and stable store.
type StoreKind string

const (
	// StoreWAL is hashicorp/raft-wal: append-only segment files, about 1.5
	// times bolt's rate on BenchmarkReplicate, but v0.4.0 cannot append
	// after a crash between sealing a segment and recording the seal
	// (DESIGN.md), so it is not the default.
	StoreWAL StoreKind = "wal"
	// StoreBolt is hashicorp/raft-boltdb v2, a B+tree in one file: the
	// default.
	StoreBolt StoreKind = "bolt"
)

// Config is one replica's configuration. DefaultConfig and LoopbackConfig
// fill everything but NodeID, BindAddr and DataDir.
type Config struct {
	NodeID string // unique and stable across restarts
	// BindAddr is the host:port the Raft transport listens on. Port 0 lets
	// the OS choose (Replica.Addr tells which); the host must be a concrete
	// IP unless AdvertiseAddr is set.
	BindAddr      string
	AdvertiseAddr string // host:port other replicas dial; default BindAddr
	DataDir       string
	LogStore      StoreKind
	// LogCacheEntries keeps the newest entries in memory so the leader does
	// not read them back from disk to replicate them. 0 disables it.
	LogCacheEntries int
	// WALSegmentBytes is the size of raft-wal's segment files; 0 keeps
	// raft-wal's 64 MiB. Compaction after a snapshot removes whole
	// segments, so entries below the snapshot stay readable (and are sent
	// to lagging followers instead of the snapshot) until their segment is
	// full and every entry in it is compacted.
	WALSegmentBytes int

	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration
	MaxAppendEntries   int // entries per AppendEntries RPC, at most 1024
	TransportTimeout   time.Duration
	TransportMaxPool   int // pooled connections per peer

	SnapshotThreshold uint64        // entries since the last snapshot that trigger one
	SnapshotInterval  time.Duration // how often the threshold is checked
	SnapshotRetain    int           // snapshots kept on disk
	TrailingLogs      uint64        // entries kept in the log after a snapshot

	// Transport, if set, carries Raft's messages instead of a TCP
	// transport on BindAddr, which is then ignored: tests give
	// raft.InmemTransport, whose links they cut and heal. Raft closes it
	// on shutdown, so a replica reopened needs a new one.
	Transport raft.Transport
}

// DefaultConfig is for replicas on a LAN: hashicorp/raft's own defaults,
// which Consul and Nomad run in production.
func DefaultConfig() Config {
	return Config{
		LogStore:           StoreBolt,
		LogCacheEntries:    128,
		HeartbeatTimeout:   time.Second,
		ElectionTimeout:    time.Second,
		LeaderLeaseTimeout: 500 * time.Millisecond,
		CommitTimeout:      50 * time.Millisecond,
		MaxAppendEntries:   64,
		TransportTimeout:   10 * time.Second,
		TransportMaxPool:   3,
		SnapshotThreshold:  8192,
		SnapshotInterval:   2 * time.Minute,
		SnapshotRetain:     2,
		TrailingLogs:       10240,
	}
}

// LoopbackConfig is for replicas on one machine (dualchain cluster up):
// a round trip costs microseconds, so a leader's failure is noticed in
// well under a second, and followers learn of commits within 5 ms even
// when the log is idle. The timeouts leave room for fsync stalls, GC pauses
// and CPU starvation on a saturated two-core machine: with a 100 ms lease,
// heartbeats delayed by 100–115 ms under full load made leaders step down
// (BenchmarkCluster).
func LoopbackConfig() Config {
	c := DefaultConfig()
	c.HeartbeatTimeout = 500 * time.Millisecond
	c.ElectionTimeout = 500 * time.Millisecond
	c.LeaderLeaseTimeout = 300 * time.Millisecond
	c.CommitTimeout = 5 * time.Millisecond
	c.TransportTimeout = 2 * time.Second
	return c
}

// TestConfig is LoopbackConfig listening on a port the OS picks, with
// snapshots small and frequent enough that tests see them happen.
func TestConfig() Config {
	c := LoopbackConfig()
	c.BindAddr = "127.0.0.1:0"
	c.LogCacheEntries = 64
	c.SnapshotThreshold = 128
	c.SnapshotInterval = 50 * time.Millisecond
	c.TrailingLogs = 64
	c.WALSegmentBytes = 16 << 10 // compaction really drops entries
	return c
}

// Validate reports the first problem with c, wrapping ErrBadConfig.
func (c Config) Validate() error {
	if err := c.validateOwn(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	if err := raft.ValidateConfig(c.raftConfig()); err != nil {
		return fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	return nil
}

func (c Config) validateOwn() error {
	switch {
	case c.NodeID == "":
		return errors.New("node id is empty")
	case c.DataDir == "":
		return errors.New("data dir is empty")
	case c.LogStore != StoreWAL && c.LogStore != StoreBolt:
		return fmt.Errorf("log store %q is neither %q nor %q", c.LogStore, StoreWAL, StoreBolt)
	case c.LogCacheEntries < 0:
		return errors.New("log cache entries is negative")
	case c.SnapshotThreshold == 0:
		return errors.New("snapshot threshold is zero")
	case c.SnapshotRetain < 1:
		return errors.New("snapshot retain is below 1")
	case c.TransportTimeout <= 0 || c.TransportMaxPool < 1:
		return errors.New("transport timeout and pool must be positive")
	}
	if c.Transport != nil {
		return nil
	}
	return c.validateAddrs()
}

func (c Config) validateAddrs() error {
	host, _, err := net.SplitHostPort(c.BindAddr)
	if err != nil {
		return fmt.Errorf("bind address %q: %w", c.BindAddr, err)
	}
	if c.AdvertiseAddr != "" {
		_, err := net.ResolveTCPAddr("tcp", c.AdvertiseAddr)
		if err != nil {
			return fmt.Errorf("advertise address %q: %w", c.AdvertiseAddr, err)
		}
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		return fmt.Errorf("bind address %q is not an IP other replicas can dial; set an advertise address", c.BindAddr)
	}
	return nil
}

// raftConfig is c in hashicorp/raft's terms, without a logger.
func (c Config) raftConfig() *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(c.NodeID)
	rc.HeartbeatTimeout = c.HeartbeatTimeout
	rc.ElectionTimeout = c.ElectionTimeout
	rc.LeaderLeaseTimeout = c.LeaderLeaseTimeout
	rc.CommitTimeout = c.CommitTimeout
	rc.MaxAppendEntries = c.MaxAppendEntries
	rc.SnapshotThreshold = c.SnapshotThreshold
	rc.SnapshotInterval = c.SnapshotInterval
	rc.TrailingLogs = c.TrailingLogs
	return rc
}
