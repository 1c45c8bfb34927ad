package demo

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dualchain/dualchain/internal/audit"
	"github.com/dualchain/dualchain/internal/localcluster"
	"github.com/dualchain/dualchain/ledger"
)

func TestValidate(t *testing.T) {
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	good := DefaultConfig()
	good.Binary = "/bin/true"
	tests := []struct {
		name string
		edit func(*Config)
		want error
	}{
		{"default", func(*Config) {}, nil},
		{"memory", func(c *Config) { c.Store = localcluster.StoreMemory }, nil},
		{"absent dir", func(c *Config) { c.Dir = filepath.Join(t.TempDir(), "new") }, nil},
		{"empty dir", func(c *Config) { c.Dir = t.TempDir() }, nil},
		{"dir not empty", func(c *Config) { c.Dir = full }, ErrBadConfig},
		{"no binary", func(c *Config) { c.Binary = "" }, ErrBadConfig},
		{"two nodes", func(c *Config) { c.Nodes = 2 }, ErrBadConfig},
		{"too many nodes", func(c *Config) { c.Nodes = MaxNodes + 1 }, ErrBadConfig},
		{"few transfers", func(c *Config) { c.Transfers = MinTransfers - 1 }, ErrBadConfig},
		{"no output", func(c *Config) { c.Out = nil }, ErrBadConfig},
		{"bad store", func(c *Config) { c.Store = "disk" }, localcluster.ErrBadOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.edit(&c)
			if err := c.Validate(); !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Errorf("Validate() = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAccountNonces(t *testing.T) {
	a := &account{name: "a", key: ledger.KeyFromSeed(make([]byte, 32))}
	h0 := a.sign("c", transfer(a.addr(), 1))
	h1 := a.sign("c", transfer(a.addr(), 1))
	c0 := a.sign("c", &ledger.Tx{Chain: ledger.Cold})
	if h0.Nonce != 0 || h1.Nonce != 1 || c0.Nonce != 0 || a.hot != 2 || a.cold != 1 {
		t.Fatalf("nonces %d %d, cold %d; next %d %d; want 0 1, 0; 2 1", h0.Nonce, h1.Nonce, c0.Nonce, a.hot, a.cold)
	}
	if _, err := h1.Verify(); err != nil {
		t.Errorf("signed tx: Verify() = %v", err)
	}
	a.unsign(h0) // not the last: kept
	a.unsign(h1)
	a.unsign(c0)
	if a.hot != 1 || a.cold != 0 {
		t.Errorf("after unsign, next nonces %d %d, want 1 0", a.hot, a.cold)
	}
}

// chainOf makes a chain view holding txs, in blocks of one.
func chainOf(txs ...*ledger.Tx) *chainView {
	v := &chainView{at: make(map[ledger.Hash]place), nonces: make(map[ledger.Address][]uint64)}
	for i, tx := range txs {
		id := tx.ID()
		if _, ok := v.at[id]; ok {
			v.twice = append(v.twice, id)
		}
		v.at[id] = place{uint64(i + 1), 0}
		v.nonces[tx.From] = append(v.nonces[tx.From], tx.Nonce)
		v.txs++
		v.height = uint64(i + 1)
	}
	return v
}

func TestChainChecks(t *testing.T) {
	a := &account{name: "a", key: ledger.KeyFromSeed(make([]byte, 32))}
	b := &account{name: "b", key: ledger.KeyFromSeed([]byte(strings.Repeat("b", 32)))}
	t0 := a.sign("c", transfer(b.addr(), 1))
	t1 := a.sign("c", transfer(b.addr(), 1))
	u0 := b.sign("c", transfer(a.addr(), 1))
	acked := map[ledger.Hash]ack{t0.ID(): {block: 1}, t1.ID(): {block: 2}, u0.ID(): {block: 3}}
	tests := []struct {
		name       string
		v          *chainView
		held, once bool
	}{
		{"whole", chainOf(t0, t1, u0), true, true},
		{"lost", chainOf(t0, t1), false, false},
		{"reordered", chainOf(t1, t0, u0), false, false},
		{"twice", chainOf(t0, t1, u0, t1), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.v.held("n1", acked); got.Pass != tt.held {
				t.Errorf("held = %+v, want pass %v", got, tt.held)
			}
			if got := tt.v.once("n1", []*account{a, b}); got.Pass != tt.once {
				t.Errorf("once = %+v, want pass %v", got, tt.once)
			}
		})
	}
}

func TestNonceGap(t *testing.T) {
	a := &account{name: "a", key: ledger.KeyFromSeed(make([]byte, 32))}
	t0 := a.sign("c", transfer(a.addr(), 1))
	a.sign("c", transfer(a.addr(), 1))
	t2 := a.sign("c", transfer(a.addr(), 1))
	if got := chainOf(t0, t2).once("n1", []*account{a}); got.Pass {
		t.Errorf("once with nonce 1 missing = %+v, want a failure", got)
	}
}

func TestDisagreement(t *testing.T) {
	st := func(id string, height uint64, caughtUp bool) localcluster.NodeStatus {
		return localcluster.NodeStatus{ID: id, Status: &localcluster.Status{Height: height, CaughtUp: caughtUp}}
	}
	tests := []struct {
		name string
		sts  []localcluster.NodeStatus
		want string
	}{
		{"agree", []localcluster.NodeStatus{st("n1", 5, true), st("n2", 5, true)}, ""},
		{"behind", []localcluster.NodeStatus{st("n1", 5, true), st("n2", 4, true)}, "n1 at height 5, n2 at 4"},
		{"catching up", []localcluster.NodeStatus{st("n1", 5, true), st("n2", 5, false)}, "n2 has not caught up"},
		{"silent", []localcluster.NodeStatus{st("n1", 5, true), {ID: "n2", Err: errors.New("refused")}}, "n2 does not answer: refused"},
	}
	for _, tt := range tests {
		if got := disagreement(tt.sts); got != tt.want {
			t.Errorf("disagreement(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestReport(t *testing.T) {
	rep := Report{
		Steps: []Step{
			{N: 1, Name: "cluster up", Status: StatusPass, Summary: "ready"},
			{N: 2, Name: "redis wiped", Status: StatusSkipped, Summary: "no redis"},
			{N: 3, Name: "audit", Status: StatusFail, Summary: "1 of 2 checks failed\nmore"},
		},
		Checks: []audit.Check{{Check: "nonces", Node: "n1", Pass: true, Detail: "ok"}, {Check: "mirror", Node: "n2", Detail: "2 differ"}},
	}
	if got := rep.failures(); got != 2 {
		t.Errorf("failures() = %d, want 2: the failed step and check, not the skipped step", got)
	}
	var b strings.Builder
	if err := rep.writeTable(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"STEP / CHECK", "1. cluster up", "PASS", "2. redis wiped", "SKIPPED", "3. audit", "1 of 2 checks failed", "mirror", "n2"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), "more") {
		t.Errorf("table shows a summary's second line:\n%s", b.String())
	}
}
