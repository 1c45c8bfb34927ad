package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dualchain/dualchain/api"
	"github.com/dualchain/dualchain/api/apitest"
	"github.com/dualchain/dualchain/ledger"
	"github.com/spf13/cobra"
)

var (
	faucet = apitest.Key(1)
	bob    = apitest.Key(2)
)

// result is what one run of the CLI printed and returned.
type result struct {
	stdout, stderr string
	exit           int
}

// testNode serves the API over an apitest backend where the faucet holds
// 1,000 tokens, and writes the faucet's key file.
type testNode struct {
	url, dir, faucetKey string
	env                 map[string]string
}

func newTestNode(t *testing.T, autoCommit bool, cfg api.Config) *testNode {
	t.Helper()
	srv := httptest.NewServer(api.New(apitest.Funded(autoCommit, 1000, faucet), cfg).Handler())
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	n := &testNode{url: srv.URL, dir: dir, faucetKey: filepath.Join(dir, "faucet.key"), env: map[string]string{}}
	if err := ledger.WriteKeyFile(n.faucetKey, faucet); err != nil {
		t.Fatal(err)
	}
	return n
}

// run runs the CLI against the node (its URL goes in --node unless the
// test sets DUALCHAIN_NODE).
func (n *testNode) run(t *testing.T, args ...string) result {
	t.Helper()
	if _, ok := n.env["DUALCHAIN_NODE"]; !ok && n.url != "" && !slices.Contains(args, "--node") {
		args = append(args, "--node", n.url)
	}
	var out, errb bytes.Buffer
	exit := run(context.Background(), args, &out, &errb, func(k string) string { return n.env[k] })
	return result{out.String(), errb.String(), exit}
}

// ok checks that r succeeded with nothing on stderr.
func (r result) ok(t *testing.T) result {
	t.Helper()
	if r.exit != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q, stdout %q; want success", r.exit, r.stderr, r.stdout)
	}
	return r
}

// fails checks that r failed with exit and an error line with code.
func (r result) fails(t *testing.T, exit int, code string) {
	t.Helper()
	if r.exit != exit {
		t.Errorf("exit = %d, want %d (stderr %q)", r.exit, exit, r.stderr)
	}
	if !strings.HasPrefix(r.stderr, "error: ") || !strings.HasSuffix(r.stderr, " ("+code+")\n") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr = %q, want one line \"error: <message> (%s)\"", r.stderr, code)
	}
}

// usageCase is a command line the CLI must refuse as a usage error, and
// what its error line must say.
type usageCase struct {
	args []string
	want string // in the error line
}

// refusesUsage runs each case and checks it exits with a usage error that
// says want, printing nothing on stdout.
func (n *testNode) refusesUsage(t *testing.T, cases []usageCase) {
	t.Helper()
	for _, tt := range cases {
		r := n.run(t, tt.args...)
		r.fails(t, exitUsage, "usage")
		if !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: stderr %q, want it to say %q", tt.args, r.stderr, tt.want)
		}
		if r.stdout != "" {
			t.Errorf("%v printed %q on stdout, want nothing", tt.args, r.stdout)
		}
	}
}

func parseJSON[T any](t *testing.T, r result) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("stdout %q is not a %T: %v", r.stdout, v, err)
	}
	return v
}

func TestKeysNewShow(t *testing.T) {
	n := &testNode{dir: t.TempDir(), env: map[string]string{}}
	path := filepath.Join(n.dir, "alice.key")
	made := parseJSON[keyInfo](t, n.run(t, "keys", "new", "--out", path, "--json").ok(t))
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, want 0600", fi.Mode().Perm())
	}
	shown := parseJSON[keyInfo](t, n.run(t, "keys", "show", path, "--json").ok(t))
	if shown != made || made.File != path {
		t.Errorf("keys show = %+v, keys new = %+v; want the same address and file", shown, made)
	}
	human := n.run(t, "keys", "show", path).ok(t)
	if !strings.Contains(human.stdout, made.Address.String()) {
		t.Errorf("keys show printed %q, want the address %s", human.stdout, made.Address)
	}
	data, _ := os.ReadFile(path)
	n.run(t, "keys", "new", "--out", path).fails(t, 1, "key_exists")
	if after, _ := os.ReadFile(path); !bytes.Equal(after, data) {
		t.Error("keys new overwrote an existing key file")
	}
}

func TestKeysErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	other := apitest.Key(9)
	mismatch := write("mismatch.key", `{"type":"ed25519","address":"`+other.Address.String()+`","seed":"`+strings.Repeat("00", 32)+`"}`)
	n := &testNode{env: map[string]string{}}
	tests := []struct {
		name string
		args []string
		exit int
		code string
	}{
		{"malformed", []string{"keys", "show", write("bad.key", "{not json")}, 1, "bad_key_file"},
		{"short seed", []string{"keys", "show", write("short.key", `{"type":"ed25519","seed":"abcd"}`)}, 1, "bad_key_file"},
		{"address mismatch", []string{"keys", "show", mismatch}, 1, "bad_key_file"},
		{"missing file", []string{"keys", "show", filepath.Join(dir, "nope.key")}, 1, "no_key_file"},
		{"no file arg", []string{"keys", "show"}, 2, "usage"},
		{"two file args", []string{"keys", "show", "a", "b"}, 2, "usage"},
		{"new without --out", []string{"keys", "new"}, 2, "usage"},
		{"new in missing dir", []string{"keys", "new", "--out", filepath.Join(dir, "no", "such", "k.key")}, 1, "error"},
		{"unknown subcommand", []string{"keys", "rotate"}, 2, "usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { n.run(t, tt.args...).fails(t, tt.exit, tt.code) })
	}
}

func TestTransferWait(t *testing.T) {
	n := newTestNode(t, true, api.TestConfig())
	r := n.run(t, "transfer", "--key", n.faucetKey, "--to", bob.Address.String(), "--amount", "25", "--wait", "--json").ok(t)
	res := parseJSON[api.TxResult](t, r)
	if res.Status != api.StatusCommitted || res.Receipt == nil || res.Receipt.Status != ledger.StatusOK || res.Block != 1 {
		t.Fatalf("transfer result = %+v, want committed ok in block 1", res)
	}

	acct := parseJSON[balanceView](t, n.run(t, "balance", bob.Address.String(), "--json").ok(t))
	if acct.Balance != 25 || acct.Address != bob.Address {
		t.Errorf("balance --json = %+v, want 25", acct)
	}
	v := parseJSON[api.TxView](t, n.run(t, "tx", res.ID.String(), "--json").ok(t))
	if v.ID != res.ID || v.Amount == nil || *v.Amount != 25 || v.From != faucet.Address {
		t.Errorf("tx --json = %+v, want 25 from the faucet", v)
	}
	st := parseJSON[api.Status](t, n.run(t, "status", "--json").ok(t))
	if st.ChainID != apitest.ChainID || st.Height != 1 {
		t.Errorf("status --json = %+v, want chain %q at height 1", st, apitest.ChainID)
	}

	// The second transfer takes the next nonce from the node.
	human := n.run(t, "transfer", "--key", n.faucetKey, "--to", bob.Address.String(), "--amount", "5", "--wait").ok(t)
	wantLines(t, human.stdout, "status committed", "result ok", "block 2")
	wantLines(t, n.run(t, "balance", bob.Address.String()).ok(t).stdout, "balance 30", "nonce 0")
	wantLines(t, n.run(t, "balance", faucet.Address.String()).ok(t).stdout, "balance 970", "nonce 2")
	wantLines(t, n.run(t, "tx", res.ID.String()).ok(t).stdout, "amount 25", "status ok", "block 1 (index 0)")
	wantLines(t, n.run(t, "status").ok(t).stdout, "chain apitest", "height 2", "store memory", "exec native", "applied index 2")
}

// wantLines checks that out has each of lines as a whole line, comparing
// words (alignment is free).
func wantLines(t *testing.T, out string, lines ...string) {
	t.Helper()
	words := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	have := strings.Split(out, "\n")
	for _, l := range lines {
		found := false
		for _, h := range have {
			found = found || words(h) == words(l)
		}
		if !found {
			t.Errorf("output lacks line %q:\n%s", l, out)
		}
	}
}

func TestTransferPending(t *testing.T) {
	cfg := api.TestConfig()
	cfg.WaitTimeout = 10 * time.Millisecond
	n := newTestNode(t, false, cfg)
	args := []string{"transfer", "--key", n.faucetKey, "--to", bob.Address.String(), "--amount", "1"}
	res := parseJSON[api.TxResult](t, n.run(t, append(args, "--json")...).ok(t))
	if res.Status != api.StatusPending {
		t.Errorf("transfer without --wait = %+v, want pending", res)
	}
	// The next transfer signs with the nonce after the pending one ...
	next := parseJSON[api.TxResult](t, n.run(t, append(args, "--amount", "2", "--json")...).ok(t))
	if next.Status != api.StatusPending {
		t.Errorf("second transfer without --wait = %+v, want pending", next)
	}
	acct := parseJSON[balanceView](t, n.run(t, "balance", faucet.Address.String(), "--json").ok(t))
	if acct.Nonce != 0 || acct.PendingNonce != 2 {
		t.Errorf("balance --json = %+v, want nonce 0 and pending_nonce 2", acct)
	}
	// ... a nonce already pending is refused ...
	n.run(t, append(args, "--amount", "3", "--nonce", "0")...).fails(t, 1, "nonce_taken")
	// ... and a wait that times out says the tx is still pending.
	r := n.run(t, append(args, "--nonce", "2", "--wait")...)
	r.fails(t, 1, "pending")
	wantLines(t, r.stdout, "status pending")
}

func TestTransferErrors(t *testing.T) {
	n := newTestNode(t, true, api.TestConfig())
	to := bob.Address.String()
	key := n.faucetKey
	tests := []struct {
		name string
		args []string
		exit int
		code string
	}{
		{"no key", []string{"--to", to, "--amount", "1"}, 2, "usage"},
		{"no to", []string{"--key", key, "--amount", "1"}, 2, "usage"},
		{"no amount", []string{"--key", key, "--to", to}, 2, "usage"},
		{"zero amount", []string{"--key", key, "--to", to, "--amount", "0"}, 2, "usage"},
		{"negative amount", []string{"--key", key, "--to", to, "--amount", "-3"}, 2, "usage"},
		{"amount not a number", []string{"--key", key, "--to", to, "--amount", "lots"}, 2, "usage"},
		{"cold chain", []string{"--key", key, "--to", to, "--amount", "1", "--chain", "cold"}, 1, "not_supported"},
		{"unknown chain", []string{"--key", key, "--to", to, "--amount", "1", "--chain", "warm"}, 2, "usage"},
		{"stray argument", []string{"--key", key, "--to", to, "--amount", "1", "extra"}, 2, "usage"},
		{"bad address", []string{"--key", key, "--to", "dc12", "--amount", "1"}, 1, "bad_address"},
		{"missing key file", []string{"--key", filepath.Join(n.dir, "none.key"), "--to", to, "--amount", "1"}, 1, "no_key_file"},
		{"insufficient funds", []string{"--key", key, "--to", to, "--amount", "5000", "--wait"}, 1, "insufficient_funds"},
		{"nonce too high", []string{"--key", key, "--to", to, "--amount", "1", "--nonce", "9"}, 1, "nonce_too_high"},
		{"node unreachable", []string{"--key", key, "--to", to, "--amount", "1", "--node", "http://127.0.0.1:1"}, 1, "unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n.run(t, append([]string{"transfer"}, tt.args...)...).fails(t, tt.exit, tt.code)
		})
	}
}

func TestQueryErrors(t *testing.T) {
	n := newTestNode(t, true, api.TestConfig())
	tests := []struct {
		name string
		args []string
		exit int
		code string
	}{
		{"balance bad address", []string{"balance", "nope"}, 1, "bad_address"},
		{"balance no address", []string{"balance"}, 2, "usage"},
		{"tx unknown", []string{"tx", ledger.Hash{9}.String()}, 1, "not_found"},
		{"tx bad id", []string{"tx", "123"}, 1, "bad_hash"},
		{"status extra arg", []string{"status", "now"}, 2, "usage"},
		{"unknown command", []string{"frobnicate"}, 2, "usage"},
		{"unknown flag", []string{"status", "--colour"}, 2, "usage"},
		{"bad timeout", []string{"status", "--timeout", "soon"}, 2, "usage"},
		{"bad node URL", []string{"status", "--node", "ftp://x"}, 2, "usage"},
		{"node URL without host", []string{"status", "--node", "http://"}, 2, "usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { n.run(t, tt.args...).fails(t, tt.exit, tt.code) })
	}
}

func TestNodeFromEnvironment(t *testing.T) {
	n := newTestNode(t, true, api.TestConfig())
	n.env["DUALCHAIN_NODE"] = n.url
	st := parseJSON[api.Status](t, n.run(t, "status", "--json").ok(t))
	if st.ChainID != apitest.ChainID {
		t.Errorf("status via $DUALCHAIN_NODE = %+v", st)
	}
	n.env["DUALCHAIN_NODE"] = strings.TrimPrefix(n.url, "http://") // host:port is enough
	n.run(t, "status").ok(t)
	n.env["DUALCHAIN_NODE"] = "http://127.0.0.1:1"
	n.run(t, "status").fails(t, 1, "unreachable")
}

func TestVersionAndHelp(t *testing.T) {
	n := &testNode{env: map[string]string{}}
	v := parseJSON[struct {
		Version string `json:"version"`
		Go      string `json:"go"`
	}](t, n.run(t, "version", "--json").ok(t))
	if v.Version == "" || !strings.HasPrefix(v.Go, "go") {
		t.Errorf("version --json = %+v", v)
	}
	for _, args := range [][]string{{}, {"--help"}, {"help", "transfer"}, {"transfer", "--help"}} {
		r := n.run(t, args...).ok(t)
		if !strings.Contains(r.stdout, "Example") {
			t.Errorf("dualchain %v printed no example:\n%s", args, r.stdout)
		}
	}
}

// TestEveryCommandHasExample walks the whole command tree.
func TestEveryCommandHasExample(t *testing.T) {
	root := (&app{getenv: func(string) string { return "" }}).rootCmd()
	root.InitDefaultHelpCmd()
	var walk func(c *cobra.Command)
	count := 0
	walk = func(c *cobra.Command) {
		count++
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%q has no Example", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if count < 10 {
		t.Errorf("walked %d commands, want at least 10", count)
	}
}

func TestAccountsByKeyFile(t *testing.T) {
	n := newTestNode(t, true, api.TestConfig())
	bobFile := filepath.Join(n.dir, "bob.key")
	if err := ledger.WriteKeyFile(bobFile, bob); err != nil {
		t.Fatal(err)
	}
	n.run(t, "transfer", "--key", n.faucetKey, "--to", bobFile, "--amount", "7", "--wait").ok(t)
	wantLines(t, n.run(t, "balance", bobFile).ok(t).stdout, "address "+bob.Address.String(), "balance 7")
	n.run(t, "balance", filepath.Join(n.dir, "nobody.key")).fails(t, 1, "bad_address")
}
