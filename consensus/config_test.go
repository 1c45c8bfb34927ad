package consensus_test

import (
	"errors"
	"testing"
	"time"

	"github.com/dualchain/dualchain/consensus"
)

func TestConfigValidate(t *testing.T) {
	valid := func(c *consensus.Config) {
		c.NodeID, c.BindAddr, c.DataDir = "n1", "127.0.0.1:7001", "/tmp/n1"
	}
	tests := []struct {
		name   string
		base   func() consensus.Config
		change func(*consensus.Config)
		ok     bool
	}{
		{"default", consensus.DefaultConfig, func(*consensus.Config) {}, true},
		{"loopback", consensus.LoopbackConfig, func(*consensus.Config) {}, true},
		{"test", consensus.TestConfig, func(*consensus.Config) {}, true},
		{"bolt", consensus.DefaultConfig, func(c *consensus.Config) { c.LogStore = consensus.StoreBolt }, true},
		{"any port", consensus.DefaultConfig, func(c *consensus.Config) { c.BindAddr = "127.0.0.1:0" }, true},
		{"advertised", consensus.DefaultConfig, func(c *consensus.Config) { c.BindAddr, c.AdvertiseAddr = "0.0.0.0:7001", "10.0.0.1:7001" }, true},
		{"no node id", consensus.DefaultConfig, func(c *consensus.Config) { c.NodeID = "" }, false},
		{"no data dir", consensus.DefaultConfig, func(c *consensus.Config) { c.DataDir = "" }, false},
		{"no bind", consensus.DefaultConfig, func(c *consensus.Config) { c.BindAddr = "" }, false},
		{"no port", consensus.DefaultConfig, func(c *consensus.Config) { c.BindAddr = "127.0.0.1" }, false},
		{"unspecified host", consensus.DefaultConfig, func(c *consensus.Config) { c.BindAddr = "0.0.0.0:7001" }, false},
		{"empty host", consensus.DefaultConfig, func(c *consensus.Config) { c.BindAddr = ":7001" }, false},
		{"bad advertise", consensus.DefaultConfig, func(c *consensus.Config) { c.AdvertiseAddr = "nowhere" }, false},
		{"unknown store", consensus.DefaultConfig, func(c *consensus.Config) { c.LogStore = "pebble" }, false},
		{"no store", consensus.DefaultConfig, func(c *consensus.Config) { c.LogStore = "" }, false},
		{"zero threshold", consensus.DefaultConfig, func(c *consensus.Config) { c.SnapshotThreshold = 0 }, false},
		{"zero retain", consensus.DefaultConfig, func(c *consensus.Config) { c.SnapshotRetain = 0 }, false},
		{"tiny interval", consensus.DefaultConfig, func(c *consensus.Config) { c.SnapshotInterval = time.Millisecond }, false},
		{"lease past heartbeat", consensus.DefaultConfig, func(c *consensus.Config) { c.LeaderLeaseTimeout = 2 * time.Second }, false},
		{"election below heartbeat", consensus.DefaultConfig, func(c *consensus.Config) { c.ElectionTimeout = 100 * time.Millisecond }, false},
		{"huge batches", consensus.DefaultConfig, func(c *consensus.Config) { c.MaxAppendEntries = 4096 }, false},
		{"negative cache", consensus.DefaultConfig, func(c *consensus.Config) { c.LogCacheEntries = -1 }, false},
		{"no pool", consensus.DefaultConfig, func(c *consensus.Config) { c.TransportMaxPool = 0 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.base()
			valid(&c)
			tt.change(&c)
			err := c.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate(%+v) = %v, want nil", c, err)
			}
			if !tt.ok && !errors.Is(err, consensus.ErrBadConfig) {
				t.Fatalf("Validate(%+v) = %v, want ErrBadConfig", c, err)
			}
		})
	}
}

func TestOpenRejectsBadConfig(t *testing.T) {
	c := consensus.TestConfig()
	c.NodeID = "n1" // no data dir
	if _, err := consensus.Open(c, nil, nil); !errors.Is(err, consensus.ErrBadConfig) {
		t.Fatalf("Open(no data dir) = %v, want ErrBadConfig", err)
	}
}
