package main

import (
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dualchain/dualchain/node"
	"github.com/dualchain/dualchain/vm"
	"github.com/spf13/cobra"
)

// nodeConfig parses node flags into a config without starting a node.
func nodeConfig(t *testing.T, args ...string) (node.Config, error) {
	t.Helper()
	nf := &nodeFlags{cfg: node.DefaultConfig()}
	cmd := &cobra.Command{Use: "node"}
	nf.register(cmd)
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatalf("ParseFlags(%q) = %v", args, err)
	}
	return nf.config(io.Discard)
}

func TestNodeConfigFromFlags(t *testing.T) {
	cfg, err := nodeConfig(t, "--data", "/tmp/d", "--http", "127.0.0.1:9000", "--store", "redis",
		"--redis", "redis://127.0.0.1:6390/2", "--dev", "--chain-id", "c1", "--block-interval", "20ms",
		"--max-block-txs", "500", "--mempool-size", "5000", "--nonce-window", "64", "--log-level", "debug",
		"--exec", "both", "--vm-deadline", "2s", "--max-block-gas", "50000000",
		"--id", "n2", "--raft", "127.0.0.1:9100", "--peers", "n1=127.0.0.1:9101=http://h1:1/,n2=127.0.0.1:9100=http://h2:2",
		"--admin-token", "tok", "--snapshot-threshold", "64", "--raft-log", "bolt", "--max-in-flight", "2",
		"--checkpoint-interval", "2s", "--cold-block-interval", "50ms", "--max-cold-block-txs", "300", "--cold-pool-size", "900",
		"--pprof", "--header-timeout", "3s", "--max-conns", "77", "--vm-trace", "--debug-api-delay", "200ms")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	want := node.Config{
		DataDir: "/tmp/d", HTTPAddr: "127.0.0.1:9000", Store: "redis", RedisURL: "redis://127.0.0.1:6390/2",
		Dev: true, ChainID: "c1", BlockInterval: 20 * time.Millisecond, MaxBlockTxs: 500, MaxBlockGas: 50_000_000,
		MempoolSize: 5000, NonceWindow: 64, Logger: cfg.Logger, Exec: node.ExecBoth,
		VM:     vm.Config{Deadline: 2 * time.Second, MaxPrograms: vm.DefaultConfig().MaxPrograms},
		NodeID: "n2", RaftAddr: "127.0.0.1:9100", AdminToken: "tok", MaxInFlight: 2,
		Peers:              []node.Peer{{ID: "n1", RaftAddr: "127.0.0.1:9101", URL: "http://h1:1"}, {ID: "n2", RaftAddr: "127.0.0.1:9100", URL: "http://h2:2"}},
		Raft:               node.DefaultConfig().Raft,
		CheckpointInterval: 2 * time.Second, ColdBlockInterval: 50 * time.Millisecond, MaxColdBlockTxs: 300, ColdPoolSize: 900,
		ColdCacheBytes: node.DefaultConfig().ColdCacheBytes, Pprof: true, HeaderTimeout: 3 * time.Second, MaxConns: 77,
		VMTrace: true, DebugAPIDelay: 200 * time.Millisecond,
	}
	want.Raft.SnapshotThreshold, want.Raft.LogStore = 64, node.RaftLogStore("bolt")
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("config = %+v, want %+v", cfg, want)
	}
	if cfg.Logger == nil || !cfg.Logger.Enabled(t.Context(), -4) {
		t.Error("--log-level debug: logger does not log debug")
	}
	def, err := nodeConfig(t)
	if err != nil {
		t.Fatalf("default config: %v", err)
	}
	def.Logger = nil
	if want := node.DefaultConfig(); def.Store != want.Store || def.HTTPAddr != want.HTTPAddr || def.MaxBlockTxs != want.MaxBlockTxs || def.Pprof ||
		def.VMTrace || def.DebugAPIDelay != 0 {
		t.Errorf("default config = %+v, want node.DefaultConfig's values", def)
	}
}

// TestNodeBadFlags runs the node command with settings that fail before a
// node is started.
func TestNodeBadFlags(t *testing.T) {
	n := &testNode{env: map[string]string{}}
	tests := [][]string{
		{"node", "--store", "disk"},
		{"node", "--max-block-txs", "0"},
		{"node", "--block-interval", "0s"},
		{"node", "--data", ""},
		{"node", "--log-level", "loud"},
		{"node", "--max-conns", "0"},
		{"node", "--header-timeout", "0s"},
		{"node", "--log-format", "xml"},
		{"node", "--block-interval", "fast"},
		{"node", "extra"},
		{"node", "--peers", "n1=127.0.0.1:1"},
		{"node", "--peers", "n1=a=http://x,n1=b=http://y"},
		{"node", "--join", "http://x", "--peers", "n1=a=http://x"},
		{"node", "--edge"},
		{"node", "--raft-log", "sqlite"},
		{"node", "--raft-timeouts", "wan"},
		{"node", "--id", ""},
		{"node", "--max-block-txs", "1000001", "--mempool-size", "2000000"},
		{"node", "--debug-api-delay", "-1s", "--dev"},
	}
	for _, args := range tests {
		t.Run(args[len(args)-1], func(t *testing.T) { n.run(t, args...).fails(t, 2, "usage") })
	}
}

// TestNodeDebugAPIDelayNeedsDev: --debug-api-delay is refused on a node
// without --dev, with a usage error that says so.
func TestNodeDebugAPIDelayNeedsDev(t *testing.T) {
	n := &testNode{env: map[string]string{}}
	r := n.run(t, "node", "--debug-api-delay", "200ms")
	r.fails(t, 2, "usage")
	if !strings.Contains(r.stderr, "--debug-api-delay is for dev nodes only") {
		t.Errorf("stderr = %q, want it to say --debug-api-delay is for dev nodes only", r.stderr)
	}
}

func TestNodeHelpVMTrace(t *testing.T) {
	n := &testNode{env: map[string]string{}}
	r := n.run(t, "node", "--help")
	for _, want := range []string{"--vm-trace", "call frame", "VM speed", "--exec native", "--exec vm", "--debug-api-delay", "dev nodes only"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("node --help lacks %q", want)
		}
	}
}

func TestNodeRaftTimeouts(t *testing.T) {
	lan, err := nodeConfig(t, "--raft-timeouts", "lan")
	if err != nil {
		t.Fatal(err)
	}
	loop, err := nodeConfig(t)
	if err != nil {
		t.Fatal(err)
	}
	if lan.Raft.ElectionTimeout != time.Second || loop.Raft.ElectionTimeout >= lan.Raft.ElectionTimeout {
		t.Fatalf("election timeout lan %v, loopback %v; want 1s and less", lan.Raft.ElectionTimeout, loop.Raft.ElectionTimeout)
	}
}
